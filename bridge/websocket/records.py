"""A connection's scope as a JSON record and back.

At CONNECT the application's scope is saved so that MESSAGE and DISCONNECT,
which carry no path, query or headers, can give the application the scope of
the connection it accepted.  Only the ASGI connection fields are kept; the
per-invocation entries (``state``, ``extensions``, the Lambda event and
context) are rebuilt each time.  Bytes are kept as latin-1 strings, which
round-trip every byte value unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridge.websocket.errors import StoreError
from bridge.websocket.types import ConnectionRecord, JSONValue, WebSocketScope

#: Bumped when the layout changes; records of another version are refused.
RECORD_VERSION = 1


def scope_to_record(
    scope: Mapping[str, Any], *, subprotocol: str | None, endpoint_url: str | None
) -> ConnectionRecord:
    """The JSON record of an accepted connection."""
    client = scope.get("client")
    server = scope.get("server")
    saved: dict[str, JSONValue] = {
        "scheme": scope["scheme"],
        "http_version": scope["http_version"],
        "path": scope["path"],
        "raw_path": _text(scope.get("raw_path")),
        "root_path": scope.get("root_path", ""),
        "query_string": _text(scope["query_string"]),
        "headers": [[_text(name), _text(value)] for name, value in scope["headers"]],
        "client": None if client is None else [client[0], client[1]],
        "server": None if server is None else [server[0], server[1]],
        "subprotocols": list(scope.get("subprotocols", [])),
    }
    return {
        "version": RECORD_VERSION,
        "scope": saved,
        "subprotocol": subprotocol,
        "endpoint_url": endpoint_url,
    }


def record_to_scope(record: ConnectionRecord, connection_id: str) -> WebSocketScope:
    """The saved connection fields of a scope, ready for per-invocation entries."""
    try:
        if record.get("version") != RECORD_VERSION:
            raise ValueError(f"version {record.get('version')!r}, expected {RECORD_VERSION}")
        saved: Any = record["scope"]
        client = saved["client"]
        server = saved["server"]
        raw_path = saved["raw_path"]
        return {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "scheme": str(saved["scheme"]),
            "http_version": str(saved["http_version"]),
            "path": str(saved["path"]),
            "raw_path": None if raw_path is None else _bytes(raw_path),
            "root_path": str(saved["root_path"]),
            "query_string": _bytes(saved["query_string"]),
            "headers": [(_bytes(name), _bytes(value)) for name, value in saved["headers"]],
            "client": None if client is None else (str(client[0]), int(client[1])),
            "server": None if server is None else (str(server[0]), _port(server[1])),
            "subprotocols": [str(item) for item in saved["subprotocols"]],
        }
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise StoreError(
            f"The stored record of WebSocket connection {connection_id!r} is not a bridge "
            f"connection record ({type(exc).__name__}: {exc}). It was written by something "
            "else or by another version of bridge: delete it from the store; the client "
            "has to reconnect."
        ) from exc


def _text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (bytes, bytearray)):
        raise TypeError(f"expected bytes in the scope, got {type(value).__name__}")
    return bytes(value).decode("latin-1")


def _bytes(value: object) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"expected a string in the record, got {type(value).__name__}")
    return value.encode("latin-1")


def _port(value: Any) -> int | None:
    return None if value is None else int(value)
