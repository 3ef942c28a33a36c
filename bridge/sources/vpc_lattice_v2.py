"""Amazon VPC Lattice, event structure 2.0.

Header and query values arrive as lists (some producers send plain strings;
both are read).  The path is percent-encoded as sent.  The response holds one
value per header, as in 1.0.
"""

from __future__ import annotations

from bridge.body import decode_request_body
from bridge.errors import MalformedEventError
from bridge.sources import _common as c
from bridge.sources.base import EventSource, SourceConfig
from bridge.sources.vpc_lattice_v1 import to_response
from bridge.types import HTTPScope, LambdaContext, LambdaEvent

NAME = "lattice-v2"


def matches(event: LambdaEvent) -> bool:
    context = event.get("requestContext")
    return (
        event.get("version") == "2.0"
        and "method" in event
        and isinstance(context, dict)
        and ("serviceArn" in context or "targetGroupArn" in context)
    )


def to_request(
    event: LambdaEvent, context: LambdaContext | None, config: SourceConfig
) -> tuple[HTTPScope, bytes]:
    method = c.text(event.get("method"), "method", NAME)
    if not method:
        raise MalformedEventError(f"{NAME} event: 'method' is missing or empty.")
    target = c.text(event.get("path"), "path", NAME, "/") or "/"
    raw, _, query = target.partition("?")
    raw = raw or "/"
    if not query:
        params = c.mapping(event, "queryStringParameters", NAME)
        query_string = c.encode_query(params, NAME) if params else b""
    else:
        query_string = query.encode("utf-8")
    path = c.decode_path(raw)
    root_path = config.base_path if c.prefix_on_boundary(path, config.base_path) else ""
    headers = c.headers_from_multi(c.mapping(event, "headers", NAME), NAME)
    forwarded_for = c.last_value(headers, b"x-forwarded-for")
    client_ip = c.rightmost(forwarded_for) if forwarded_for else ""
    scheme, server = c.scheme_and_server(headers)
    scope = c.build_scope(
        event=event,
        context=context,
        method=method,
        scheme=scheme,
        path=path,
        raw_path=raw,
        root_path=root_path,
        query_string=query_string,
        headers=headers,
        client=(client_ip, 0) if client_ip else None,
        server=server,
    )
    body = decode_request_body(event.get("body"), event.get("isBase64Encoded"), source=NAME)
    return scope, body


SOURCE = EventSource(
    name=NAME,
    matches=matches,
    to_request=to_request,
    to_response=to_response,
    looks_for="'version': '2.0', 'method' and requestContext.serviceArn/targetGroupArn",
)
