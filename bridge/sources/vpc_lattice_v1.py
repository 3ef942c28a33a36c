"""Amazon VPC Lattice, event structure 1.0 (snake_case keys).

``raw_path`` is the path as sent, percent-encoded, and may carry the query
string after a ``?``; header values arrive comma-joined.  The response holds
one value per header.
"""

from __future__ import annotations

from bridge.body import decode_request_body
from bridge.response import single_value_headers, status_phrase, takes_text
from bridge.sources import request as r
from bridge.sources.base import EventSource, SourceConfig, scope_reader

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from bridge.sources.base import ReadRequest
    from bridge.sources.request import Builder, CheckedHeaders, T
    from bridge.types import LambdaContext, LambdaEvent, LambdaResponse, TextHeaders


NAME = "lattice"


def matches(event: LambdaEvent) -> bool:
    return "raw_path" in event and "method" in event


def reader(
    source: str,
    path_key: str,
    query_keys: tuple[str, str],
    base64_key: str,
    read_headers: Callable[[Mapping[str, Any], str], CheckedHeaders],
) -> ReadRequest:
    """The reader of either Lattice structure: the same fields under other
    keys (path, query parameters, base64 flag), the headers read by
    ``read_headers``.  The query parameters are read under either spelling,
    the structure's own first (a published 2.0 sample uses the 1.0 one)."""

    def read(
        event: LambdaEvent, context: LambdaContext | None, config: SourceConfig, build: Builder[T]
    ) -> T:
        headers = read_headers(r.mapping(event, "headers", source), source)
        method = r.method(event.get("method"), "method", source)
        target = r.text(event.get(path_key), path_key, source)
        raw, _, query = target.partition("?")
        raw = raw or "/"
        if not query:
            params = r.mapping(event, query_keys[0], source) or r.mapping(
                event, query_keys[1], source
            )
            query = r.encode_query(params, source) if params else ""
        body = decode_request_body(event.get("body"), event.get(base64_key), source=source)
        last = r.last_values(headers)
        forwarded_for = last.get("x-forwarded-for")
        client = r.client(r.rightmost(forwarded_for)) if forwarded_for else None
        found = r.scheme_and_server(last)
        return r.build_proxied(
            build, source, event, context, config, method, raw, query, headers, body, client, found
        )

    return read


read = reader(
    NAME,
    "raw_path",
    ("query_string_parameters", "queryStringParameters"),
    "is_base64_encoded",
    r.read_single_headers,
)


def to_response(
    event: LambdaEvent, status: int, headers: TextHeaders, body: bytes, config: SourceConfig
) -> LambdaResponse:
    text, is_base64 = config.serializer.encode(body, headers)
    return {
        "statusCode": status,
        "statusDescription": status_phrase(status),
        "headers": single_value_headers(headers, NAME),
        "body": text,
        "isBase64Encoded": is_base64,
    }


SOURCE = EventSource(
    name=NAME,
    matches=matches,
    to_request=scope_reader(read),
    to_response=takes_text(to_response),
    looks_for="'raw_path' and 'method'",
    read=read,
)
