"""The ASGI WebSocket cycle of one invocation, as a state machine.

API Gateway turns a WebSocket connection into separate invocations, and the
application is called afresh for each with the connection's scope:

* CONNECT: the app receives ``websocket.connect`` and answers the handshake
  (``websocket.accept``, ``websocket.close`` or a ``websocket.http.response``
  denial).
* MESSAGE: the connection is already open.  The app receives
  ``websocket.connect`` (its ``websocket.accept`` is absorbed) and then one
  ``websocket.receive``; what it sends goes out through the Management API.
* DISCONNECT: the app receives ``websocket.connect`` and then
  ``websocket.disconnect``.

The invocation ends when the app asks for a message that this invocation does
not have (it is then cancelled: the connection stays open) or when it returns.
At its time limit (the Lambda deadline minus ``timeout_margin_ms``, as for
HTTP) the app is cancelled: a CONNECT is refused with 504, and the
connection of a MESSAGE or DISCONNECT is left as it is.
After the app closed the connection, or a send found it gone, the next receive
gives ``websocket.disconnect``.

Transitions (message the app sends -> next state)::

    HANDSHAKE  accept -> OPEN        close -> CLOSED     http.response.start -> DENYING
    DENYING    http.response.body -> DENYING, or CLOSED when more_body is false
    OPEN       send -> OPEN          close -> CLOSED
    CLOSED     send, close -> ClientDisconnected (an OSError, as ASGI asks)
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from collections.abc import Iterable, MutableMapping

from bridge._log import get_logger
from bridge.types import ASGIApp, Message, Receive, Scope, Send
from bridge.websocket.errors import (
    ClientDisconnected,
    ConnectionGoneError,
    WebSocketProtocolError,
)
from bridge.websocket.management import ManagementClient
from bridge.websocket.types import EventType

logger = get_logger("bridge.websocket.protocol")


#: Close code the app sees when a send finds the connection gone (abnormal closure).
GONE_CODE = 1006
#: Close code of ``websocket.close`` without one.
NORMAL_CODE = 1000


class State(enum.Enum):
    HANDSHAKE = "waiting for the handshake answer"
    DENYING = "sending a denial response"
    OPEN = "open"
    CLOSED = "closed"


EXPECTED: dict[State, tuple[str, ...]] = {
    State.HANDSHAKE: ("websocket.accept", "websocket.close", "websocket.http.response.start"),
    State.DENYING: ("websocket.http.response.body",),
    State.OPEN: ("websocket.send", "websocket.close"),
    State.CLOSED: (),
}


class Ending(enum.Enum):
    WAITING = "waited for the next message"
    RETURNED = "returned"
    RAISED = "raised"
    TIMED_OUT = "was cancelled at its time limit"


class WebSocketCycle:
    """What the app may send and what it receives during one invocation."""

    def __init__(
        self,
        event_type: EventType,
        connection_id: str,
        management: ManagementClient,
        *,
        message: Message | None = None,
        close_code: int = 1005,
        close_reason: str = "",
    ) -> None:
        self.event_type = event_type
        self.connection_id = connection_id
        self.management = management
        self.state = State.HANDSHAKE
        inbox: deque[Message] = deque([{"type": "websocket.connect"}])
        if message is not None:
            inbox.append(message)
        if event_type == "DISCONNECT":
            inbox.append(
                {"type": "websocket.disconnect", "code": close_code, "reason": close_reason}
            )
        self.inbox = inbox
        #: The client side is closed already (DISCONNECT) or a send found it gone.
        self.peer_closed = event_type == "DISCONNECT"
        self.disconnect_delivered = False
        self.close_code: int | None = None
        self.close_reason = ""
        # The handshake answer (CONNECT).
        self.accepted = False
        self.subprotocol: str | None = None
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()
        # How the app ended.
        self.ending: Ending | None = None
        self.error: BaseException | None = None
        #: The scope's path, for log lines.
        self.path = "/"
        #: The time limit the app had, in seconds, once it has been reached.
        self.timed_out: float | None = None
        self.scope: Scope = {}
        self._idle: asyncio.Future[None] | None = None
        self._app_task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ receive

    async def receive(self) -> Message:
        if self.ending is not None:
            raise asyncio.CancelledError("the invocation is over")
        if self.inbox:
            message = self.inbox.popleft()
        elif (self.state is State.CLOSED or self.peer_closed) and not self.disconnect_delivered:
            code = self.close_code if self.close_code is not None else GONE_CODE
            message = {"type": "websocket.disconnect", "code": code, "reason": self.close_reason}
        else:
            # Nothing more arrives in this invocation: end it here.  run()
            # cancels the app, which stays suspended in this await until then.
            if self._idle is not None and not self._idle.done():
                self._idle.set_result(None)
            never: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
            return await never
        if message["type"] == "websocket.disconnect":
            self.disconnect_delivered = True
        return message

    # --------------------------------------------------------------------- send

    async def send(self, message: Message) -> None:
        if self.ending is not None:
            _stale_send(self.connection_id)
            return
        kind = message.get("type") if isinstance(message, MutableMapping) else None
        expected = EXPECTED[self.state]
        if kind not in expected:
            if self.state is State.CLOSED and kind in ("websocket.send", "websocket.close"):
                raise ClientDisconnected(
                    f"WebSocket connection {self.connection_id!r} is closed; "
                    f"{kind!r} cannot be sent."
                )
            raise WebSocketProtocolError(
                f"Expected ASGI message {' or '.join(map(repr, expected))} while the "
                f"WebSocket connection is {self.state.value}, but got {kind!r}."
            )
        if kind == "websocket.accept":
            self._accept(message)
        elif kind == "websocket.close":
            await self._close(message)
        elif kind == "websocket.send":
            await self._send(message)
        elif kind == "websocket.http.response.start":
            await self._deny(message)
        else:
            self._deny_body(message)

    def _accept(self, message: Message) -> None:
        self.state = State.OPEN
        if self.event_type != "CONNECT":
            return  # the connection is open already: the replayed accept is absorbed
        subprotocol = message.get("subprotocol")
        if subprotocol is not None and not isinstance(subprotocol, str):
            raise WebSocketProtocolError(
                "'websocket.accept' subprotocol must be a string or None, got "
                f"{type(subprotocol).__name__}."
            )
        self.accepted = True
        self.subprotocol = subprotocol
        self.status = 200
        self.headers = _header_list(message.get("headers", ()), "websocket.accept")
        if subprotocol:
            self.headers.append((b"sec-websocket-protocol", subprotocol.encode("latin-1")))

    async def _close(self, message: Message) -> None:
        code = message.get("code", NORMAL_CODE)
        reason = message.get("reason") or ""
        if not isinstance(code, int) or not isinstance(reason, str):
            raise WebSocketProtocolError(
                "'websocket.close' needs an int 'code' and a str 'reason', got "
                f"code of type {type(code).__name__}, reason of type {type(reason).__name__}."
            )
        was_open = self.state is State.OPEN
        self.state = State.CLOSED
        self.close_code, self.close_reason = code, reason
        if self.event_type == "CONNECT":
            # Before the handshake this rejects the connection; after an
            # accept in the same invocation the connection never opened.
            self.accepted = False
            self.status = 403
            self.headers = []
            if not was_open:
                logger.info(
                    "WebSocket connection %s to %s refused (403): the application closed it "
                    "during $connect without accepting it (close code %d%s). An app without a "
                    "WebSocket route for this path does that.",
                    self.connection_id,
                    self.path,
                    code,
                    f", reason {reason!r}" if reason else "",
                )
            else:
                logger.warning(
                    "WebSocket connection %s was closed by the application during $connect, "
                    "right after accepting it: the connection is refused (403).",
                    self.connection_id,
                )
        elif not self.peer_closed:
            await self._delete_connection()

    async def _send(self, message: Message) -> None:
        if self.peer_closed:
            raise ClientDisconnected(
                f"WebSocket connection {self.connection_id!r} was closed by the client."
            )
        data = _frame_data(message)
        if self.event_type == "CONNECT":
            logger.warning(
                "WebSocket connection %s: a message sent during $connect cannot reach the "
                "client (API Gateway opens the connection only after $connect returns); "
                "it was dropped. Send it when the first message arrives instead.",
                self.connection_id,
            )
            return
        try:
            await asyncio.to_thread(self.management.post_to_connection, self.connection_id, data)
        except ConnectionGoneError:
            self.peer_closed = True
            self.state = State.CLOSED
            raise ClientDisconnected(
                f"WebSocket connection {self.connection_id!r} is gone (the client left)."
            ) from None

    async def _deny(self, message: Message) -> None:
        status = message.get("status")
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise WebSocketProtocolError(
                "'websocket.http.response.start' needs an int HTTP 'status' (100-599), got "
                f"{status if type(status) is int else type(status).__name__}."
            )
        self.state = State.DENYING
        if self.event_type == "CONNECT":
            self.status = status
            self.headers = _header_list(message.get("headers", ()), "websocket.http.response.start")
        else:
            logger.warning(
                "WebSocket connection %s is open already; the application's denial response "
                "closes it instead.",
                self.connection_id,
            )
            self.close_code = NORMAL_CODE
            if not self.peer_closed:
                await self._delete_connection()

    def _deny_body(self, message: Message) -> None:
        body = message.get("body", b"")
        if not isinstance(body, (bytes, bytearray)):
            raise WebSocketProtocolError(
                f"'websocket.http.response.body' body must be bytes, got {type(body).__name__}."
            )
        if self.event_type == "CONNECT":
            self.body += body
        if not message.get("more_body", False):
            self.state = State.CLOSED
            if self.close_code is None:
                self.close_code = NORMAL_CODE

    async def _delete_connection(self) -> None:
        await asyncio.to_thread(self.management.delete_connection, self.connection_id)
        self.peer_closed = True

    # ---------------------------------------------------------------------- run

    async def run(self, app: ASGIApp, scope: Scope) -> None:
        """Run ``app`` until it returns, raises or waits for a message this
        invocation does not have; then settle the connection."""
        self.path = str(scope.get("path", "/"))
        self.scope = scope
        loop = asyncio.get_running_loop()
        self._idle = loop.create_future()
        task = self._app_task = loop.create_task(_call(app, scope, self.receive, self.send))
        await asyncio.wait({task, self._idle}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            self.ending = Ending.WAITING
            task.cancel()
            await asyncio.wait({task})
        if self.timed_out is not None:
            self.ending = Ending.TIMED_OUT
        elif task.cancelled():
            self.ending = Ending.WAITING
        elif task.exception() is not None:
            self.ending = Ending.RAISED
            self.error = task.exception()
        else:
            self.ending = Ending.RETURNED
        await self._settle()

    def deadline_reached(self, task: asyncio.Task[object], time_limit: float) -> None:
        """Cancel the application, which had ``time_limit`` seconds (``task``
        is the invocation's, which goes on to settle the connection)."""
        self.timed_out = time_limit
        if self._app_task is not None:
            self._app_task.cancel()

    async def _settle(self) -> None:
        """A server closes the connection when the app returns or raises."""
        if self.ending is Ending.TIMED_OUT:
            connect = self.event_type == "CONNECT"
            logger.error(
                "The application was still handling WebSocket %s for connection %s at its "
                "time limit (%.0f ms: the Lambda deadline minus timeout_margin_ms); "
                "cancelled it and answered 504%s.",
                self.event_type,
                self.connection_id,
                (self.timed_out or 0.0) * 1000,
                ", refusing the connection" if connect else "; the connection stays open",
            )
            if connect:
                self.accepted, self.status, self.headers, self.body = False, 504, [], bytearray()
            return
        if self.ending is Ending.RAISED:
            hint = (
                " It raised before answering the handshake: does it handle scope type 'websocket'?"
                if self.state is State.HANDSHAKE
                else ""
            )
            logger.error(
                "The application raised while handling WebSocket %s for connection %s.%s",
                self.event_type,
                self.connection_id,
                hint,
                exc_info=self.error,
            )
        if self.event_type == "CONNECT":
            self._settle_handshake()
        elif self.ending is not Ending.WAITING and not self.peer_closed:
            self.close_code = 1011 if self.ending is Ending.RAISED else NORMAL_CODE
            self.state = State.CLOSED
            try:
                await self._delete_connection()
            except Exception:
                logger.exception("Closing WebSocket connection %s failed.", self.connection_id)

    def _settle_handshake(self) -> None:
        if self.ending is Ending.RAISED:
            self.accepted, self.status, self.headers, self.body = False, 500, [], bytearray()
        elif self.state is State.HANDSHAKE:
            logger.error(
                "The application %s without answering the WebSocket handshake of connection "
                "%s: send 'websocket.accept' or 'websocket.close'. Does it handle scope type "
                "'websocket'? Answering 500.",
                self.ending.value if self.ending else "ended",
                self.connection_id,
            )
            self.status = 500
        elif self.state is State.DENYING:
            logger.warning(
                "The application ended its WebSocket denial response for connection %s before "
                "the last body part; sending what it gave.",
                self.connection_id,
            )
        elif self.accepted and self.ending is Ending.RETURNED:
            logger.warning(
                "The application returned right after accepting WebSocket connection %s "
                "during $connect, which closes it: the connection is refused (403).",
                self.connection_id,
            )
            self.accepted, self.status, self.headers = False, 403, []


_stale_sends_logged = False


def _stale_send(connection_id: str) -> None:
    """Log (in full the first time) a send through the websocket of an invocation that is
    over: an app that keeps websocket objects, such as the ``ConnectionManager`` of
    FastAPI's docs, in memory between invocations."""
    global _stale_sends_logged
    if _stale_sends_logged:
        logger.debug(
            "Dropped a send to WebSocket connection %s from an ended invocation.", connection_id
        )
        return
    _stale_sends_logged = True
    logger.warning(
        "The application sent on the websocket object of an earlier invocation (connection "
        "%s); the message was dropped. On Lambda each event is a new invocation with its own "
        "websocket object, and other connections may be served by other instances, so a list "
        "of websocket objects kept in memory (FastAPI's ConnectionManager) cannot reach "
        "them. Send with bridge.websocket.broadcast(websocket.scope, data) or send_to() "
        "instead, which go through the connection store and the Management API. (Logged "
        "once; later ones at DEBUG.)",
        connection_id,
    )


async def _call(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    await app(scope, receive, send)


def _frame_data(message: Message) -> bytes:
    text, data = message.get("text"), message.get("bytes")
    if text is not None and data is None and isinstance(text, str):
        return text.encode("utf-8")
    if data is not None and text is None and isinstance(data, (bytes, bytearray)):
        return bytes(data)
    raise WebSocketProtocolError(
        "'websocket.send' needs exactly one of 'text' (str) or 'bytes' (bytes), got "
        f"text={type(text).__name__}, bytes={type(data).__name__}."
    )


def _header_list(headers: object, kind: str) -> list[tuple[bytes, bytes]]:
    result: list[tuple[bytes, bytes]] = []
    if not isinstance(headers, Iterable):
        raise WebSocketProtocolError(f"{kind!r} headers must be a list of pairs of bytes.")
    for pair in headers:
        try:
            name, value = pair
        except (TypeError, ValueError):
            pair = None
        if pair is None:
            raise WebSocketProtocolError(f"{kind!r} headers must be pairs of bytes.")
        if not isinstance(name, (bytes, bytearray)) or not isinstance(value, (bytes, bytearray)):
            raise WebSocketProtocolError(
                f"{kind!r} header names and values must be bytes, got "
                f"({type(name).__name__}, {type(value).__name__})."
            )
        result.append((bytes(name).lower(), bytes(value)))
    return result
