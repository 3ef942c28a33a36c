"""WebSocket APIs: ASGI ``websocket`` applications on API Gateway WebSocket events.

``Bridge(app, websocket_store="dynamodb://TABLE?region=REGION")`` serves the
CONNECT, MESSAGE and DISCONNECT events of a WebSocket API; the store keeps
each connection's scope between invocations (see :mod:`bridge.websocket.stores`).

Inside the application, these helpers reach the other connections::

    from bridge.websocket import broadcast, connection_id

    async def chat(websocket):
        ...
        await broadcast(websocket.scope, text, exclude={connection_id(websocket.scope)})
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from typing import Any

from bridge.websocket.connections import BroadcastResult, Connections
from bridge.websocket.connections import extension as _extension
from bridge.websocket.errors import (
    ClientDisconnected,
    ConnectionGoneError,
    ManagementAPIError,
    MissingDependencyError,
    StoreError,
    UnknownConnectionError,
    WebSocketConfigurationError,
    WebSocketError,
    WebSocketProtocolError,
)
from bridge.websocket.management import (
    Boto3ManagementClient,
    HTTPManagementClient,
    ManagementClient,
)
from bridge.websocket.stores import ConnectionStore, open_store
from bridge.websocket.types import ConnectionRecord

__all__ = [
    "Boto3ManagementClient",
    "BroadcastResult",
    "ClientDisconnected",
    "ConnectionGoneError",
    "ConnectionRecord",
    "ConnectionStore",
    "Connections",
    "HTTPManagementClient",
    "ManagementAPIError",
    "ManagementClient",
    "MissingDependencyError",
    "StoreError",
    "UnknownConnectionError",
    "WebSocketConfigurationError",
    "WebSocketError",
    "WebSocketProtocolError",
    "broadcast",
    "connection_id",
    "connections",
    "open_store",
    "route_key",
    "send_to",
]


def connection_id(scope: Mapping[str, Any]) -> str:
    """The API Gateway connection id of this WebSocket scope."""
    return str(_extension(scope)["connection_id"])


def route_key(scope: Mapping[str, Any]) -> str:
    """The route of the current event: ``$connect``, ``$default``, a custom route..."""
    return str(_extension(scope)["route_key"])


def connections(scope: Mapping[str, Any]) -> Connections:
    """The :class:`Connections` of this WebSocket API stage (blocking methods)."""
    result: Connections = _extension(scope)["connections"]
    return result


async def broadcast(
    scope: Mapping[str, Any], data: str | bytes, *, exclude: Collection[str] = ()
) -> BroadcastResult:
    """Send ``data`` to every open connection but ``exclude``, in a worker thread."""
    target = connections(scope)
    return await asyncio.to_thread(target.broadcast, data, exclude=exclude)


async def send_to(scope: Mapping[str, Any], connection: str, data: str | bytes) -> bool:
    """Send ``data`` to one connection; ``False`` if it is gone."""
    return await asyncio.to_thread(connections(scope).send, connection, data)
