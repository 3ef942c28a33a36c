"""``Bridge``: the Lambda handler in front of a WSGI or ASGI application."""

from __future__ import annotations

import os
import sys
from contextvars import copy_context

from bridge import options
from bridge._log import get_logger
from bridge.apps import detect_interface
from bridge.body import BodySerializer
from bridge.errors import BridgeError, ConfigurationError, MalformedEventError
from bridge.response import LambdaSink, StreamSink
from bridge.sources import WEBSOCKET, EventSource, SourceConfig, SourceSelector
from bridge.sources.function_url import SOURCE as FUNCTION_URL_SOURCE
from bridge.sources.request import normalize_base_path
from bridge.sources.rest import SOURCE as REST_SOURCE
from bridge.wsgi.environ import to_environ
from bridge.wsgi.response import respond
from bridge.wsgi.runner import WSGIRunner

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable
    from concurrent.futures import Executor
    from typing import Any

    from bridge.asgi.runner import ASGIRunner
    from bridge.types import (
        InterfaceMode,
        InvokeMode,
        LambdaContext,
        LambdaEvent,
        LambdaResponse,
        LifespanMode,
        ResponseStream,
    )
    from bridge.websocket.handler import WebSocketHandler
    from bridge.websocket.management import ManagementClient
    from bridge.websocket.stores import ConnectionStore
    from bridge.wsgi.response import WSGIResponse


logger = get_logger("bridge")


class Bridge:
    """A Lambda handler for a WSGI or ASGI application::

        handler = Bridge(app)

    Every argument but ``app`` is keyword-only; the README's "Options" section
    describes each.  Mangum's ``enable_lifespan=True|False`` is accepted as a
    deprecated alias of ``lifespan="auto"|"off"``; any other keyword raises
    :class:`~bridge.errors.ConfigurationError` naming the closest option.
    """

    @options.mangum_aliases
    def __init__(
        self,
        app: Any,
        *,
        interface: InterfaceMode = "auto",
        lifespan: LifespanMode = "auto",
        api_gateway_base_path: str = "/",
        text_mime_types: Iterable[str] | None = None,
        exclude_headers: Iterable[str] | None = None,
        custom_handlers: Iterable[object] | None = None,
        source: str | EventSource = "auto",
        timeout_margin_ms: int | None = 500,
        websocket_store: str | ConnectionStore | None = None,
        websocket_endpoint: str | ManagementClient | None = None,
        websocket_path: str = "/",
        non_http_path: str | None = None,
        error_statuses: Iterable[int] | None = None,
        invoke_mode: InvokeMode = "BUFFERED",
        **unknown: object,
    ) -> None:
        options.no_unknown(unknown, Bridge.__init__)
        lifespan = options.lifespan(lifespan)
        self.timeout_margin_ms = options.timeout_margin_ms(timeout_margin_ms)
        self.invoke_mode = options.invoke_mode(invoke_mode)
        self.app = app
        self.interface = detect_interface(app, interface)
        self.config = SourceConfig(
            base_path=normalize_base_path(api_gateway_base_path),
            serializer=BodySerializer(text_mime_types),
        )
        self.exclude_headers = options.exclude_headers(exclude_headers)
        events = None
        if non_http_path is not None:
            from bridge.events import check_path, events_source

            events = events_source(check_path(non_http_path))
        #: The one decision that picks the source of each event.
        self.selector = SourceSelector(custom_handlers or (), source, events)
        #: Where every buffered answer goes (bridge/response.py).
        self._sink = LambdaSink(
            self.config, self.exclude_headers, options.error_statuses(error_statuses)
        )
        options.asgi_only(self.interface, lifespan, websocket_store)
        self._websocket_options = (websocket_store, websocket_endpoint, websocket_path)
        self._websocket: WebSocketHandler | None = None
        #: asyncio._get_running_loop, once asyncio has been imported.
        self._running_loop: Callable[[], object] | None = None
        if websocket_store is not None or websocket_endpoint is not None or websocket_path != "/":
            self._websocket = self._make_websocket_handler()
        #: The runner, as served: WSGI or ASGI.
        self._wsgi: WSGIRunner | None = None
        self._asgi: ASGIRunner | None = None
        if self.interface == "wsgi":
            self._wsgi = WSGIRunner(app)
        else:
            from bridge.asgi.runner import ASGIRunner, as_asgi3

            asgi_app = as_asgi3(app, self.interface == "asgi2")
            self._asgi = ASGIRunner(asgi_app, lifespan, self.timeout_margin_ms)
        if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
            # Every copy restored from the snapshot reseeds random (bridge/snapstart.py).
            from bridge.snapstart import ensure_reseed

            ensure_reseed()

    def __call__(self, event: Any, context: LambdaContext | None = None) -> Any:
        """The Lambda response to an HTTP or WebSocket event; for any other
        event, the invocation result ``non_http_path`` gives (see
        :mod:`bridge.events`)."""
        source = self.selector.select(event)
        if isinstance(source, str):  # not an HTTP request
            if source == WEBSOCKET:
                return self._websocket_event(event, context)
            logger.debug("Answered a serverless-plugin-warmup ping with {}.")
            return {}
        read = source.read
        wsgi = self._wsgi
        if wsgi is not None and read is not None:
            try:
                environ = read(event, context, self.config, to_environ)
            except Exception as exc:
                return self._unreadable(source, event, exc)
            # The application is called on this thread unless an event loop runs
            # here (bridge/wsgi/runner.py says why).  Without asyncio imported no
            # loop can be running; once it is, its _get_running_loop is kept.
            running_loop = self._running_loop
            if running_loop is None:
                asyncio = sys.modules.get("asyncio")
                if asyncio is not None:
                    running_loop = self._running_loop = asyncio._get_running_loop
            if running_loop is None or running_loop() is None:
                # In a copy of the invoking context: context variables the
                # request sets do not leak into the next one (as ASGI requests,
                # each a task, are isolated).
                response = copy_context().run(respond, wsgi.app, environ)
            else:
                response = wsgi.respond(environ)
            return self._wsgi_answer(source, event, environ, response)
        try:
            scope, body = source.to_request(event, context, self.config)
        except Exception as exc:
            return self._unreadable(source, event, exc)
        if self._asgi is not None:
            cycle = self._asgi.handle(scope, body)
            return self._sink.answer(
                source, event, scope, cycle.status, cycle.headers, cycle.body, cycle.header_size
            )
        assert wsgi is not None
        return self._wsgi_answer(source, event, scope, wsgi.handle(scope, body))

    async def respond(
        self,
        event: Any,
        context: LambdaContext | None = None,
        stream: Callable[[], ResponseStream] | None = None,
        *,
        executor: Executor | None = None,
    ) -> Answer:
        """The answer to an event, awaited on the *running* loop: ``bridge.runtime``'s
        entry, any number at once (docs/runtime.rst, "The seam").  With
        ``invoke_mode="RESPONSE_STREAM"`` a function URL or REST event is
        answered on the stream ``stream()`` opens.  A WSGI app runs on
        ``executor`` (None: the loop's default), as does the handler itself for
        any event ``respond`` does not serve (WebSocket, a warm-up ping, a
        custom source for WSGI).
        """
        import asyncio

        loop = asyncio.get_running_loop()
        source = self.selector.select(event)
        wsgi = self._wsgi
        if isinstance(source, str) or (wsgi is not None and source.read is None):
            result = await loop.run_in_executor(executor, copy_context().run, self, event, context)
            return Answer(result, None, None)
        # The one decision between the sinks: with a stream the app's answer
        # goes to a StreamSink as it comes, without one to the LambdaSink whole.
        if self.invoke_mode != "RESPONSE_STREAM" or not (
            source is FUNCTION_URL_SOURCE or source is REST_SOURCE
        ):
            stream = None
        try:
            if wsgi is not None:
                assert source.read is not None
                environ = source.read(event, context, self.config, to_environ)
            else:
                scope, body = source.to_request(event, context, self.config)
        except Exception as exc:
            if stream is None:
                return Answer(self._unreadable(source, event, exc), None, None)
            rejection = self._rejection(source, exc)
            rejected = StreamSink(stream(), self.exclude_headers).error(*rejection)
            return Answer(None, None, loop.create_task(rejected))
        sink = None if stream is None else StreamSink(stream(), self.exclude_headers)
        if wsgi is not None:
            run = copy_context().run
            if sink is not None:
                from bridge.runtime.wsgi import stream_response

                streaming = loop.run_in_executor(
                    executor, run, stream_response, wsgi.app, environ, sink, loop
                )
                return Answer(None, None, streaming)
            answered = loop.run_in_executor(
                executor, run, self._respond_deferred, wsgi.app, source, event, environ
            )
            result, error, close = await answered
            # close() once awaited: after the response is posted.
            return Answer(result, error, None if close is None else _closing(close, executor))
        runner = self._asgi
        assert runner is not None
        if sink is not None:
            return Answer(None, None, runner.start(scope, body, sink)[1])
        cycle, task = runner.start(scope, body)
        await cycle.completed(task)
        running = None if task.done() else task
        try:
            result = self._sink.answer(
                source, event, scope, cycle.status, cycle.headers, cycle.body, cycle.header_size
            )
            return Answer(result, None, running)
        except BridgeError as exc:
            return Answer(None, exc, running)

    def respond_blocking(
        self, event: Any, context: LambdaContext | None = None
    ) -> tuple[Any, BaseException | None, Callable[[], None] | None]:
        """:meth:`respond` for a WSGI app and a buffered answer, on *this*
        thread, which runs no event loop: ``bridge.runtime``'s entry with one
        invocation at a time.  The result (or the error to report instead)
        and the iterable's ``close()``, to call once the result is posted.
        """
        wsgi = self._wsgi
        if wsgi is None:
            raise TypeError(f"respond_blocking() serves WSGI apps only, not {self.app!r}.")
        source = self.selector.select(event)
        if isinstance(source, str) or source.read is None:
            return copy_context().run(self, event, context), None, None
        try:
            environ = source.read(event, context, self.config, to_environ)
        except Exception as exc:
            return self._unreadable(source, event, exc), None, None
        # In a copy of the invoking context, as respond() and __call__ do.
        return copy_context().run(self._respond_deferred, wsgi.app, source, event, environ)

    def _respond_deferred(
        self, app: Any, source: EventSource, event: Any, environ: dict[str, Any]
    ) -> tuple[Any, BaseException | None, Callable[[], None] | None]:
        """:meth:`respond_blocking`'s result, for ``respond`` too: the iterable's
        ``close()`` is kept to run once the response is posted."""
        from bridge.runtime.wsgi import DeferredClose

        deferred = DeferredClose(app)
        response = respond(deferred, environ)
        after = deferred.close if deferred.pending else None
        try:
            return self._wsgi_answer(source, event, environ, response), None, after
        except BridgeError as exc:
            return None, exc, after

    def _wsgi_answer(
        self, source: EventSource, event: LambdaEvent, request: Any, response: WSGIResponse
    ) -> LambdaResponse:
        """The Lambda response to the WSGI ``response`` to ``request`` (an environ,
        or the scope of a custom source)."""
        chunks = response.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return self._sink.answer(
            source, event, request, response.status, response.headers, body, response.header_size
        )

    def _unreadable(self, source: EventSource, event: Any, exc: Exception) -> LambdaResponse:
        """The answer to an event ``source`` could not read (a 4xx), and a warning."""
        return self._sink.error(source, event, *self._rejection(source, exc))

    @staticmethod
    def _rejection(source: EventSource, exc: Exception) -> tuple[int, str]:
        """The status and message that answer an event ``source`` could not
        read, logged; a BridgeError but a MalformedEventError is raised."""
        if isinstance(exc, MalformedEventError):
            logger.warning("Rejected a %s event: %s", source.name, exc)
            return exc.status, f"Bad request: {exc}"
        if isinstance(exc, BridgeError):
            raise exc
        logger.warning(
            "Rejected a %s event that could not be read: %s: %s",
            source.name,
            type(exc).__name__,
            exc,
        )
        return 400, f"Bad request: {source.name} event could not be read: {exc}"

    def _make_websocket_handler(self) -> WebSocketHandler:
        from bridge.websocket.handler import WebSocketHandler

        return WebSocketHandler(*self._websocket_options)

    def _websocket_event(self, event: LambdaEvent, context: LambdaContext | None) -> LambdaResponse:
        runner = self._asgi
        if runner is None:
            raise ConfigurationError(
                "Received an API Gateway WebSocket event, but the application is served as "
                "WSGI, which has no WebSockets. Route the WebSocket API to an ASGI application "
                "that handles scope type 'websocket'."
            )
        if self._websocket is None:
            self._websocket = self._make_websocket_handler()
        return self._websocket.handle(
            event,
            context,
            app=runner.app,
            runner=runner.runner,
            state=runner.lifespan.state,
            serializer=self.config.serializer,
            watchdog=runner.watchdog,
            margin_ms=runner.margin_ms,
        )

    def close(self) -> None:
        """Run lifespan shutdown now instead of at process exit; close the
        WebSocket store and clients that bridge opened."""
        if self._asgi is not None:
            self._asgi.close()
        if self._websocket is not None:
            self._websocket.close()

    def __repr__(self) -> str:
        return f"Bridge({self.app!r}, interface={self.interface!r})"


class Answer:
    """What :meth:`bridge.Bridge.respond` gives back."""

    __slots__ = ("error", "rest", "result")

    def __init__(
        self, result: Any, error: BaseException | None, rest: Awaitable[None] | None
    ) -> None:
        #: The Lambda result to post; None when the response is streamed.
        self.result = result
        #: The failure to report instead (a status in ``error_statuses``).
        self.error = error
        #: The application, still running after its response (or streaming
        #: it), or the WSGI iterable's close(), which starts when awaited: to
        #: await once the result is posted, before the next invocation.
        self.rest = rest


async def _closing(close: Callable[[], None], executor: Executor | None) -> None:
    import asyncio

    await asyncio.get_running_loop().run_in_executor(executor, close)
