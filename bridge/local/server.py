"""The HTTP servers of ``python -m bridge serve``: each request read whole and handed to a
:class:`~bridge.local.gateway.Gateway`, its answer written back.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

from bridge.local.gateway import (
    Gateway,
    LocalRequest,
    canonical_header_name,
    error_response,
    outgoing_headers,
)
from bridge.local.invoker import MAX_PAYLOAD_BYTES
from bridge.local.responses import HTTPResponse
from bridge.types import Message, Receive, Scope, Send

if TYPE_CHECKING:
    from bridge.local.websocket import WebSocketGateway

__all__ = ["ASGIFrontend", "ServerKind", "listen", "serve", "stop_signals", "uvicorn_available"]

ServerKind = Literal["auto", "uvicorn", "stdlib"]


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
        sock = listen(host, port)
    use_uvicorn = server == "uvicorn" or (server == "auto" and uvicorn_available())
    # uvicorn stops itself on SIGINT/SIGTERM and then raises the signal again for whoever
    # handled it before; by then there is nothing left to do. http.server needs interrupting.
    with stop_signals(_ignore if use_uvicorn else _interrupt):
        try:
            if use_uvicorn:
                _serve_uvicorn(gateway, sock, ready, websockets)
            else:
                _serve_stdlib(gateway, sock, ready)
        except KeyboardInterrupt:
            pass


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host`` and ``port``, of the family ``host`` resolves to."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.create_server((host, port), family=family)


@contextmanager
def stop_signals(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
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
        await send(_start_message(response.status, headers))
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


def _start_message(status: int, headers: list[tuple[str, str]]) -> Message:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
    }


class _QueueSink:
    """A :class:`StreamSink` that hands the response, as ASGI messages, to the server's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, items: asyncio.Queue[Message]) -> None:
        self._loop = loop
        self._items = items

    def _put(self, message: Message) -> None:
        self._loop.call_soon_threadsafe(self._items.put_nowait, message)

    def head(self, response: HTTPResponse, prelude: dict[str, Any] | None) -> None:
        self._put(_start_message(response.status, response.headers))

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
                error_response(
                    HTTPStatus.NOT_IMPLEMENTED,
                    "WebSocket clients need uvicorn and websockets "
                    "(pip install 'bridge-lambda[local]'); this is the standard library's server",
                ),
                close=True,
            )
            return
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._send(
                error_response(
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
            self._send(error_response(HTTPStatus.BAD_REQUEST, "bad Content-Length"), close=True)
            return
        local = self.connection.getsockname()
        server = (str(local[0]), int(local[1]))
        too_large = length > MAX_PAYLOAD_BYTES  # answered 413 without reading the body
        body = b"" if too_large else self.rfile.read(length)
        request = LocalRequest(self.command, target, query, headers, body, client, server, version)
        if too_large:
            self._send(self.gateway.respond(request, length), close=True)
            return
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
