"""``Bridge``: the Lambda handler in front of a WSGI or ASGI application."""

from __future__ import annotations

import os
import sys
from contextvars import copy_context

from bridge._log import get_logger
from bridge.apps import detect_interface
from bridge.body import BodySerializer
from bridge.checks import (
    LAMBDA_RESPONSE_LIMIT,
    encoded_size,
    header_problem,
    might_be_too_large,
    needs_a_closer_look,
)
from bridge.errors import BridgeError, ConfigurationError, MalformedEventError
from bridge.sources import WEBSOCKET, EventSource, SourceConfig, SourceSelector
from bridge.sources.function_url import SOURCE as FUNCTION_URL_SOURCE
from bridge.sources.request import normalize_base_path
from bridge.sources.rest import SOURCE as REST_SOURCE
from bridge.wsgi.environ import to_environ
from bridge.wsgi.response import raw_headers, respond

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable
    from concurrent.futures import Executor
    from typing import Any, ParamSpec

    _P = ParamSpec("_P")

    from bridge.asgi.http import ResponseStream
    from bridge.asgi.runner import ASGIRunner
    from bridge.types import (
        Headers,
        HTTPScope,
        InterfaceMode,
        InvokeMode,
        LambdaContext,
        LambdaEvent,
        LambdaResponse,
        LifespanMode,
    )
    from bridge.websocket.handler import WebSocketHandler
    from bridge.websocket.management import ManagementClient
    from bridge.websocket.stores import ConnectionStore
    from bridge.wsgi.response import WSGIResponse
    from bridge.wsgi.runner import WSGIRunner


logger = get_logger("bridge")


def _mangum_aliases(init: Callable[_P, None]) -> Callable[_P, None]:
    """Map Mangum's old ``enable_lifespan`` to ``lifespan`` (with a DeprecationWarning),
    before defaults are applied, so that giving both can be refused."""

    def __init__(*args: _P.args, **kwargs: _P.kwargs) -> None:
        if "enable_lifespan" in kwargs:
            enable = kwargs.pop("enable_lifespan")
            if "lifespan" in kwargs:
                raise ConfigurationError(
                    f"Both lifespan={kwargs['lifespan']!r} and enable_lifespan={enable!r} were "
                    "given; drop enable_lifespan (Mangum's old name) and keep lifespan."
                )
            if not isinstance(enable, bool):
                raise ConfigurationError(
                    f"enable_lifespan must be True or False, got {enable!r}; better, use "
                    "lifespan='auto' or lifespan='off'."
                )
            mode = "auto" if enable else "off"
            import warnings

            warnings.warn(
                f"enable_lifespan={enable!r} is Mangum's old option; use lifespan={mode!r}.",
                DeprecationWarning,
                stacklevel=2,
            )
            kwargs["lifespan"] = mode
        init(*args, **kwargs)

    __init__.__doc__ = init.__doc__
    __init__.__qualname__ = init.__qualname__
    __init__.__wrapped__ = init  # type: ignore[attr-defined]
    return __init__


class Bridge:
    """A Lambda handler for a WSGI or ASGI application::

        handler = Bridge(app)

    Every argument but ``app`` is keyword-only:

    ``interface``
        ``"auto"`` (detect), ``"asgi"`` or ``"wsgi"``.
    ``lifespan``
        ``"auto"`` (run it if the app supports it), ``"on"`` (fail at init if
        startup fails) or ``"off"``.  ASGI only.
    ``api_gateway_base_path``
        A path prefix (a custom domain's base path mapping) that the
        application does not know about; it becomes ``root_path``/``SCRIPT_NAME``.
    ``text_mime_types``
        Content types to send as text, in addition to the defaults.
    ``exclude_headers``
        Response headers never passed on, for every source.
    ``custom_handlers``
        Extra event sources, tried before the built-in ones.
    ``source``
        ``"auto"`` (detect per event) or the name of one source to always use.
    ``timeout_margin_ms``
        An ASGI application still running this many milliseconds before the
        Lambda deadline (``context.get_remaining_time_in_millis()``) is
        cancelled and answered with 504; ``None`` turns this off.
    ``websocket_store``
        Where WebSocket connections are kept between invocations: a URL
        (``sqlite:///file.db``, ``redis://``, ``postgresql://``,
        ``dynamodb://TABLE?region=REGION``) or a store object.  Needed for
        API Gateway WebSocket events, which an ASGI app then serves.
    ``websocket_endpoint``
        The Management API endpoint (URL, or a client object) used to send to
        WebSocket clients; by default ``https://{domainName}/{stage}`` of each event.
    ``websocket_path``
        The path WebSocket connections have in the app's scope (API Gateway
        passes none); ``"/"`` by default.
    ``non_http_path``
        Where events that are not HTTP requests (SQS, SNS, S3, schedules...)
        go: ``POST`` to this path with the event as JSON, the answer being the
        invocation's result (see :mod:`bridge.events`).  ``None`` (the
        default): such events raise ``UnknownEventError``.
    ``error_statuses``
        HTTP statuses (``{500, 502, 503, 504}``) that fail the invocation
        with ``ApplicationError`` instead of being answered; none by default.
    ``invoke_mode``
        ``"BUFFERED"`` (the default) or ``"RESPONSE_STREAM"``: under
        ``python -m bridge.runtime``, stream the responses to function URL
        and API Gateway REST events as the app sends them (the function URL's
        invoke mode, or the integration's transfer mode, must match).  Other
        runtimes and other sources always get buffered responses.

    Mangum's ``enable_lifespan=True|False`` is accepted as a deprecated alias
    of ``lifespan="auto"|"off"``; any other keyword raises
    :class:`~bridge.errors.ConfigurationError` naming the closest option.
    """

    @_mangum_aliases
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
        if unknown:
            raise ConfigurationError(_unknown_option(sorted(unknown)))
        if lifespan not in ("auto", "on", "off"):
            raise ConfigurationError(f"lifespan must be 'auto', 'on' or 'off', got {lifespan!r}.")
        if timeout_margin_ms is not None and (
            not isinstance(timeout_margin_ms, int)
            or isinstance(timeout_margin_ms, bool)
            or timeout_margin_ms < 0
        ):
            raise ConfigurationError(
                "timeout_margin_ms must be a number of milliseconds (0 or more) or None, "
                f"got {timeout_margin_ms!r}."
            )
        if invoke_mode not in ("BUFFERED", "RESPONSE_STREAM"):
            raise ConfigurationError(
                f"invoke_mode must be 'BUFFERED' or 'RESPONSE_STREAM' (the function URL's "
                f"InvokeMode setting), got {invoke_mode!r}."
            )
        self.invoke_mode = invoke_mode
        self.timeout_margin_ms = timeout_margin_ms
        self.app = app
        self.interface = detect_interface(app, interface)
        self.config = SourceConfig(
            base_path=normalize_base_path(api_gateway_base_path),
            serializer=BodySerializer(text_mime_types),
        )
        self.exclude_headers = _header_names(exclude_headers)
        #: The same names as text, for WSGI responses.
        self._exclude_text = frozenset(name.decode("latin-1") for name in self.exclude_headers)
        #: The one decision that picks the source of each event.
        self.selector = SourceSelector(
            custom_handlers or (),
            source,
            None if non_http_path is None else _events_source(non_http_path),
        )
        self._error_statuses = _statuses(error_statuses)
        if websocket_store is not None and self.interface == "wsgi":
            raise ConfigurationError(
                "websocket_store was given, but the application is served as WSGI, which has "
                "no WebSockets. Serve an ASGI application (interface='asgi' if detection "
                "got it wrong)."
            )
        self._websocket_options = (websocket_store, websocket_endpoint, websocket_path)
        self._websocket: WebSocketHandler | None = None
        #: asyncio._get_running_loop, once asyncio has been imported.
        self._running_loop: Callable[[], object] | None = None
        if websocket_store is not None or websocket_endpoint is not None or websocket_path != "/":
            self._websocket = self._make_websocket_handler()
        #: The runner, as served: WSGI or ASGI.
        self._wsgi: WSGIRunner | None = None
        self._asgi: ASGIRunner | None = None
        self._runner: WSGIRunner | ASGIRunner
        if self.interface == "wsgi":
            self._runner = self._wsgi = self._make_wsgi_runner(app, lifespan)
        else:
            self._runner = self._asgi = self._make_asgi_runner(app, lifespan)
        if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
            # Every copy restored from the snapshot reseeds random (bridge/snapstart.py).
            from bridge.snapstart import ensure_reseed

            ensure_reseed()

    @staticmethod
    def _make_wsgi_runner(app: Any, lifespan: LifespanMode) -> WSGIRunner:
        if lifespan == "on":
            raise ConfigurationError(
                "lifespan='on' needs an ASGI application, but this one is served as WSGI. "
                "Use lifespan='auto' or 'off', or interface='asgi' if it is ASGI."
            )
        from bridge.wsgi import WSGIRunner  # type: ignore[import-not-found,unused-ignore]

        return WSGIRunner(app)

    def _make_asgi_runner(self, app: Any, lifespan: LifespanMode) -> ASGIRunner:
        from bridge.asgi.runner import ASGIRunner, as_asgi3

        return ASGIRunner(
            as_asgi3(app, self.interface == "asgi2"), lifespan, self.timeout_margin_ms
        )

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
            return self._wsgi_response(source, event, environ, wsgi)
        try:
            scope, body = source.to_request(event, context, self.config)
        except Exception as exc:
            return self._unreadable(source, event, exc)
        return self._answer(source, event, scope, self._runner.handle(scope, body))

    def _answer(
        self,
        source: EventSource,
        event: Any,
        scope: HTTPScope,
        answer: tuple[int, Headers, bytes],
    ) -> LambdaResponse:
        """The Lambda response to the app's answer to ``scope`` (ASGI, or a custom source)."""
        status, headers, body = answer
        if status in self._error_statuses:
            raise _status_error(status, scope, body)
        if self.exclude_headers:
            headers = [h for h in headers if h[0].lower() not in self.exclude_headers]
        if needs_a_closer_look(headers, body, source.response_limit or LAMBDA_RESPONSE_LIMIT):
            return self._checked_response(
                source, event, scope, status=status, headers=headers, body=body
            )
        return source.to_response(event, status, headers, body, self.config)

    async def respond(
        self,
        event: Any,
        context: LambdaContext | None = None,
        stream: Callable[[], ResponseStream] | None = None,
        *,
        executor: Executor | None = None,
    ) -> Answer:
        """The answer to an event, awaited on the *running* loop: ``bridge.runtime``'s
        entry, any number at once.

        An ASGI app runs on this loop; a WSGI app on ``executor`` (the loop's
        default one when None).  It returns as soon as the response is
        complete, the app possibly still running (``rest``: ASGI background
        tasks, code after the last ``send``, a WSGI iterable's ``close()``).
        With ``invoke_mode="RESPONSE_STREAM"``, a function URL or REST event
        is answered on the stream ``stream()`` opens, as the app sends it:
        the result is then None, and ``rest`` ends with the stream.  Any other
        event (WebSocket, a warm-up ping, a custom source for WSGI) is
        answered by the handler itself on ``executor``.
        """
        import asyncio
        from contextvars import copy_context

        loop = asyncio.get_running_loop()
        source = self.selector.select(event)
        wsgi = self._wsgi
        if isinstance(source, str) or (wsgi is not None and source.read is None):
            result = await loop.run_in_executor(executor, copy_context().run, self, event, context)
            return Answer(result, None, None)
        streamed = (
            stream is not None
            and self.invoke_mode == "RESPONSE_STREAM"
            and (source is FUNCTION_URL_SOURCE or source is REST_SOURCE)
        )
        environ: dict[str, Any] = {}
        try:
            if wsgi is not None:
                assert source.read is not None
                environ = source.read(event, context, self.config, to_environ)
            else:
                scope, body = source.to_request(event, context, self.config)
        except Exception as exc:
            if stream is None or not streamed:
                return Answer(self._unreadable(source, event, exc), None, None)
            status, message = self._rejection(source, exc)
            rejected = loop.create_task(_stream_error(stream(), status, message))
            return Answer(None, None, rejected)
        opened: ResponseStream | None = None
        if stream is not None and streamed:
            opened = stream()
            if self.exclude_headers:
                opened = _Excluding(opened, self.exclude_headers)
        if wsgi is not None:
            return await self._respond_wsgi(
                wsgi.app, source, event, environ, opened, executor=executor
            )
        runner = self._asgi
        assert runner is not None
        if opened is not None:
            return Answer(None, None, runner.start(scope, body, opened)[1])
        cycle, task = runner.start(scope, body)
        await cycle.completed(task)
        running = None if task.done() else task
        try:
            answer = (cycle.status, cycle.headers, cycle.body)
            return Answer(self._answer(source, event, scope, answer), None, running)
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
        from contextvars import copy_context

        from bridge.runtime.wsgi import DeferredClose
        from bridge.wsgi.response import respond

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
        deferred = DeferredClose(wsgi.app)
        # In a copy of the invoking context, as respond() and __call__ do.
        response = copy_context().run(respond, deferred, environ)
        after = deferred.close if deferred.pending else None
        try:
            return self._wsgi_answer(source, event, environ, response), None, after
        except BridgeError as exc:
            return None, exc, after

    async def _respond_wsgi(
        self,
        app: Any,
        source: EventSource,
        event: Any,
        environ: dict[str, Any],
        stream: ResponseStream | None,
        *,
        executor: Executor | None,
    ) -> Answer:
        """:meth:`respond` for a WSGI app, called on ``executor``; the iterable's
        ``close()`` runs after the response (``rest``)."""
        import asyncio
        from contextvars import copy_context

        from bridge.runtime.wsgi import DeferredClose, stream_response
        from bridge.wsgi.response import respond

        loop = asyncio.get_running_loop()
        context = copy_context()
        if stream is not None:
            opened = stream

            def streaming() -> None:
                context.run(stream_response, app, environ, opened, loop)

            return Answer(None, None, loop.run_in_executor(executor, streaming))
        deferred = DeferredClose(app)

        def call() -> WSGIResponse:
            return context.run(respond, deferred, environ)

        response = await loop.run_in_executor(executor, call)
        # close() once awaited: after the response is posted.
        after = _closing(deferred.close, executor) if deferred.pending else None
        try:
            return Answer(self._wsgi_answer(source, event, environ, response), None, after)
        except BridgeError as exc:
            return Answer(None, exc, after)

    def _wsgi_response(
        self, source: EventSource, event: LambdaEvent, environ: dict[str, Any], wsgi: WSGIRunner
    ) -> LambdaResponse:
        """The WSGI application's answer to ``environ``, as ``source`` sends it.

        Written out for speed: it runs on every invocation of a WSGI app.
        """
        # No event loop running on this thread (the usual case): the
        # application is called right here.  Without asyncio imported no
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

    def _wsgi_answer(
        self,
        source: EventSource,
        event: LambdaEvent,
        environ: dict[str, Any],
        response: WSGIResponse,
    ) -> LambdaResponse:
        """The Lambda response to the WSGI ``response`` to ``environ``."""
        headers = response.headers
        chunks = response.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if response.status in self._error_statuses:
            raise _status_error(response.status, environ, body)
        if self._exclude_text:
            headers = [h for h in headers if h[0] not in self._exclude_text]
        # A response this small is under the source's limit; a larger one is
        # measured.
        if len(body) + response.header_size > source.small_response and might_be_too_large(
            len(body),
            response.header_size,
            len(headers),
            source.response_limit or LAMBDA_RESPONSE_LIMIT,
        ):
            return self._checked_response(
                source,
                event,
                environ,
                status=response.status,
                headers=raw_headers(headers),
                body=body,
            )
        write = source.text_response
        if write is None:  # a custom source: the headers as ASGI carries them
            return source.to_response(
                event, response.status, raw_headers(headers), body, self.config
            )
        return write(event, response.status, headers, body, self.config)

    def _unreadable(self, source: EventSource, event: Any, exc: Exception) -> LambdaResponse:
        """The answer to an event ``source`` could not read: 400, and a warning."""
        return self._error_response(source, event, *self._rejection(source, exc))

    @staticmethod
    def _rejection(source: EventSource, exc: Exception) -> tuple[int, str]:
        """The status and message that answer an event ``source`` could not
        read (``exc`` says why), logged; a BridgeError other than a
        MalformedEventError is raised."""
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

    def _checked_response(
        self,
        source: EventSource,
        event: Any,
        request: Any,
        *,
        status: int,
        headers: Headers,
        body: bytes,
    ) -> LambdaResponse:
        """The response, unless a header is unsafe or it is over Lambda's limit
        (or the service's, when that is lower)."""
        problem = header_problem(headers)
        if problem is not None:
            logger.error(
                "The application's response to %s has a %s; answering 500 instead of "
                "passing it on.",
                _request_line(request),
                problem,
            )
            return self._error_response(source, event, 500, "Internal Server Error")
        response = source.to_response(event, status, headers, body, self.config)
        size = encoded_size(response)
        limit = source.response_limit or LAMBDA_RESPONSE_LIMIT
        if size is not None and size > limit:
            if limit == LAMBDA_RESPONSE_LIMIT:
                whose, outcome = "Lambda's", "Lambda would fail the invocation"
            else:
                whose, outcome = f"the {source.name} source's", "the service would answer 502"
            logger.error(
                "The response to %s is %d bytes once encoded for Lambda, over %s "
                "response limit of %d bytes; answering 500 instead (%s). Serve large "
                "content from S3 or compress it.",
                _request_line(request),
                size,
                whose,
                limit,
                outcome,
            )
            return self._error_response(
                source,
                event,
                500,
                "Internal Server Error: the response is too large for AWS Lambda.",
            )
        return response

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

    def _error_response(
        self, source: EventSource, event: Any, status: int, message: str
    ) -> LambdaResponse:
        headers: Headers = [(b"content-type", b"text/plain; charset=utf-8")]
        return source.to_response(event, status, headers, message.encode(), self.config)

    def close(self) -> None:
        """Run lifespan shutdown now instead of at process exit; close the
        WebSocket store and clients that bridge opened."""
        self._runner.close()
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


class _Excluding:
    """A response stream that leaves out the ``exclude_headers``."""

    __slots__ = ("names", "stream")

    def __init__(self, stream: ResponseStream, names: frozenset[bytes]) -> None:
        self.stream = stream
        self.names = names

    async def start(self, status: int, headers: Headers) -> None:
        names = self.names
        await self.stream.start(status, [h for h in headers if h[0].lower() not in names])

    async def write(self, data: bytes) -> None:
        await self.stream.write(data)

    async def end(self, error: BaseException | None) -> None:
        await self.stream.end(error)


async def _closing(close: Callable[[], None], executor: Executor | None) -> None:
    import asyncio

    await asyncio.get_running_loop().run_in_executor(executor, close)


async def _stream_error(stream: ResponseStream, status: int, message: str) -> None:
    await stream.start(status, [(b"content-type", b"text/plain; charset=utf-8")])
    await stream.write(message.encode())
    await stream.end(None)


#: What bridge offers for options of Mangum's past releases that it does not take.
_MANGUM_OPTIONS = {
    "log_level": "bridge logs to logging.getLogger('bridge'): set that logger's level instead",
    "debug": "bridge always logs the traceback of a failing app and answers 500",
    "spec_version": "ASGI 2 and 3 apps are detected; interface='asgi' or 'wsgi' forces a kind",
    "dsn": "use websocket_store='dynamodb://TABLE?region=REGION' (or redis://, postgresql://)",
    "api_gateway_endpoint_url": "use websocket_endpoint='https://ID.execute-api.REGION."
    "amazonaws.com/STAGE' (by default it comes from each event)",
    "api_gateway_region_name": "the region is part of websocket_endpoint, taken from each "
    "event by default",
}


def _unknown_option(names: list[str]) -> str:
    """The message for keywords ``Bridge`` does not take: the closest option, or the hint
    for an option of Mangum's past releases."""
    import difflib
    import inspect

    known = [
        name
        for name, parameter in inspect.signature(Bridge.__init__).parameters.items()
        if parameter.kind is parameter.KEYWORD_ONLY
    ]
    hints = []
    for name in names:
        if name in _MANGUM_OPTIONS:
            hints.append(f"{name!r} (a Mangum option) is not supported: {_MANGUM_OPTIONS[name]}")
            continue
        close = difflib.get_close_matches(
            name.lower(), [*known, "enable_lifespan"], n=1, cutoff=0.6
        )
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        hints.append(f"unexpected keyword argument {name!r}{hint}")
    return f"Bridge(app, ...): {'; '.join(hints)}. Its options are: {', '.join(known)}."


def _request_line(request: Any) -> str:
    """``"GET /path"`` of an ASGI scope or a WSGI environ, for log lines."""
    if "REQUEST_METHOD" in request:
        from bridge.wsgi.response import _request_line as environ_request_line

        return environ_request_line(request)
    return f"{request.get('method', '?')} {request.get('path', '?')}"


def _events_source(path: object) -> EventSource:
    from bridge.events import check_path, events_source

    return events_source(check_path(path))


def _statuses(statuses: Iterable[int] | None) -> frozenset[int]:
    """``error_statuses`` checked: HTTP status codes."""
    if statuses is None:
        return frozenset()
    if isinstance(statuses, (str, bytes, int)):
        raise ConfigurationError(
            f"error_statuses must be a set of HTTP status codes such as {{500, 502, 503, 504}}, "
            f"got {statuses!r}; wrap a single status in a set."
        )
    result = set()
    for status in statuses:
        if type(status) is not int or not 100 <= status <= 599:
            raise ConfigurationError(
                "error_statuses entries must be HTTP status codes (integers from 100 to 599), "
                f"got {status!r}."
            )
        result.add(status)
    return frozenset(result)


def _status_error(status: int, request: Any, body: bytes) -> BridgeError:
    """The error for an HTTP answer whose status is in ``error_statuses``."""
    from bridge.events import status_error

    return status_error(
        status, _request_line(request), body, "error_statuses makes that fail the invocation"
    )


def _header_names(names: Iterable[str] | None) -> frozenset[bytes]:
    if names is None:
        return frozenset()
    if isinstance(names, (str, bytes)):
        raise ConfigurationError(
            f"exclude_headers must be a list of header names, got the single string {names!r}; "
            "wrap it in a list."
        )
    result = set()
    for name in names:
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"exclude_headers entries must be header names, got {name!r}.")
        result.add(name.strip().lower().encode("latin-1"))
    return frozenset(result)
