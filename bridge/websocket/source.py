"""API Gateway WebSocket API, Lambda proxy integration.

Each event is one step of a connection, named by ``requestContext.eventType``:

* ``CONNECT`` (route ``$connect``): the client's upgrade request, with headers
  and query parameters but no path (clients connect to the stage URL; the
  application sees ``websocket_path``, ``"/"`` by default).
* ``MESSAGE`` (``$default`` or a custom route): one frame in ``body``; a
  binary frame arrives base64-encoded with ``isBase64Encoded``.
* ``DISCONNECT`` (``$disconnect``): the close code, when known, is in
  ``requestContext.disconnectStatusCode``.

Only the CONNECT answer reaches the client (it decides the handshake); the
application's messages go out through the Management API instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from bridge.body import BodySerializer, decode_request_body
from bridge.errors import MalformedEventError
from bridge.response import single_value_headers, text_headers
from bridge.sources import request as r
from bridge.sources.scope import asgi_headers

if TYPE_CHECKING:
    from bridge.types import Headers, LambdaContext, LambdaEvent, LambdaResponse, Message
    from bridge.websocket.types import EventType, WebSocketScope

NAME = "websocket"
EVENT_TYPES: frozenset[str] = frozenset({"CONNECT", "MESSAGE", "DISCONNECT"})
#: The close code when the client's close frame carried none (RFC 6455, 7.1.5).
NO_STATUS_CODE = 1005


def matches(event: LambdaEvent) -> bool:
    """``requestContext.eventType`` is CONNECT, MESSAGE or DISCONNECT, with a
    ``connectionId``; a REST request that carries such fields (``httpMethod``
    without ``messageDirection``) is left to the REST source."""
    context = event.get("requestContext")
    return (
        isinstance(context, dict)
        and isinstance(context.get("eventType"), str)
        and context["eventType"] in EVENT_TYPES
        and "connectionId" in context
        and ("messageDirection" in context or "httpMethod" not in event)
    )


class WebSocketRequest(NamedTuple):
    """What one WebSocket event asks of the application."""

    event_type: EventType
    connection_id: str
    route_key: str
    #: The Management API endpoint of the stage: ``https://{domainName}/{stage}``
    #: (``None`` when the event has no ``domainName``).
    endpoint_url: str | None
    #: CONNECT only: the connection's scope, before per-invocation entries.
    scope: WebSocketScope | None
    #: MESSAGE only: the ``websocket.receive`` message.
    message: Message | None
    #: DISCONNECT only: the close code and reason.
    close_code: int
    close_reason: str


def to_request(
    event: LambdaEvent, context: LambdaContext | None, *, path: str = "/"
) -> WebSocketRequest:
    request_context = r.mapping(event, "requestContext", NAME)
    event_type = request_context.get("eventType")
    connection_id = r.text(request_context.get("connectionId"), "connectionId", NAME)
    if not connection_id:
        raise MalformedEventError(f"{NAME} event: requestContext.connectionId is empty.")
    scope = connect_scope(event, request_context, path) if event_type == "CONNECT" else None
    message = receive_message(event) if event_type == "MESSAGE" else None
    code = request_context.get("disconnectStatusCode")
    reason = request_context.get("disconnectReason")
    return WebSocketRequest(
        event_type=event_type,  # type: ignore[arg-type]  # checked by matches()
        connection_id=connection_id,
        route_key=r.text(request_context.get("routeKey"), "routeKey", NAME),
        endpoint_url=endpoint_for(request_context.get("domainName"), request_context.get("stage")),
        scope=scope,
        message=message,
        close_code=code if isinstance(code, int) and code > 0 else NO_STATUS_CODE,
        close_reason=reason if isinstance(reason, str) else "",
    )


def endpoint_for(domain_name: object, stage: object) -> str | None:
    """The Management API endpoint of the stage an event came through, if it says."""
    if not isinstance(domain_name, str) or not domain_name:
        return None
    if not isinstance(stage, str) or not stage or stage == "$default":
        return f"https://{domain_name}"
    return f"https://{domain_name}/{stage}"


def connect_scope(event: LambdaEvent, request_context: Any, default_path: str) -> WebSocketScope:
    """The ASGI ``websocket`` scope of a CONNECT event."""
    multi = r.mapping(event, "multiValueHeaders", NAME)
    pairs = (
        r.read_multi_headers(multi, NAME)
        if multi
        else r.read_single_headers(r.mapping(event, "headers", NAME), NAME)
    )
    headers = asgi_headers(pairs, NAME)
    raw = event.get("path")
    if not isinstance(raw, str) or not raw:
        raw = default_path
    if not raw.startswith("/"):
        raw = "/" + raw
    query = r.mapping(event, "multiValueQueryStringParameters", NAME) or r.mapping(
        event, "queryStringParameters", NAME
    )
    identity = request_context.get("identity")
    source_ip = identity.get("sourceIp") if isinstance(identity, dict) else None
    domain = request_context.get("domainName")
    scheme, server = r.scheme_and_server(
        r.last_values(pairs), host=domain if isinstance(domain, str) else None
    )
    client = r.client(source_ip)
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws" if scheme == "http" else "wss",
        "path": r.decode_path(raw),
        "raw_path": raw.encode("utf-8"),
        "query_string": r.encode_query(query, NAME).encode("ascii") if query else b"",
        "root_path": "",
        "headers": headers,
        "client": None if client is None else (client, 0),
        "server": server,
        "subprotocols": subprotocols(headers),
    }


def subprotocols(headers: Headers) -> list[str]:
    """The subprotocols the client offers, in its order (``Sec-WebSocket-Protocol``)."""
    offered: list[str] = []
    for name, value in headers:
        if name == b"sec-websocket-protocol":
            offered += [p.strip() for p in value.decode("latin-1").split(",") if p.strip()]
    return offered


def receive_message(event: LambdaEvent) -> Message:
    """The ``websocket.receive`` message of a MESSAGE event: bytes for a binary frame."""
    body = event.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedEventError(
            f"{NAME} event: expected 'body' to be a string or null, got {type(body).__name__}."
        )
    if event.get("isBase64Encoded"):
        data = decode_request_body(body, True, source=NAME)
        return {"type": "websocket.receive", "bytes": data, "text": None}
    return {"type": "websocket.receive", "bytes": None, "text": body or ""}


def to_response(
    status: int, headers: Headers, body: bytes, serializer: BodySerializer
) -> LambdaResponse:
    """The answer to a CONNECT event (the handshake), or to the other events."""
    response: LambdaResponse = {"statusCode": status}
    text = text_headers(headers)
    if text:
        response["headers"] = single_value_headers(text, NAME)
    if body:
        response["body"], response["isBase64Encoded"] = serializer.encode(body, text)
    return response
