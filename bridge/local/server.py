"""``python -m bridge serve``: a local HTTP server in front of a Lambda handler.

Each HTTP request becomes one event of the chosen source (:mod:`bridge.local.events` shapes it
exactly as the AWS service would), the handler runs in an :class:`~bridge.local.invoker.Invoker`
(one worker thread, Lambda's timeout and 6 MB limits), and its result goes back out as HTTP the
way that service does it (:mod:`bridge.local.responses`).

HTTP itself is left to a well-kept server: uvicorn when it is installed
(``bridge-lambda[local]``), for keep-alive, pipelining, chunked request bodies and HEAD
handled by a parser many people use; otherwise the standard library's
``ThreadingHTTPServer``, which needs nothing but handles only requests with a
``Content-Length`` (no chunked request bodies). Either way the handler is called from a
thread, never inside the server's event loop: it is synchronous and runs its own.

Under uvicorn, WebSocket clients are served on the same port by a
:class:`~bridge.local.websocket.WebSocketGateway`, which plays API Gateway's WebSocket API; the
standard library server refuses them (501).
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from bridge._log import get_logger
from bridge.local.events import build_event
from bridge.local.invoker import (
    MAX_PAYLOAD_BYTES,
    EnvironmentBusy,
    FunctionError,
    InvocationError,
    Invoker,
    PayloadTooLarge,
    TimedOut,
)
from bridge.local.responses import HTTPResponse, InvalidResponseError, read_response
from bridge.local.streaming import LocalStream, StreamSink

if TYPE_CHECKING:
    from bridge.local.websocket import WebSocketGateway

__all__ = ["Gateway", "LocalRequest", "ServerKind", "serve", "uvicorn_available"]

logger = get_logger("bridge.local")

ServerKind = Literal["auto", "uvicorn", "stdlib"]

# The server sets these from the body it sends; the function's values are not passed on.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class LocalRequest:
    """One HTTP request as it arrived: the target still percent-encoded, headers in order."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    client: tuple[str, int]
    server: tuple[str, int]
    http_version: str = "1.1"

    def target(self) -> str:
        return self.path + ("?" + self.query if self.query else "")

    def host_and_port(self) -> tuple[str, int]:
        """Where the client sent the request: the Host header, else the listening address."""
        host = next((v for k, v in self.headers if k.lower() == "host"), "")
        try:
            parts = urlsplit("//" + host)
            if parts.hostname:
                return parts.hostname, parts.port or self.server[1]
        except ValueError:
            pass
        return self.server


class Gateway:
    """Plays the AWS service: HTTP request -> event -> handler -> HTTP response.

    ``stage``: requests come through the API's own URL, ``/STAGE/...``, as to
    ``https://ID.execute-api.REGION.amazonaws.com/STAGE``; the events carry the stage as API
    Gateway's do. ``base_path``: requests come through a custom domain whose base path
    mapping is ``/BASE``; the events carry the whole path, as API Gateway's do, and the
    handler must be told (``api_gateway_base_path``). Other paths are answered 404 here.

    ``streaming``: the handler is a Bridge with ``invoke_mode="RESPONSE_STREAM"`` and the
    source one that streams; the servers then call :meth:`stream` instead of :meth:`respond`.
    """

    def __init__(
        self,
        invoker: Invoker,
        source: str,
        *,
        stage: str | None = None,
        base_path: str = "",
        streaming: bool = False,
    ) -> None:
        self.invoker = invoker
        self.source = source
        self.stage = stage
        self.base_path = base_path
        self.streaming = streaming
        #: What every path must start with.
        self.prefix = f"/{stage}" if stage else base_path

    def respond(self, request: LocalRequest, body_size: int | None = None) -> HTTPResponse:
        """Answer one request, and write its access-log line.

        ``body_size``, when given, is the size of a body too large to have been read whole.
        """
        started = time.perf_counter()
        if body_size is not None and body_size > MAX_PAYLOAD_BYTES:
            response = self._failed(request, PayloadTooLarge("Request", body_size))
        else:
            response = self._respond(request)
        logger.info(
            '%s:%d "%s %s HTTP/%s" %d %d %.1fms',
            request.client[0],
            request.client[1],
            request.method,
            request.target(),
            request.http_version,
            response.status,
            len(response.body),
            (time.perf_counter() - started) * 1000,
        )
        return response

    def stream(self, request: LocalRequest, sink: StreamSink, body_size: int | None = None) -> None:
        """Answer one request on ``sink`` as the function streams it, and write its
        access-log line once the invocation is over.

        The head and each chunk reach ``sink`` as the app sends them. A failure before the
        head is the gateway's own error response, as in :meth:`respond`; one after it (the
        app raised, the timeout) ends the response as failed: the client sees the
        connection end before the body does, as on AWS.
        """
        started = time.perf_counter()
        stream = LocalStream(sink)
        response: HTTPResponse | None = None
        try:
            if body_size is not None and body_size > MAX_PAYLOAD_BYTES:
                response = self._failed(request, PayloadTooLarge("Request", body_size))
            else:
                event = self._event(request)
                if isinstance(event, HTTPResponse):
                    response = event
                else:
                    result = self.invoker.invoke(event, stream=stream)
                    if result is not None:  # answered buffered (an event it does not stream)
                        response = read_response(self.source, result)
        except (InvocationError, InvalidResponseError) as exc:
            if stream.started:
                logger.error(
                    "%s %s: the invocation failed after the response began (%s); the "
                    "connection is closed before the end of the body, as AWS does",
                    request.method,
                    request.target(),
                    exc.error_type if isinstance(exc, InvocationError) else "malformed response",
                )
            else:
                response = self._failed(request, exc)
        if stream.error is not None:
            logger.error(
                "%s %s: the function failed after the response began (%s); the connection is "
                "closed before the end of the body, as AWS does",
                request.method,
                request.target(),
                type(stream.error).__name__,
            )
        if not stream.started and response is None:
            response = _error(HTTPStatus.BAD_GATEWAY, "the function sent no response")
        if response is not None:
            headers = outgoing_headers(response, request.method)
            response = HTTPResponse(response.status, headers, response.body, response.reason)
        stream.finish(response)
        logger.info(
            '%s:%d "%s %s HTTP/%s" %d %d %.1fms (streamed)',
            request.client[0],
            request.client[1],
            request.method,
            request.target(),
            request.http_version,
            stream.status,
            stream.sent,
            (time.perf_counter() - started) * 1000,
        )

    def _respond(self, request: LocalRequest) -> HTTPResponse:
        event = self._event(request)
        if isinstance(event, HTTPResponse):
            return event
        try:
            result = self.invoker.invoke(event)
            return read_response(self.source, result)
        except (InvocationError, InvalidResponseError) as exc:
            return self._failed(request, exc)

    def _event(self, request: LocalRequest) -> dict[str, Any] | HTTPResponse:
        """The event for ``request``, or the 404 for a path outside the stage or base path."""
        path = request.path
        if self.prefix:
            if path != self.prefix and not path.startswith(self.prefix + "/"):
                where = f"stage {self.stage!r}" if self.stage else f"base path {self.prefix!r}"
                return _error(
                    HTTPStatus.NOT_FOUND,
                    f"this API is served under its {where}: request {self.prefix}/... "
                    f"instead of {path}",
                )
            if self.stage:
                path = path[len(self.prefix) :] or "/"  # build_event puts the stage back
        host, port = request.host_and_port()
        return build_event(
            self.source,
            method=request.method,
            path=path,
            stage=self.stage,
            query=request.query,
            headers=request.headers,
            body=request.body,
            # Plain HTTP on a local port, so that redirects and absolute URLs the app makes
            # lead back here; AWS would say https on 443.
            scheme="http",
            host=host,
            port=port,
            source_ip=request.client[0],
        )

    def _failed(self, request: LocalRequest, exc: Exception) -> HTTPResponse:
        """The gateway's own answer when there is no usable Lambda response."""
        where = f"{request.method} {request.target()}"
        status = HTTPStatus.BAD_GATEWAY
        if isinstance(exc, FunctionError):
            logger.error("%s: the function raised:\n%s", where, exc.formatted.rstrip())
            return _error(status, f"the function raised {exc.error_type}: {exc}")
        if isinstance(exc, InvalidResponseError):
            detail = f"malformed Lambda response: {exc}"
        elif isinstance(exc, InvocationError):
            detail = f"{exc.error_type}: {exc.message}"
            if exc.error_type == "RequestEntityTooLarge":
                status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            elif isinstance(exc, TimedOut):
                status = HTTPStatus.GATEWAY_TIMEOUT
            elif isinstance(exc, EnvironmentBusy):
                status = HTTPStatus.SERVICE_UNAVAILABLE
        else:
            raise exc
        logger.error("%s: %s", where, detail)
        return _error(status, detail)


def _error(status: HTTPStatus, detail: str) -> HTTPResponse:
    """A response made by the local gateway itself (AWS would send a terser one)."""
    body = f"{status.value} {status.phrase}: {detail}\n".encode()
    return HTTPResponse(int(status), [("content-type", "text/plain; charset=utf-8")], body)


def outgoing_headers(response: HTTPResponse, method: str) -> list[tuple[str, str]]:
    """The headers to send: the function's, less hop-by-hop ones, plus Content-Length, and
    a Date unless the function sent one (Werkzeug's ``send_file`` does)."""
    headers = [(k, v) for k, v in response.headers if k.lower() not in _HOP_BY_HOP]
    if not any(k.lower() == "date" for k, _ in headers):
        headers.insert(0, ("date", formatdate(usegmt=True)))
    length = str(len(response.body))
    if method == "HEAD":
        # A HEAD response has no body; keep the length the function announced for GET.
        announced = [v for k, v in response.headers if k.lower() == "content-length"]
        length = announced[0] if announced else length
    headers.append(("content-length", length))
    return headers


def canonical_header_name(name: str) -> str:
    """``content-type`` -> ``Content-Type``: the casing clients use on the wire.

    uvicorn hands over header names lowercased (ASGI requires it); sources that keep the
    client's casing then see the conventional one.
    """
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def uvicorn_available() -> bool:
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        return False
    return True


def serve(
    gateway: Gateway,
    *,
    host: str,
    port: int,
    server: ServerKind = "auto",
    ready: Callable[[str, str], None],
    websockets: WebSocketGateway | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM).

    ``ready(url, server_name)`` is called once the socket listens, with the real port when
    ``port`` is 0. ``websockets`` serves WebSocket clients (uvicorn only); without it they
    are refused. ``sock``: a listening socket to serve on instead of ``host`` and ``port``
    (the one ``--reload`` keeps across restarts).
    """
    if sock is None:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.create_server((host, port), family=family)
    use_uvicorn = server == "uvicorn" or (server == "auto" and uvicorn_available())
    # uvicorn stops itself on SIGINT/SIGTERM and then raises the signal again for whoever
    # handled it before; by then there is nothing left to do. http.server needs interrupting.
    with _stop_signals(_ignore if use_uvicorn else _interrupt):
        try:
            if use_uvicorn:
                _serve_uvicorn(gateway, sock, ready, websockets)
            else:
                _serve_stdlib(gateway, sock, ready)
        except KeyboardInterrupt:
            pass


@contextmanager
def _stop_signals(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """Handle SIGINT and SIGTERM with ``handler`` while serving (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _ignore(signum: int, frame: FrameType | None) -> None:
    return None


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _serve_uvicorn(
    gateway: Gateway,
    sock: socket.socket,
    ready: Callable[[str, str], None],
    websockets: WebSocketGateway | None,
) -> None:
    import uvicorn

    config = uvicorn.Config(
        ASGIFrontend(gateway, websockets),
        lifespan="off",
        ws="auto" if websockets is not None else "none",
        access_log=False,
        log_config=None,
        proxy_headers=False,
        server_header=False,
        date_header=False,  # outgoing_headers() adds one unless the function sent one
    )
    ready(_url(sock), "uvicorn")
    with sock:
        uvicorn.Server(config).run(sockets=[sock])


class ASGIFrontend:
    """The ASGI app uvicorn runs: reads each request whole, hands it to the gateway.

    WebSocket connections go to ``websockets``.
    """

    def __init__(self, gateway: Gateway, websockets: WebSocketGateway | None = None) -> None:
        self.gateway = gateway
        self.websockets = websockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and self.websockets is not None:
            await self.websockets(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        body, size = await self._read_body(receive)
        client = scope.get("client") or ("", 0)
        server = scope.get("server") or ("", 0)
        raw_path = scope.get("raw_path")
        request = LocalRequest(
            method=scope["method"],
            path=raw_path.decode("latin-1") if raw_path else scope["path"],
            query=scope["query_string"].decode("latin-1"),
            headers=[
                (canonical_header_name(name.decode("latin-1")), value.decode("latin-1"))
                for name, value in scope["headers"]
            ],
            body=body,
            client=(str(client[0]), int(client[1])),
            server=(str(server[0]), int(server[1] or 0)),
            http_version=scope["http_version"],
        )
        if self.gateway.streaming:
            await self._stream(request, size, send)
            return
        # The handler blocks and owns its own event loop: run it off this one.
        response = await asyncio.to_thread(self.gateway.respond, request, size)
        headers = outgoing_headers(response, request.method)
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": response.body})

    async def _stream(self, request: LocalRequest, size: int, send: Send) -> None:
        """Send the response as the function streams it (uvicorn's chunked encoding). A
        response that failed after its first byte is left incomplete: uvicorn then closes
        the connection."""
        items: asyncio.Queue[Message] = asyncio.Queue()
        invocation = asyncio.ensure_future(
            asyncio.to_thread(
                self.gateway.stream, request, _QueueSink(asyncio.get_running_loop(), items), size
            )
        )
        while (message := await items.get())["type"] != "end":
            await send(message)
        if not message["failed"]:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        await invocation

    @staticmethod
    async def _read_body(receive: Receive) -> tuple[bytes, int]:
        """The body and its size; past the limit the rest is counted but not kept."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= MAX_PAYLOAD_BYTES:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks), size


class _QueueSink:
    """A :class:`StreamSink` that hands the response, as ASGI messages, to the server's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, items: asyncio.Queue[Message]) -> None:
        self._loop = loop
        self._items = items

    def _put(self, message: Message) -> None:
        self._loop.call_soon_threadsafe(self._items.put_nowait, message)

    def head(self, response: HTTPResponse, prelude: dict[str, Any] | None) -> None:
        self._put(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [
                    (k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers
                ],
            }
        )

    def body(self, data: bytes) -> None:
        self._put({"type": "http.response.body", "body": data, "more_body": True})

    def end(self, failed: bool) -> None:
        self._put({"type": "end", "failed": failed})


def _serve_stdlib(gateway: Gateway, sock: socket.socket, ready: Callable[[str, str], None]) -> None:
    handler = type("BoundHandler", (StdlibHandler,), {"gateway": gateway})
    server_class = type("Server", (ThreadingHTTPServer,), {"address_family": sock.family})
    address = sock.getsockname()
    with server_class(address, handler, bind_and_activate=False) as httpd:
        httpd.socket.close()
        httpd.socket = sock  # listening already
        httpd.server_address = address
        httpd.server_name, httpd.server_port = str(address[0]), int(address[1])
        httpd.daemon_threads = True
        ready(_url(sock), "http.server")
        httpd.serve_forever()


class StdlibHandler(BaseHTTPRequestHandler):
    """The standard library fallback: one thread per connection, keep-alive on."""

    protocol_version = "HTTP/1.1"
    server_version = "bridge-local"
    gateway: Gateway

    def log_message(self, format: str, *args: Any) -> None:
        """The gateway writes the access log."""

    def handle_request(self) -> None:
        target, _, query = self.path.partition("?")
        client = (str(self.client_address[0]), int(self.client_address[1]))
        version = self.request_version.removeprefix("HTTP/")
        headers = list(self.headers.items())
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self._send(
                _error(
                    HTTPStatus.NOT_IMPLEMENTED,
                    "WebSocket clients need uvicorn and websockets "
                    "(pip install 'bridge-lambda[local]'); this is the standard library's server",
                ),
                close=True,
            )
            return
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._send(
                _error(
                    HTTPStatus.LENGTH_REQUIRED,
                    "chunked request bodies need uvicorn "
                    "(pip install 'bridge-lambda[local]'); send a Content-Length",
                ),
                close=True,
            )
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._send(_error(HTTPStatus.BAD_REQUEST, "bad Content-Length"), close=True)
            return
        local = self.connection.getsockname()
        server = (str(local[0]), int(local[1]))
        if length > MAX_PAYLOAD_BYTES:
            request = LocalRequest(
                self.command, target, query, headers, b"", client, server, version
            )
            self._send(self.gateway.respond(request, length), close=True)
            return
        body = self.rfile.read(length)
        request = LocalRequest(self.command, target, query, headers, body, client, server, version)
        if self.gateway.streaming:
            self.gateway.stream(request, _ChunkedWriter(self))
            return
        self._send(self.gateway.respond(request))

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_request

    def _send(self, response: HTTPResponse, *, close: bool = False) -> None:
        # Not send_response(), which adds a Date of its own: outgoing_headers() has one.
        self.send_response_only(response.status, response.phrase)
        self.send_header("Server", self.version_string())
        for name, value in outgoing_headers(response, self.command):
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)


class _ChunkedWriter:
    """A :class:`StreamSink` writing to a standard library handler's connection: a streamed
    body in chunked encoding, flushed chunk by chunk; a failed one cut short (the connection
    is closed without the last chunk). A client that went away is not an error of the
    function's: the rest is dropped."""

    def __init__(self, handler: StdlibHandler) -> None:
        self._handler = handler
        self._chunked = False
        self._gone = False

    def _write(self, data: bytes) -> None:
        if self._gone:
            return
        try:
            self._handler.wfile.write(data)
            self._handler.wfile.flush()
        except OSError:
            self._gone = True
            self._handler.close_connection = True

    def head(self, response: HTTPResponse, prelude: dict[str, Any] | None) -> None:
        handler = self._handler
        handler.send_response_only(response.status, response.phrase)
        handler.send_header("Server", handler.version_string())
        for name, value in response.headers:
            handler.send_header(name, value)
        if prelude is not None:
            self._chunked = True
            handler.send_header("Transfer-Encoding", "chunked")
        try:
            handler.end_headers()
        except OSError:
            self._gone = True
            handler.close_connection = True

    def body(self, data: bytes) -> None:
        if self._handler.command == "HEAD":
            return
        self._write(b"%x\r\n%b\r\n" % (len(data), data) if self._chunked else data)

    def end(self, failed: bool) -> None:
        if failed:
            self._handler.close_connection = True
        elif self._chunked and self._handler.command != "HEAD":
            self._write(b"0\r\n\r\n")
