"""The ASGI HTTP cycle for one Lambda invocation.

Lambda hands over the whole request at once, so the body arrives in a
single ``http.request`` message.  The states, and the one message each
accepts::

    REQUEST  --http.response.start-->                       RESPONSE
    RESPONSE --http.response.body (more_body=True)-->       RESPONSE
    RESPONSE --http.response.body (more_body=False)-->      COMPLETE
    COMPLETE -- anything --> ProtocolError

Every way an application can end has a defined result: a complete response
stands; anything else becomes a 500 and a log line; an application still
running at its time limit is cancelled, a 504 unless its response was
complete.  ``http.disconnect`` is delivered only once the response is
complete.  Status and headers are checked as ``http.response.start``
arrives and become text (lower-case names): a bad one is a ProtocolError
raised to the application.  :class:`HTTPCycle` buffers the body for
:class:`bridge.response.LambdaSink`; :class:`StreamingHTTPCycle` hands it
to :class:`bridge.response.StreamSink` as it is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bridge._cache import remember
from bridge.checks import CR, LF, NUL, is_token, kind_of, name_for_log
from bridge.errors import ProtocolError
from bridge.response import ERROR_HEADER_SIZE, ERROR_HEADERS, request_line

if TYPE_CHECKING:  # annotations only: bridge.types costs milliseconds at import
    from bridge.response import StreamSink
    from bridge.types import ASGIApp, HTTPScope, Message, TextHeaders


logger = logging.getLogger("bridge.http")


# The states, as the descriptions the log lines use.
REQUEST = "waiting for http.response.start"
RESPONSE = "waiting for http.response.body"
COMPLETE = "response complete"

#: The message type each state accepts.
EXPECTED = {
    REQUEST: "http.response.start",
    RESPONSE: "http.response.body",
}


class HTTPCycle:
    __slots__ = (
        "_chunks",
        "_complete",
        "_request_sent",
        "_state_at_deadline",
        "_timed_out",
        "body",
        "header_size",
        "headers",
        "request_body",
        "scope",
        "state",
        "status",
    )

    def __init__(self, scope: HTTPScope, body: bytes) -> None:
        self.scope = scope
        self.request_body = body
        self.state = REQUEST
        self.status = 500
        #: As text (lower-case names), checked as they arrive.
        self.headers: TextHeaders = []
        #: The length of all header names and values.
        self.header_size = 0
        self.body = b""
        self._chunks: list[bytes] = []
        self._request_sent = False
        self._complete: asyncio.Event | None = None
        self._timed_out: float | None = None
        self._state_at_deadline = REQUEST

    async def receive(self) -> Message:
        if not self._request_sent:
            self._request_sent = True
            return {"type": "http.request", "body": self.request_body, "more_body": False}
        if self.state is not COMPLETE:
            if self._complete is None:
                self._complete = asyncio.Event()
            await self._complete.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        # The two expected messages first; anything else falls through to the error.
        if type(message) is dict or isinstance(message, Mapping):
            message_type = message.get("type")
            state = self.state
            if state is RESPONSE and message_type == "http.response.body":
                chunk = message.get("body", b"")
                if type(chunk) is not bytes:
                    if not isinstance(chunk, (bytes, bytearray, memoryview)):
                        raise ProtocolError(
                            "Expected 'body' of http.response.body to be bytes, got "
                            f"{kind_of(chunk)}."
                        )
                    chunk = bytes(chunk)
                chunks = self._chunks
                if message.get("more_body", False):
                    if chunk:
                        chunks.append(chunk)
                    return
                if chunks:  # several messages: join them (the usual single one is kept as is)
                    if chunk:
                        chunks.append(chunk)
                    chunk = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                    self._chunks = []
                self.body = chunk
                self.state = COMPLETE
                if self._complete is not None:
                    self._complete.set()
                return
            if state is REQUEST and message_type == "http.response.start":
                status = message.get("status")
                if type(status) is not int or not 100 <= status <= 999:
                    status = _status(status)
                self.headers, self.header_size = _headers(message.get("headers", ()))
                self.status = status
                self.state = RESPONSE
                return
        else:  # not a message at all: named by its type in the error below
            message_type = None
        state = self.state
        expected = EXPECTED.get(state)
        got = _message_kind(message, message_type)
        if expected is None:
            raise ProtocolError(
                f"Unexpected ASGI message {got} sent after the response was already complete."
            )
        raise ProtocolError(f"Expected ASGI message {expected!r}, but got {got}.")

    async def run(self, app: ASGIApp) -> None:
        """Run the application and leave a defined response behind."""
        try:
            result = await app(self.scope, self.receive, self.send)  # type: ignore[arg-type]
        except (Exception, asyncio.CancelledError) as exc:
            self._failed(exc)
        else:
            if result is not None:
                logger.error(
                    "ASGI callable returned %s for %s; it should return None.",
                    kind_of(result),
                    request_line(self.scope),
                )
            if self._timed_out is not None:
                self._timeout(None)
            elif self.state is not COMPLETE:
                logger.error(
                    "ASGI callable returned without completing the response (%s) for %s.",
                    self.state,
                    request_line(self.scope),
                )
                self.internal_error()

    async def completed(self, task: asyncio.Task[Any]) -> None:
        """Wait until the response is complete, or ``task`` (running :meth:`run`)
        has ended, whichever comes first: the application may go on after its
        response."""
        if self.state is COMPLETE or task.done():
            return
        complete = self._complete
        if complete is None:
            complete = self._complete = asyncio.Event()
        task.add_done_callback(lambda _: complete.set())
        await complete.wait()

    def deadline_reached(self, task: asyncio.Task[Any], time_limit: float) -> None:
        """Cancel the application (running in ``task``), which had ``time_limit`` seconds."""
        self._timed_out = time_limit
        self._state_at_deadline = self.state
        task.cancel()

    def _failed(self, exc: BaseException) -> None:
        if self._timed_out is not None:
            self._timeout(exc)
            return
        request = request_line(self.scope)
        if self.state is COMPLETE:
            logger.error(
                "Exception in ASGI application after the response was complete (%s); the "
                "response stands.",
                request,
                exc_info=exc,
            )
            return
        logger.error(
            "Exception in ASGI application (%s, %s); answering 500.",
            request,
            self.state,
            exc_info=exc,
        )
        self.internal_error()

    def _timeout(self, exc: BaseException | None) -> None:
        """The application was cancelled at its time limit and has ended:
        ``exc`` is what it raised (the cancellation itself, when it let it
        through), None when it returned."""
        request = request_line(self.scope)
        limit = (
            f"its time limit ({(self._timed_out or 0.0) * 1000:.0f} ms: the Lambda deadline "
            "minus timeout_margin_ms)"
        )
        at = self._state_at_deadline
        if at is COMPLETE:
            logger.warning(
                "ASGI application still running after its response was complete, at %s for "
                "%s; cancelled it. The response stands.",
                limit,
                request,
            )
            return
        if isinstance(exc, asyncio.CancelledError):
            logger.error(
                "ASGI application still running at %s for %s (%s); cancelled it and answered 504.",
                limit,
                request,
                at,
            )
        elif self.state is COMPLETE:  # it caught the cancellation and went on
            logger.warning(
                "ASGI application still running at %s for %s (%s); cancelled it, but it caught "
                "the cancellation and completed a response of its own (status %d), which stands.",
                limit,
                request,
                at,
                self.status,
            )
            return
        else:
            logger.error(
                "ASGI application still running at %s for %s (%s); cancelled it, and it caught "
                "the cancellation and %s; answered 504.",
                limit,
                request,
                at,
                "returned" if exc is None else f"raised {type(exc).__name__} instead",
                exc_info=exc,
            )
        self.internal_error(504, b"Gateway Timeout")

    def internal_error(self, status: int = 500, body: bytes = b"Internal Server Error") -> None:
        self.status = status
        self.headers = list(ERROR_HEADERS)
        self.header_size = ERROR_HEADER_SIZE
        self.body = body
        self._chunks = []
        self.state = COMPLETE
        if self._complete is not None:
            self._complete.set()


class StreamingHTTPCycle(HTTPCycle):
    """The HTTP cycle whose response is streamed to ``stream`` (the streamed sink).

    The status and headers go out with the first ``http.response.body``
    message (until then an error still becomes a plain 500), each body chunk
    as it is sent, and the end of the stream with the last one: the
    application may go on running after that.  An error once the stream
    has started can no longer change the status: it ends the stream with
    the error (Lambda's error trailers).  :meth:`run` ends the stream in
    every case.
    """

    __slots__ = ("_ended", "_started", "failure", "stream")

    def __init__(self, scope: HTTPScope, body: bytes, stream: StreamSink) -> None:
        super().__init__(scope, body)
        self.stream = stream
        #: What ended a stream that had started, if it did not end normally.
        self.failure: BaseException | None = None
        self._started = False
        self._ended = False

    async def send(self, message: Message) -> None:
        was = self.state
        await super().send(message)  # after the end (state COMPLETE): raises
        if was is REQUEST:  # http.response.start: nothing goes out yet
            return
        if not self._started:
            self._started = True
            await self.stream.start(self.status, self.headers)
        if self.state is RESPONSE:
            if self._chunks:  # the one chunk this message added
                await self.stream.write(self._chunks.pop())
            return
        await self.stream.write(self.body)
        self._ended = True
        await self.stream.end(None)

    async def run(self, app: ASGIApp) -> None:
        """Run the application, then end the stream, whatever happened."""
        await super().run(app)
        if self._ended:
            return
        self._ended = True
        if self._started:
            await self.stream.end(self.failure or ProtocolError("The response did not complete."))
            return
        await self.stream.start(self.status, self.headers)
        await self.stream.write(self.body)
        await self.stream.end(None)

    def _failed(self, exc: BaseException) -> None:
        if not self._started or self._ended or self._timed_out is not None:
            super()._failed(exc)
            return
        self.failure = exc
        logger.error(
            "Exception in ASGI application (%s) after its streamed response had started; "
            "the stream ends with the error (Lambda's error trailers).",
            request_line(self.scope),
            exc_info=exc,
        )
        self.internal_error()

    def internal_error(self, status: int = 500, body: bytes = b"Internal Server Error") -> None:
        if self._started and not self._ended and self.failure is None:
            # Too late for an error response: run() ends the stream with this error.
            self.failure = (
                ProtocolError("The application ended without completing its streamed response.")
                if self._timed_out is None
                else TimeoutError(
                    f"cancelled at its time limit ({self._timed_out * 1000:.0f} ms: the Lambda "
                    "deadline minus timeout_margin_ms) in the middle of its streamed response"
                )
            )
        super().internal_error(status, body)


def _message_kind(message: object, message_type: object) -> str:
    """An ASGI message as errors name it: its type when that is a plain name,
    else only what kind of object it is (never its content)."""
    if isinstance(message_type, str) and len(message_type) <= 60 and message_type.isprintable():
        return repr(message_type)
    if isinstance(message, Mapping):
        return f"one whose 'type' is {kind_of(message_type)}"
    return f"{kind_of(message)} instead of a dict"


def _status(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 999:
        return value
    got = f"{value}" if type(value) is int else kind_of(value)
    raise ProtocolError(
        f"Expected 'status' of http.response.start to be an integer from 100 to 999, got {got}."
    )


def _headers(value: Any) -> tuple[TextHeaders, int]:
    """The headers of http.response.start as text, checked (names HTTP tokens,
    values without CR, LF or NUL), and the length of all names and values."""
    headers: TextHeaders = []
    size = 0
    names = _NAMES
    problem: str | None = None
    try:
        for index, (name, raw) in enumerate(value):
            if not isinstance(raw, bytes) or not isinstance(name, bytes):
                problem = (
                    "to be [name, value] byte-string pairs, but entry "
                    f"{index} is ({type(name).__name__}, {type(raw).__name__})"
                )
                break
            key = names.get(name) if type(name) is bytes else None
            if key is None:
                if not is_token(name):
                    problem = (
                        "to have names that are HTTP tokens (letters, digits and "
                        f"!#$%&'*+-.^_`|~), but the name of entry {index} ({len(name)} bytes) "
                        "is not an HTTP token"
                    )
                    break
                key = name.decode("latin-1").lower()
                if type(name) is bytes:
                    remember(names, name, key)
            if CR in raw or LF in raw or NUL in raw:
                problem = (
                    "to have values without CR, LF or NUL, but header "
                    f"{name_for_log(key)} (entry {index}) has CR, LF or NUL"
                )
                break
            headers.append((key, raw.decode("latin-1")))
            size += len(key) + len(raw)
    except (TypeError, ValueError):
        problem = (
            f"to be an iterable of [name, value] byte-string pairs; the {type(value).__name__} "
            "given is not"
        )
    if problem is not None:
        raise ProtocolError(
            f"Expected 'headers' of http.response.start {problem} (values are not shown: "
            "they may hold cookies or credentials)."
        )
    return headers, size


#: Header names already found to be tokens -> their lower-case text.
_NAMES: dict[bytes, str] = {}
