"""WebSocket clients for ``python -m bridge serve``: the local API Gateway WebSocket API.

A client's upgrade request becomes a CONNECT event, each frame a MESSAGE event and the close a
DISCONNECT event (built by :mod:`bridge.websocket.events`); they run through the same
:class:`~bridge.local.invoker.Invoker` as the HTTP requests, so one invocation at a time, on its
worker thread, never inside the server's event loop. The CONNECT answer decides the handshake:
``statusCode`` 200 accepts, with the subprotocol of its ``Sec-WebSocket-Protocol`` header; any
other status refuses the connection with that status.

What the application sends goes through the Management API, as on AWS: here an in-process
:class:`LocalManagementAPI`, given to ``Bridge`` as ``websocket_endpoint``. Its methods are
called on the invoker's thread (or a thread of the handler's own loop) and hand each frame to
the server's loop, where the connection lives, then wait for it to be written.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import secrets
import threading
import time
from collections.abc import Collection, Coroutine
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bridge._log import get_logger
from bridge.adapter import Bridge
from bridge.local.gateway import canonical_header_name
from bridge.local.invoker import FunctionError, InvocationError, Invoker
from bridge.types import Message, Receive, Scope, Send
from bridge.websocket.errors import ConnectionGoneError, ManagementAPIError
from bridge.websocket.events import (
    DEFAULT_ROUTE_SELECTION,
    connect_event,
    disconnect_event,
    message_event,
    route_key_for,
)

__all__ = ["LiveConnection", "LocalManagementAPI", "WebSocketGateway", "serve_websockets_locally"]

logger = get_logger("bridge.local")

#: How long a send or close may wait for the server's loop: a guard against hangs only.
HANDOFF_LIMIT_S = 30.0
#: The close code of a close frame that carried none (RFC 6455, 7.1.5).
NO_STATUS_CODE = 1005

# Headers the CONNECT event sets itself (as API Gateway does) instead of passing them on.
_OWN_HEADERS = frozenset(
    {
        "host",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-protocol",
        "x-forwarded-for",
        "x-forwarded-port",
        "x-forwarded-proto",
    }
)


def new_connection_id() -> str:
    """An id shaped like API Gateway's: 16 base64 characters."""
    return base64.b64encode(secrets.token_bytes(11)).decode("ascii")


class LiveConnection:
    """One client connection, living on the server's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, send: Send) -> None:
        self.loop = loop
        self._send = send
        #: Set (on the invoker's side) once its CONNECT invocation returned: before that,
        #: as on AWS, the connection does not exist yet for the Management API.
        self.connected = threading.Event()
        #: Set once the handshake is answered; ``open`` says how.
        self.settled = asyncio.Event()
        self.open = False

    def settle(self, *, open: bool) -> None:
        self.open = open
        self.settled.set()

    async def deliver(self, data: bytes) -> bool:
        """Write one frame: text when ``data`` is UTF-8, else binary. ``False`` if gone."""
        await self.settled.wait()
        if not self.open:
            return False
        try:
            message: Message = {"type": "websocket.send", "text": data.decode("utf-8")}
        except UnicodeDecodeError:
            message = {"type": "websocket.send", "bytes": data}
        try:
            await self._send(message)
        except Exception:  # the client went away meanwhile (uvicorn raises an OSError)
            self.open = False
            return False
        return True

    async def close(self) -> None:
        await self.settled.wait()
        if not self.open:
            return
        self.open = False
        with contextlib.suppress(Exception):  # closed by the client meanwhile
            await self._send({"type": "websocket.close", "code": 1000, "reason": ""})


class LocalManagementAPI:
    """The Management API of the local WebSocket API: a ``ManagementClient`` whose
    ``post_to_connection`` writes to the live connection and ``delete_connection`` closes it.

    Thread-safe; its methods block and must not be called on the server's own loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[str, LiveConnection] = {}

    def __repr__(self) -> str:
        return f"<LocalManagementAPI: {len(self._connections)} connections>"

    def add(self, connection_id: str, connection: LiveConnection) -> None:
        with self._lock:
            self._connections[connection_id] = connection

    def remove(self, connection_id: str) -> None:
        with self._lock:
            self._connections.pop(connection_id, None)

    def _get(self, connection_id: str) -> LiveConnection | None:
        with self._lock:
            connection = self._connections.get(connection_id)
        return connection if connection is not None and connection.connected.is_set() else None

    def post_to_connection(self, connection_id: str, data: bytes) -> None:
        connection = self._get(connection_id)
        if connection is None or not self._run(connection, connection.deliver(bytes(data))):
            raise ConnectionGoneError(connection_id)

    def delete_connection(self, connection_id: str) -> None:
        connection = self._get(connection_id)
        if connection is not None:
            self._run(connection, connection.close())

    def _run(self, connection: LiveConnection, step: Coroutine[Any, Any, Any]) -> Any:
        """Run ``step`` on the connection's loop and wait for its result."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is connection.loop:
            step.close()
            raise RuntimeError(
                "LocalManagementAPI blocks until the frame is written; call it from another "
                "thread than the server's loop (the handler's invoker thread does)."
            )
        try:
            future = asyncio.run_coroutine_threadsafe(step, connection.loop)
        except RuntimeError:  # the server's loop is closed: the connection is gone
            step.close()
            return False
        try:
            return future.result(HANDOFF_LIMIT_S)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ManagementAPIError(
                f"The local server did not write to the WebSocket connection within "
                f"{HANDOFF_LIMIT_S:g} s; is it shutting down?"
            ) from None


def serve_websockets_locally(bridge: Bridge, store: str, management: LocalManagementAPI) -> None:
    """Let an existing ``bridge`` (of an ASGI app) serve the local server's WebSocket
    clients: what its app sends goes through ``management``, not its configured endpoint,
    and connections are kept in its own store, else in ``store``."""
    from bridge.websocket.handler import WebSocketHandler

    current = bridge._websocket
    if current is not None and current.store is not None:
        current.endpoint = management
        return
    own_store, _endpoint, path = bridge._websocket_options
    if current is not None:
        current.close()
    bridge._websocket = WebSocketHandler(
        own_store if own_store is not None else store, management, path
    )
    logger.info("WebSocket connections are kept in %s", bridge._websocket.store)


class WebSocketGateway:
    """Plays API Gateway's WebSocket API for the clients of ``serve``.

    ``management`` is the client the handler was given as ``websocket_endpoint``; without it,
    ``refusal`` says why connections are refused.
    """

    def __init__(
        self,
        invoker: Invoker,
        management: LocalManagementAPI | None,
        *,
        refusal: str = "",
        routes: Collection[str] = (),
        route_selection: str = DEFAULT_ROUTE_SELECTION,
    ) -> None:
        self.invoker = invoker
        self.management = management
        self.refusal = refusal
        #: The API's custom routes: a frame selecting one of them is a MESSAGE
        #: on it (``route_key_for``), any other frame on ``$default``.
        self.routes = frozenset(routes)
        self.route_selection = route_selection

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one WebSocket connection from its upgrade request to its close."""
        if (await receive())["type"] != "websocket.connect":
            return
        client = _Client.of(scope)
        if self.management is None:
            logger.error("WebSocket %s refused: %s", client.target, self.refusal)
            await _refuse(scope, send, 501, f"501 Not Implemented: {self.refusal}\n".encode())
            client.log("CONNECT", 501)
            return
        event = connect_event(
            client.connection_id,
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=[
                (canonical_header_name(name.decode("latin-1")), value.decode("latin-1"))
                for name, value in scope.get("headers", [])
                if name.decode("latin-1").lower() not in _OWN_HEADERS
            ],
            subprotocols=scope.get("subprotocols") or (),
            domain_name=client.domain,
            source_ip=client.source_ip,
            # The path the client used: the app sees it (on AWS, websocket_path).
            path=client.raw_path,
        )
        client.connected_at = int(event["requestContext"]["connectedAt"])

        # Known to the Management API before its CONNECT runs: a broadcast by the next
        # invocation, which may find it in the store before the handshake is answered here,
        # waits for the handshake instead of finding it gone.
        connection = LiveConnection(asyncio.get_running_loop(), send)
        self.management.add(client.connection_id, connection)
        accepted = False
        code, reason = NO_STATUS_CODE, ""
        try:
            status, subprotocol, body = await asyncio.to_thread(
                self._connect, event, client, connection
            )
            if status != 200:
                connection.settle(open=False)
                if not body:
                    body = _refusal_body(status, client.target)
                await _refuse(scope, send, status, body)
                client.log("CONNECT", status)
                return
            await send({"type": "websocket.accept", "subprotocol": subprotocol})
            connection.settle(open=True)
            accepted = True
            client.log("CONNECT", 200)
            code, reason = await self._relay(client, receive)
        finally:
            connection.settle(open=False)
            self.management.remove(client.connection_id)
            if accepted:
                # The client is gone; the function hears of it even when serving stops.
                event = disconnect_event(
                    client.connection_id,
                    status_code=code,
                    reason=reason,
                    domain_name=client.domain,
                    source_ip=client.source_ip,
                    connected_at=client.connected_at,
                )
                await asyncio.shield(asyncio.to_thread(self._invoke, event, "DISCONNECT", client))
                client.log("DISCONNECT", code)

    async def _relay(self, client: _Client, receive: Receive) -> tuple[int, str]:
        """One MESSAGE event per frame, in order, until the close: its code and reason."""
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return int(message.get("code") or NO_STATUS_CODE), str(message.get("reason") or "")
            if message["type"] != "websocket.receive":
                continue
            text = message.get("text")
            data: str | bytes = text if text is not None else bytes(message.get("bytes") or b"")
            event = message_event(
                client.connection_id,
                data,
                route_key=route_key_for(data, self.routes, self.route_selection)
                if self.routes
                else "$default",
                domain_name=client.domain,
                source_ip=client.source_ip,
                connected_at=client.connected_at,
            )
            await asyncio.to_thread(self._invoke, event, "MESSAGE", client)

    def _connect(
        self, event: dict[str, Any], client: _Client, connection: LiveConnection
    ) -> tuple[int, str | None, bytes]:
        """Run the CONNECT event: the status, the chosen subprotocol, a body for a refusal."""
        result = self._invoke(event, "CONNECT", client)
        connection.connected.set()  # before the next invocation can start
        if result is None:
            return 502, None, b"502 Bad Gateway: the $connect invocation failed\n"
        status = result.get("statusCode") if isinstance(result, dict) else None
        if not isinstance(status, int) or not 100 <= status <= 599:
            logger.error(
                "WebSocket CONNECT of %s: malformed response (statusCode %r)",
                client.connection_id,
                status,
            )
            return 502, None, b"502 Bad Gateway: malformed $connect response\n"
        headers = result.get("headers")
        subprotocol = None
        if isinstance(headers, dict):
            subprotocol = next(
                (str(v) for k, v in headers.items() if k.lower() == "sec-websocket-protocol"),
                None,
            )
        body = result.get("body")
        text = body.encode() if isinstance(body, str) and not result.get("isBase64Encoded") else b""
        return status, subprotocol, text

    def _invoke(self, event: dict[str, Any], kind: str, client: _Client) -> Any:
        """One invocation; its result, or ``None`` (logged) when it failed."""
        try:
            return self.invoker.invoke(event)
        except FunctionError as exc:
            logger.error(
                "WebSocket %s of %s: the function raised:\n%s",
                kind,
                client.connection_id,
                exc.formatted.rstrip(),
            )
        except InvocationError as exc:
            logger.error(
                "WebSocket %s of %s: %s: %s",
                kind,
                client.connection_id,
                exc.error_type,
                exc.message,
            )
        return None


@dataclass
class _Client:
    """Who connected, where to, and since when: for the events and the access log."""

    peer: str
    target: str
    raw_path: str
    domain: str
    source_ip: str
    connection_id: str = field(default_factory=new_connection_id)
    connected_at: int | None = None
    started: float = field(default_factory=time.perf_counter)

    @classmethod
    def of(cls, scope: Scope) -> _Client:
        address = scope.get("client") or ("", 0)
        query = scope.get("query_string", b"").decode("latin-1")
        host = next((v for k, v in scope.get("headers", []) if k.lower() == b"host"), b"")
        raw_path = scope.get("raw_path")
        return cls(
            peer=f"{address[0]}:{address[1]}",
            target=scope.get("path", "/") + ("?" + query if query else ""),
            raw_path=raw_path.decode("latin-1") if raw_path else scope.get("path", "/"),
            domain=urlsplit("//" + host.decode("latin-1")).hostname or "localhost",
            source_ip=str(address[0]) or "127.0.0.1",
        )

    def log(self, kind: str, status: int) -> None:
        """The access-log line of a connect (handshake status) or disconnect (close code)."""
        logger.info(
            '%s "WS %s %s" %d %s %.1fms',
            self.peer,
            kind,
            self.target,
            status,
            self.connection_id,
            (time.perf_counter() - self.started) * 1000,
        )


def _refusal_body(status: int, target: str) -> bytes:
    """What a client refused without a body from the app is told."""
    if status == 403:
        why = (
            "the app closed the connection during $connect without accepting it (an app "
            f"without a WebSocket route for {target} does that)"
        )
    elif status == 500:
        why = "the app raised, or ended without answering the handshake, during $connect"
    else:
        why = "the app refused the connection during $connect"
    return f"{status} refused: {why}; the server's log says more\n".encode()


async def _refuse(scope: Scope, send: Send, status: int, body: bytes) -> None:
    """Refuse the upgrade with ``status`` when the server can say it, else with 403."""
    if "websocket.http.response" in (scope.get("extensions") or {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1000})
