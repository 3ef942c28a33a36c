"""Types of bridge's WebSocket support: stored records and the WebSocket scope."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias, TypedDict

#: Any value ``json.dumps`` accepts and ``json.loads`` gives back unchanged.
JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"

#: What a connection store keeps for one connection: a JSON object.
ConnectionRecord: TypeAlias = "dict[str, JSONValue]"

#: The three kinds of API Gateway WebSocket event.
EventType = Literal["CONNECT", "MESSAGE", "DISCONNECT"]


class WebSocketScope(TypedDict, total=False):
    """An ASGI ``websocket`` connection scope as bridge builds it."""

    type: Literal["websocket"]
    asgi: dict[str, str]
    http_version: str
    scheme: str
    path: str
    raw_path: bytes | None
    query_string: bytes
    root_path: str
    headers: list[tuple[bytes, bytes]]
    client: tuple[str, int] | None
    server: tuple[str, int | None] | None
    subprotocols: list[str]
    state: dict[str, Any]
    extensions: dict[str, Any]
