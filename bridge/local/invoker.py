"""Call a Lambda handler the way one Lambda execution environment does.

One environment runs one invocation at a time, always on the same thread, and stops it at the
function's timeout. Its request and response payloads are JSON of at most 6 MB each. An
:class:`Invoker` keeps those rules locally: a single long-lived worker thread runs the handler,
each call waits at most ``timeout`` seconds once the handler has started, and the event and the
result both go through a JSON round trip with the size checked on the way.

A thread cannot be stopped from outside, so an invocation that times out keeps running in the
background. Lambda would have thrown the whole environment away instead; here later calls fail
at once with :class:`EnvironmentBusy` until the stuck one returns.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bridge._log import get_logger

if TYPE_CHECKING:
    from bridge.types import ResponseStream

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "EnvironmentBusy",
    "FunctionError",
    "InvocationError",
    "Invoker",
    "PayloadTooLarge",
    "ResponseNotJSON",
    "TimedOut",
]

#: Lambda's limit for synchronous invocations, request and response alike: 6 MB.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024

Handler = Callable[[Any, Any], Any]
#: Makes the context object for one invocation from (request id, timeout in milliseconds).
ContextFactory = Callable[[str, int], object]

logger = get_logger("bridge.local")


class InvocationError(Exception):
    """The invocation did not produce a result. ``error_type`` is Lambda's name for the failure."""

    error_type = "Runtime.Unknown"

    def __init__(self, message: str, request_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id

    def payload(self) -> dict[str, Any]:
        """The error document Lambda returns to the caller for this failure."""
        return {
            "errorMessage": self.message,
            "errorType": self.error_type,
            "requestId": self.request_id,
            "stackTrace": [],
        }


class FunctionError(InvocationError):
    """The handler raised. ``error_type`` is the exception's class name, as Lambda reports it."""

    def __init__(self, exc: BaseException, request_id: str) -> None:
        super().__init__(str(exc), request_id)
        self.error_type = type(exc).__name__
        frames = traceback.extract_tb(exc.__traceback__)
        self.stack_trace = traceback.format_list(frames[1:])  # drop the invoker's own frame
        self.formatted = "".join(traceback.format_exception(exc))

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "stackTrace": self.stack_trace}


class TimedOut(InvocationError):
    error_type = "Sandbox.Timedout"


class EnvironmentBusy(InvocationError):
    error_type = "Sandbox.Busy"


class PayloadTooLarge(InvocationError):
    """The event (``error_type`` RequestEntityTooLarge) or the result is over 6 MB."""

    def __init__(self, what: str, size: int, request_id: str = "") -> None:
        super().__init__(
            f"{what} payload size ({size} bytes) exceeded maximum allowed payload size "
            f"({MAX_PAYLOAD_BYTES} bytes)",
            request_id,
        )
        self.error_type = (
            "RequestEntityTooLarge" if what == "Request" else "Function.ResponseSizeTooLarge"
        )


class ResponseNotJSON(InvocationError):
    error_type = "Runtime.MarshalError"


@dataclass
class _Job:
    event: Any
    request_id: str
    timeout: float
    started: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: InvocationError | None = None
    abandoned: bool = False
    started_at: float = 0.0
    stream: ResponseStream | None = None


class Invoker:
    """Runs ``handler(event, context)`` on one worker thread, one invocation at a time."""

    def __init__(self, handler: Handler, *, timeout: float, make_context: ContextFactory) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.handler = handler
        self.timeout = timeout
        self._make_context = make_context
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._stuck: _Job | None = None
        # A daemon thread: a handler stuck past its timeout must not keep the process alive.
        self._worker = threading.Thread(target=self._work, name="bridge-local-invoker", daemon=True)
        self._worker.start()

    def invoke(self, event: Any, *, stream: ResponseStream | None = None) -> Any:
        """Run one invocation and return the handler's result after its JSON round trip.

        Raises an :class:`InvocationError` subclass for every way the invocation can fail.
        Safe to call from many threads; the calls run one after another.

        ``stream``: the handler is a :class:`~bridge.Bridge` with
        ``invoke_mode="RESPONSE_STREAM"``, awaited as ``bridge.runtime`` awaits it
        (:meth:`~bridge.Bridge.respond`) on bridge's loop; a streamed response goes to
        ``stream`` as the app sends it and the result is None. The timeout covers the whole
        stream and the app's work after it.
        """
        request_id = str(uuid.uuid4())
        body = json.dumps(event).encode()
        if len(body) > MAX_PAYLOAD_BYTES:
            raise PayloadTooLarge("Request", len(body), request_id)
        job = _Job(json.loads(body), request_id, self.timeout, stream=stream)
        self._check_not_stuck(request_id)
        self._jobs.put(job)
        while not job.started.wait(0.05):
            self._check_not_stuck(request_id)
        if not job.finished.wait(self.timeout):
            with self._lock:
                job.abandoned = True
                self._stuck = job
            raise TimedOut(f"Task timed out after {self.timeout:.2f} seconds", request_id)
        if job.error is not None:
            raise job.error
        return job.result

    @property
    def stuck(self) -> bool:
        """Whether an invocation that timed out is still running."""
        with self._lock:
            return self._stuck is not None

    def close(self) -> None:
        """Let the worker thread end once the invocations already queued have run."""
        self._jobs.put(None)

    def __enter__(self) -> Invoker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_not_stuck(self, request_id: str) -> None:
        with self._lock:
            stuck = self._stuck
        if stuck is not None:
            raise EnvironmentBusy(
                f"invocation {stuck.request_id} timed out and is still running; Lambda would "
                "have stopped it, this process cannot: wait for it to return or restart",
                request_id,
            )

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            job.started_at = time.monotonic()
            job.started.set()
            self._run(job)
            with self._lock:
                job.finished.set()
                if job.abandoned:
                    self._stuck = None
                    logger.warning(
                        "invocation %s returned %.1f s after it started, past its %.1f s timeout",
                        job.request_id,
                        time.monotonic() - job.started_at,
                        job.timeout,
                    )

    def _run(self, job: _Job) -> None:
        try:
            context = self._make_context(job.request_id, int(job.timeout * 1000))
            if job.stream is None:
                result = self.handler(job.event, context)
            else:
                result = _respond(self.handler, job.event, context, job.stream)
        except BaseException as exc:  # Lambda reports even SystemExit as the function's error
            job.error = FunctionError(exc, job.request_id)
            return
        try:
            body = json.dumps(result).encode()
        except (TypeError, ValueError) as exc:
            job.error = ResponseNotJSON(f"Unable to marshal response: {exc}", job.request_id)
            return
        if len(body) > MAX_PAYLOAD_BYTES:
            job.error = PayloadTooLarge("Response", len(body), job.request_id)
            return
        job.result = json.loads(body)


def _respond(handler: Handler, event: Any, context: Any, stream: ResponseStream) -> Any:
    """``handler.respond()`` run to its end on bridge's loop: the result (None when
    streamed), or the error the runtime would post."""
    from bridge.adapter import Bridge
    from bridge.asgi.loop import get_runner

    if not isinstance(handler, Bridge):
        raise TypeError(f"a streamed invocation needs a Bridge handler, got {handler!r}")

    async def respond() -> Any:
        answer = await handler.respond(event, context, lambda: stream)
        if answer.rest is not None:
            await answer.rest
        if answer.error is not None:
            raise answer.error
        return answer.result

    return get_runner().run(respond())
