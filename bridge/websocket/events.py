"""API Gateway WebSocket events, shaped as AWS shapes them.

For a local emulator of a WebSocket API and for tests: feed a handler the
three events of a connection's life, and point ``websocket_endpoint`` at
something that receives what the application sends::

    handler = Bridge(app, websocket_store="sqlite:///ws.db",
                     websocket_endpoint=my_local_client)   # a ManagementClient
    handler(connect_event("c1", query="room=1"))            # {"statusCode": 200, ...}
    handler(message_event("c1", "hello"))
    handler(disconnect_event("c1", status_code=1000))

``route_key_for`` picks the route the way API Gateway's route selection
expression ``$request.body.<field>`` does.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Collection, Iterable
from typing import Any
from urllib.parse import parse_qsl

_API_ID = "local"
_counter = iter(range(1, 1 << 62))


def _context(  # noqa: PLR0917 (the where-keywords of the three events, in order)
    connection_id: str,
    event_type: str,
    route_key: str,
    domain_name: str,
    stage: str,
    source_ip: str,
    connected_at: int | None,
) -> dict[str, Any]:
    """The ``requestContext`` of an event (the arguments named as the events' keywords)."""
    now = int(time.time() * 1000)
    request_id = f"req-{next(_counter)}"
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now / 1000)),
        "messageDirection": "IN",
        "stage": stage,
        "connectedAt": connected_at if connected_at is not None else now,
        "requestTimeEpoch": now,
        "identity": {"sourceIp": source_ip},
        "requestId": request_id,
        "domainName": domain_name,
        "connectionId": connection_id,
        "apiId": _API_ID,
    }


def _headers(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``headers`` (the last value of each name) and ``multiValueHeaders`` of ``pairs``."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return {"headers": single, "multiValueHeaders": multi}


def connect_event(
    connection_id: str,
    *,
    query: str = "",
    headers: Iterable[tuple[str, str]] = (),
    subprotocols: Iterable[str] = (),
    domain_name: str = "localhost",
    stage: str = "local",
    source_ip: str = "127.0.0.1",
    path: str | None = None,
) -> dict[str, Any]:
    """The ``$connect`` event of a client's upgrade request.

    ``query`` is the query string as the client sent it (``"room=1&x=%20"``);
    API Gateway passes it decoded, and no path at all (the application sees
    ``websocket_path``).  ``path``, for a local server whose clients connect at
    any path, becomes the event's ``path`` (still percent-encoded), which the
    application then sees instead.
    """
    header_list = [("Host", domain_name), *headers]
    offered = list(subprotocols)
    if offered:
        header_list.append(("Sec-WebSocket-Protocol", ", ".join(offered)))
    header_list += [
        ("Sec-WebSocket-Key", base64.b64encode(connection_id.encode()[:16].ljust(16)).decode()),
        ("Sec-WebSocket-Version", "13"),
        ("X-Forwarded-For", source_ip),
        ("X-Forwarded-Port", "443"),
        ("X-Forwarded-Proto", "https"),
    ]
    event: dict[str, Any] = {
        **_headers(header_list),
        "requestContext": _context(
            connection_id, "CONNECT", "$connect", domain_name, stage, source_ip, None
        ),
        "isBase64Encoded": False,
    }
    if path is not None:
        event["path"] = path
    pairs = parse_qsl(query, keep_blank_values=True)
    if pairs:
        multi_query: dict[str, list[str]] = {}
        for key, value in pairs:
            multi_query.setdefault(key, []).append(value)
        event["queryStringParameters"] = {key: values[-1] for key, values in multi_query.items()}
        event["multiValueQueryStringParameters"] = multi_query
    return event


def message_event(
    connection_id: str,
    data: str | bytes,
    *,
    route_key: str = "$default",
    domain_name: str = "localhost",
    stage: str = "local",
    source_ip: str = "127.0.0.1",
    connected_at: int | None = None,
) -> dict[str, Any]:
    """The MESSAGE event of one frame: text as is, binary base64-encoded."""
    context = _context(
        connection_id, "MESSAGE", route_key, domain_name, stage, source_ip, connected_at
    )
    context["messageId"] = context["requestId"]
    if isinstance(data, str):
        return {"requestContext": context, "body": data, "isBase64Encoded": False}
    return {
        "requestContext": context,
        "body": base64.b64encode(data).decode("ascii"),
        "isBase64Encoded": True,
    }


def disconnect_event(
    connection_id: str,
    *,
    status_code: int | None = 1005,
    reason: str = "",
    domain_name: str = "localhost",
    stage: str = "local",
    source_ip: str = "127.0.0.1",
    connected_at: int | None = None,
) -> dict[str, Any]:
    """The ``$disconnect`` event; ``status_code=None`` leaves the code out."""
    context = _context(
        connection_id, "DISCONNECT", "$disconnect", domain_name, stage, source_ip, connected_at
    )
    if status_code is not None:
        context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    return {
        **_headers([("Host", domain_name), ("X-Forwarded-For", source_ip)]),
        "requestContext": context,
        "isBase64Encoded": False,
    }


#: The route selection expressions ``route_key_for`` follows start with this.
ROUTE_SELECTION_PREFIX = "$request.body."
#: The usual route selection expression.
DEFAULT_ROUTE_SELECTION = "$request.body.action"


def route_key_for(
    data: str | bytes, routes: Collection[str], expression: str = DEFAULT_ROUTE_SELECTION
) -> str:
    """The route API Gateway picks for a frame: the value of the JSON field
    named by ``expression`` when it is one of ``routes``, else ``$default``."""
    prefix = ROUTE_SELECTION_PREFIX
    if not expression.startswith(prefix) or isinstance(data, bytes):
        return "$default"
    try:
        value: Any = json.loads(data)
        for key in expression[len(prefix) :].split("."):
            value = value.get(key) if isinstance(value, dict) else None
    except ValueError:
        return "$default"
    return value if isinstance(value, str) and value in routes else "$default"
