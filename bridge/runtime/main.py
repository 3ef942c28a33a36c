"""The runtime loop: ``/next`` → the app → ``/response`` or ``/error``.

One asyncio event loop runs for the life of the process
(:func:`run_forever`): bridge's own process loop, the one the handler's
lifespan runs on.  An ASGI app is awaited on it directly
(:meth:`bridge.Bridge.respond`): its response is posted the moment it is
complete (or streamed as it is sent, with ``invoke_mode="RESPONSE_STREAM"``),
and the app may go on running (background tasks) until it returns or its
deadline; only then does that worker ask for the next invocation.  A WSGI
app is called on a named thread pool (``bridge-runtime``), its iterable's
``close()`` after the response is posted.  With one invocation at a time
and buffered answers, a WSGI app's whole cycle (``/next``, the call,
``/response``, ``close()``) runs on one thread of that pool on a blocking
connection (:meth:`Runtime._blocking_worker`): no hop through the loop.

With ``AWS_LAMBDA_MAX_CONCURRENCY=N`` (Lambda Managed Instances), N workers
each hold a connection and ask for invocations, so up to N are in flight:
N ASGI invocations at once on the one loop, each in its own task; a WSGI
app is called from N threads at once and must be thread-safe, or, with
``BRIDGE_WSGI_WORKERS=processes``, served by N worker processes, each a
runtime with one invocation at a time (:mod:`bridge.runtime.processes`).

SIGTERM (or SIGINT) stops the workers that wait for an invocation, lets
those that run one finish (at most :data:`SHUTDOWN_TIMEOUT_S`), runs the
handler's ``close()`` (lifespan shutdown), and ends the process with 0.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any, NoReturn, TypeVar

from bridge._log import get_logger
from bridge.adapter import Answer, Bridge
from bridge.asgi._eager import returned
from bridge.asgi.loop import get_runner
from bridge.errors import ApplicationError
from bridge.runtime.api import (
    Invocation,
    RuntimeAPIError,
    check_accepted,
    decode_event,
    error_body,
    error_request,
    exception_error,
    init_error_request,
    next_request,
    parse_address,
    read_invocation,
    response_request,
)
from bridge.runtime.client import BlockingConnection, Connection, Stopped
from bridge.runtime.context import ContextError, LambdaContext
from bridge.runtime.http import HTTPProtocolError, Request, Response
from bridge.runtime.link import Link
from bridge.runtime.loader import HandlerError, load_handler
from bridge.runtime.snapstart import snap_start
from bridge.runtime.stream import RuntimeStream
from bridge.snapstart import is_snap_start

__all__ = ["SHUTDOWN_TIMEOUT_S", "Runtime", "run_forever"]

T = TypeVar("T")
logger = get_logger("bridge.runtime")

#: How long SIGTERM waits for the invocations in flight, then for ``close()``.
SHUTDOWN_TIMEOUT_S = 1.5
TRACE_ENV = "_X_AMZN_TRACE_ID"
#: The variables :class:`LambdaContext` reads, read once at the start.
CONTEXT_ENV = (
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
)


#: How results are sent: compact UTF-8 JSON (one encoder, not one per result).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class Runtime:
    """A client of the Runtime API at ``address`` serving ``handler_spec``;
    ``link`` is the line to a supervisor, for a worker process."""

    def __init__(
        self,
        address: str,
        handler_spec: str | None,
        *,
        concurrency: int = 1,
        link: Link | None = None,
    ) -> None:
        parse_address(address)  # fails early on a bad address
        self.address = address
        self.handler_spec = handler_spec
        self.concurrency = concurrency
        self._link = Link() if link is None else link
        self.handler: Bridge | None = None
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="bridge-runtime"
        )
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: The workers waiting in /next (those that can be cancelled at once).
        self._idle: set[asyncio.Task[None]] = set()
        #: Whether this process sets _X_AMZN_TRACE_ID: only with one invocation at a time.
        self._trace_env = False
        #: The connection of the blocking worker (a WSGI app, one invocation at a time).
        self._blocking: BlockingConnection | None = None
        #: The function's settings the context carries, read once.
        self._environ: dict[str, str] = {}

    async def serve(self) -> int:
        """Run until SIGTERM (0) or a Runtime API failure (1); 1 when the
        handler cannot be loaded, after reporting it to ``/init/error``."""
        self._loop = loop = asyncio.get_running_loop()
        self._stop = stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with suppress(NotImplementedError, RuntimeError):  # not on Windows
                loop.add_signal_handler(signum, stop.set)
        first = Connection(self.address)
        try:
            handler = await loop.run_in_executor(self._pool, self._load)
        except Exception as exc:
            await self._report_init_error(first, exc)
            self._pool.shutdown(wait=False)
            return 1
        self.handler = handler
        if not await loop.run_in_executor(self._pool, self._link.ready):
            # The supervisor stops: another worker could not load the handler, or SIGTERM.
            first.close()
            return await self._shutdown([], handler, 0)
        self._link.watch(self.stop)  # a supervisor that dies takes its workers with it
        workers = self.concurrency
        self._trace_env = workers == 1
        self._environ = {name: os.environ[name] for name in CONTEXT_ENV if name in os.environ}
        # SnapStart: hooks, /restore/next, reseed (bridge/runtime/snapstart.py).
        if is_snap_start() and not await snap_start(first, self._run_sync):
            first.close()
            await self._shutdown([], handler, 1)
            return 1
        tasks: list[asyncio.Future[None]]
        if (
            workers == 1
            and handler.interface == "wsgi"
            and handler.invoke_mode != "RESPONSE_STREAM"
        ):
            # A WSGI app, one invocation at a time, buffered: the whole cycle
            # on one pool thread, blocking, without a hop through the loop
            # (which waits for signals meanwhile).
            first.close()
            self._blocking = blocking = BlockingConnection(self.address)
            tasks = [loop.run_in_executor(self._pool, self._blocking_worker, handler, blocking)]
        else:
            tasks = [
                loop.create_task(
                    self._worker(handler, first if n == 0 else Connection(self.address)),
                    name=f"bridge-runtime-worker-{n}",
                )
                for n in range(workers)
            ]
        stopping: asyncio.Future[Any] = loop.create_task(stop.wait())
        done, _ = await asyncio.wait([*tasks, stopping], return_when=asyncio.FIRST_COMPLETED)
        status = 0
        for task in done:
            if task is not stopping and not task.cancelled() and task.exception() is not None:
                failure = task.exception()
                logger.error("The runtime stops: %s: %s", type(failure).__name__, failure)
                status = 1
        stop.set()
        stopping.cancel()
        return await self._shutdown(tasks, handler, status)

    def stop(self) -> None:
        """Stop as SIGTERM does; callable from any thread."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with suppress(RuntimeError):  # the loop has closed already
                loop.call_soon_threadsafe(stop.set)

    async def _run_sync(self, func: Callable[[], None]) -> None:
        """``func()`` on the pool, as the handler's own code runs."""
        await asyncio.get_running_loop().run_in_executor(self._pool, func)

    def _load(self) -> Bridge:
        spec = self.handler_spec
        if not spec:
            raise HandlerError(
                "No handler: pass it as the argument (python -m bridge.runtime app.handler) "
                "or set _HANDLER.",
                "Runtime.MalformedHandlerName",
            )
        handler = load_handler(spec)
        self._link.check(handler)
        return handler

    async def _report_init_error(self, connection: Connection, exc: Exception) -> None:
        if isinstance(exc, HandlerError):
            error = error_body(exc.error_type, str(exc))
            logger.error("The function cannot start: %s", exc)
        else:
            error = exception_error(exc)
            logger.error("The function cannot start: %s: %s", type(exc).__name__, exc, exc_info=exc)
        if self._link.init_failed(error):  # the supervisor reports it, once for all workers
            connection.close()
            return
        try:
            check_accepted(await connection.exchange(init_error_request(error)), "/init/error")
        except (OSError, RuntimeAPIError, HTTPProtocolError) as post_exc:
            logger.error("Could not report the init error to the Runtime API: %s", post_exc)
        finally:
            connection.close()

    async def _worker(self, handler: Bridge, connection: Connection) -> None:
        task = asyncio.current_task()
        stop = self._stop
        link = self._link
        assert task is not None
        assert stop is not None
        try:
            while not stop.is_set():
                self._idle.add(task)
                try:
                    invocation = read_invocation(await connection.exchange(next_request()))
                finally:
                    self._idle.discard(task)
                link.begin(invocation.request_id)
                answer, rest = await self._invoke(handler, invocation, connection)
                try:
                    response = None if answer is None else await connection.exchange(answer)
                except BaseException:
                    if isinstance(rest, Coroutine):  # not started: never will be
                        rest.close()
                    raise
                if rest is not None and not returned(rest):
                    # The app goes on after its response (or streams it): the
                    # next invocation waits for it.  (An app that returned in
                    # its first step, its task done at the loop's next
                    # iteration on 3.11, has nothing left to wait for.)
                    try:
                        await rest
                    except (OSError, RuntimeAPIError, HTTPProtocolError) as exc:
                        logger.error(
                            "The streamed answer to invocation %s could not be sent: %s",
                            invocation.request_id,
                            exc,
                        )
                        connection.close()  # in an unknown state: the next request reopens it
                    except Exception as exc:
                        logger.error(
                            "The work after the response to invocation %s failed: %s: %s",
                            invocation.request_id,
                            type(exc).__name__,
                            exc,
                            exc_info=exc,
                        )
                if response is not None and response.status != 202:
                    _refused(invocation.request_id, response)
                link.end()
        finally:
            connection.close()

    def _blocking_worker(self, handler: Bridge, connection: BlockingConnection) -> None:
        """:meth:`_worker` on this pool thread, for a WSGI app with one
        invocation at a time: ``/next``, the app, ``/response``, then the
        iterable's ``close()``, all here.  :meth:`_shutdown` interrupts the
        ``/next`` it waits in."""
        stop = self._stop
        link = self._link
        assert stop is not None
        try:
            while not stop.is_set():
                try:
                    response = connection.exchange(next_request(), interruptible=True)
                except Stopped:
                    return
                invocation = read_invocation(response)
                request_id = invocation.request_id
                link.begin(request_id)
                read = self._event(invocation)
                close = None
                if isinstance(read, Request):
                    answer = read
                else:
                    try:
                        result, error, close = handler.respond_blocking(*read)
                    except Exception as exc:
                        answer = self._failure(request_id, exc)
                    else:
                        if error is not None:
                            answer = self._failure(request_id, error)
                        else:
                            answer = self._result(request_id, result)
                try:
                    response = connection.exchange(answer)
                finally:
                    if close is not None:
                        close()  # after the post; an exception is logged
                if response.status != 202:
                    _refused(request_id, response)
                link.end()
        finally:
            connection.close()

    def _event(self, invocation: Invocation) -> tuple[Any, LambdaContext] | Request:
        """The event and context of ``invocation``, or the error request when
        they cannot be read."""
        request_id = invocation.request_id
        try:
            context = LambdaContext(invocation, self._environ)
        except ContextError as exc:
            return error_request(
                request_id, error_body("Runtime.LambdaContextUnmarshalError", str(exc))
            )
        try:
            event = decode_event(invocation.body)
        except ValueError as exc:
            return error_request(
                request_id, error_body("Runtime.UnmarshalError", f"The event is not JSON: {exc}")
            )
        if self._trace_env:
            if invocation.trace_id:
                os.environ[TRACE_ENV] = invocation.trace_id
            else:
                os.environ.pop(TRACE_ENV, None)
        return event, context

    async def _invoke(
        self, handler: Bridge, invocation: Invocation, connection: Connection
    ) -> tuple[Request | None, Awaitable[None] | None]:
        """The request that answers ``invocation`` (None when streamed on
        ``connection``), and the app still running after its response (to
        await before the next invocation)."""
        read = self._event(invocation)
        if isinstance(read, Request):
            return read, None
        event, context = read
        request_id = invocation.request_id
        streams: list[RuntimeStream] = []
        stream: Callable[[], RuntimeStream] | None = None
        if handler.invoke_mode == "RESPONSE_STREAM":  # respond() opens none otherwise

            def stream() -> RuntimeStream:
                streams.append(RuntimeStream(connection, request_id))
                return streams[-1]

        try:
            answer: Answer = await handler.respond(event, context, stream, executor=self._pool)
        except Exception as exc:
            return self._failure(request_id, exc), None
        if answer.error is not None:
            return self._failure(request_id, answer.error), answer.rest
        if answer.result is None:
            return None, _after(answer.rest, streams)
        return self._result(request_id, answer.result), answer.rest

    @staticmethod
    def _failure(request_id: str, exc: BaseException) -> Request:
        """The error request for ``exc``, raised by the handler, logged."""
        if isinstance(exc, ApplicationError):
            # Its message quotes the answer's body: that goes to Lambda, not to the log.
            logger.error(
                "Invocation %s failed: the application answered %s with status %d.",
                request_id,
                exc.request,
                exc.status,
            )
        else:
            logger.error(
                "Invocation %s failed: %s: %s", request_id, type(exc).__name__, exc, exc_info=exc
            )
        return error_request(request_id, exception_error(exc))

    @staticmethod
    def _result(request_id: str, result: Any) -> Request:
        """The buffered ``/response`` of ``result``, or the error when it is not JSON."""
        try:
            body = _ENCODER.encode(result).encode()
        except (TypeError, ValueError) as exc:
            logger.error("The result of invocation %s is not JSON: %s", request_id, exc)
            return error_request(
                request_id,
                error_body(
                    "Runtime.MarshalError", f"The handler's result cannot be sent as JSON: {exc}"
                ),
            )
        return response_request(request_id, body)

    async def _shutdown(
        self, tasks: list[asyncio.Future[None]], handler: Bridge, status: int
    ) -> int:
        """Stop the workers, close the handler, all within :data:`SHUTDOWN_TIMEOUT_S`."""
        give_up = time.monotonic() + SHUTDOWN_TIMEOUT_S
        for idle in list(self._idle):
            idle.cancel()
        if self._blocking is not None:
            self._blocking.stop()
        pending: set[asyncio.Future[None]] = {task for task in tasks if not task.done()}
        if pending:
            _, pending = await asyncio.wait(pending, timeout=max(0.0, give_up - time.monotonic()))
        for task in tasks:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: a failure was logged by serve()
        if pending:
            logger.warning(
                "%d invocation(s) still running after %.1f s; exiting without waiting for them.",
                len(pending),
                SHUTDOWN_TIMEOUT_S,
            )
            for task in pending:
                task.cancel()
            # The handler is busy on a thread that cannot be stopped: closing it
            # now would run its shutdown concurrently with the invocation.
            _exit_now(status)
        loop = asyncio.get_running_loop()
        closing = loop.run_in_executor(self._pool, handler.close)
        try:
            await asyncio.wait_for(closing, timeout=max(0.1, give_up - time.monotonic()))
        except asyncio.TimeoutError:
            logger.warning("close() did not finish within %.1f s; exiting.", SHUTDOWN_TIMEOUT_S)
            _exit_now(status)
        except Exception as exc:
            logger.error("close() failed: %s: %s", type(exc).__name__, exc, exc_info=exc)
        self._pool.shutdown(wait=True)
        return status


def _refused(request_id: str, response: Response) -> None:
    # Lambda has failed the invocation already (a result over its limit, a
    # deadline passed): the next one is still served.
    logger.error(
        "The Runtime API refused the answer to invocation %s: %d %s",
        request_id,
        response.status,
        response.body[:200],
    )


def _after(rest: Awaitable[None] | None, streams: list[RuntimeStream]) -> Awaitable[None] | None:
    """The app's task, then the end of its stream (which outlives the app's
    cancellation): what the worker awaits before its next invocation."""
    if rest is None:
        return None

    async def both() -> None:
        try:
            await rest
        finally:
            for stream in streams:
                if stream.ended is not None:
                    await stream.ended

    return asyncio.get_running_loop().create_task(both())


def _exit_now(status: int) -> NoReturn:  # pragma: no cover - tested in a process of its own
    """End the process without joining the pool's threads (one is stuck)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def run_forever(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``main()`` on bridge's process loop (:mod:`bridge.asgi.loop`), the one
    loop of the process, for as long as it runs: the loop the lifespan of
    the handler runs on, and every ASGI invocation."""
    return get_runner().serve(main())
