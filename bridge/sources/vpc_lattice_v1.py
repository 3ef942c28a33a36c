"""Amazon VPC Lattice, event structure 1.0 (snake_case keys).

``raw_path`` is the path as sent, percent-encoded, and may carry the query
string after a ``?``; header values arrive comma-joined.  The response holds
one value per header.
"""

from __future__ import annotations

from bridge.body import decode_request_body
from bridge.sources import _common as c
from bridge.sources.base import EventSource, SourceConfig
from bridge.types import Headers, HTTPScope, LambdaContext, LambdaEvent, LambdaResponse

NAME = "lattice"


def matches(event: LambdaEvent) -> bool:
    return "raw_path" in event and "method" in event


def to_request(
    event: LambdaEvent, context: LambdaContext | None, config: SourceConfig
) -> tuple[HTTPScope, bytes]:
    return read(
        event,
        context,
        config,
        source=NAME,
        keys=("raw_path", "query_string_parameters", "is_base64_encoded"),
        headers=c.headers_from_single(c.mapping(event, "headers", NAME), NAME),
    )


def read(
    event: LambdaEvent,
    context: LambdaContext | None,
    config: SourceConfig,
    *,
    source: str,
    keys: tuple[str, str, str],
    headers: Headers,
) -> tuple[HTTPScope, bytes]:
    """Both Lattice structures: the same fields under ``keys`` (path, query
    parameters, base64 flag), and the headers already read."""
    path_key, query_key, base64_key = keys
    method = c.method(event.get("method"), "method", source)
    target = c.text(event.get(path_key), path_key, source, "/") or "/"
    raw, _, query = target.partition("?")
    raw = raw or "/"
    if not query:
        params = c.mapping(event, query_key, source)
        query_string = c.encode_query(params, source) if params else b""
    else:
        query_string = query.encode("utf-8")
    path = c.decode_path(raw)
    root_path = config.base_path if c.prefix_on_boundary(path, config.base_path) else ""
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
        client=c.client(client_ip),
        server=server,
    )
    body = decode_request_body(event.get("body"), event.get(base64_key), source=source)
    return scope, body


def to_response(
    event: LambdaEvent, status: int, headers: Headers, body: bytes, config: SourceConfig
) -> LambdaResponse:
    text, is_base64 = config.serializer.encode(headers, body)
    return {
        "statusCode": status,
        "statusDescription": c.status_phrase(status),
        "headers": c.single_value_headers(headers, NAME),
        "body": text,
        "isBase64Encoded": is_base64,
    }


SOURCE = EventSource(
    name=NAME,
    matches=matches,
    to_request=to_request,
    to_response=to_response,
    looks_for="'raw_path' and 'method'",
)
