"""API Gateway REST API, Lambda proxy integration (payload format 1.0).

``path`` arrives percent-encoded and without the stage; ``requestContext.path``
has the stage in front when the request came through the execute-api domain.
The stage then becomes ``root_path`` so that URLs the app builds still work.
Query parameters arrive decoded and are re-encoded in the order given.
"""

from __future__ import annotations

from bridge.body import decode_request_body
from bridge.response import takes_text
from bridge.sources import request as r
from bridge.sources.base import EventSource, SourceConfig, scope_reader

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Mapping

    from bridge.sources.request import Builder, RequestHeaders, T
    from bridge.types import LambdaContext, LambdaEvent, LambdaResponse, TextHeaders


NAME = "rest"


def matches(event: LambdaEvent) -> bool:
    context = event.get("requestContext")
    return (
        "httpMethod" in event
        and "version" not in event
        and ((context is None and "path" in event) or isinstance(context, dict))
    )


def read(
    event: LambdaEvent,
    context: LambdaContext | None,
    config: SourceConfig,
    build: Builder[T],
    source: str = NAME,
) -> T:
    """The request, handed to ``build``.  ``source="http-v1"``: an HTTP API
    payload 1.0 event, whose path arrives decoded, with a named stage in front."""
    # Each field is taken as it is when it has the usual type and is plain
    # ASCII; anything else goes to the helper that checks it and explains.
    request_context = event.get("requestContext")
    if type(request_context) is not dict:
        request_context = r.mapping(event, "requestContext", source)
    method = event.get("httpMethod")
    if type(method) is not str or not method or not method.isascii():
        method = r.method(method, "httpMethod", source)
    raw = event.get("path")
    if type(raw) is not str or raw[:1] != "/" or not raw.isascii():
        raw = r.absolute_path(raw, "path", source)

    multi = event.get("multiValueHeaders")
    if type(multi) is not dict and multi is not None:
        multi = r.mapping(event, "multiValueHeaders", source)  # a mapping, or the error
    headers: RequestHeaders | None
    if multi:
        headers = r.MultiValueHeaders(multi)  # checked by the builder
    else:
        headers = event.get("headers")  # checked by the builder when a dict
        if type(headers) is not dict:
            headers = r.read_single_headers(r.mapping(event, "headers", source), source)

    root_path = stage_prefix(raw, request_context)
    if root_path:
        raw = root_path + raw
    elif source != NAME:
        root_path = r.stage_segment(raw, request_context.get("stage"))
    raw_path: str | None = raw
    if source != NAME:  # decoding again would change the path
        path = raw
        raw_path = None  # re-encoded in the scope
    else:
        path = r.decode_path(raw)
    if config.base_path and r.prefix_on_boundary(path[len(root_path) :], config.base_path):
        root_path += config.base_path

    query = event.get("multiValueQueryStringParameters")
    if not query or type(query) is not dict:
        query = r.mapping(event, "multiValueQueryStringParameters", source) or r.mapping(
            event, "queryStringParameters", source
        )
    identity = request_context.get("identity")
    client = identity.get("sourceIp") if type(identity) is dict else None
    if type(client) is not str or not client.isascii():
        client = r.client(client)
    domain = request_context.get("domainName")
    body = event.get("body")
    protocol = request_context.get("protocol")
    authorizer = request_context.get("authorizer")
    return build(
        source,
        event,
        context,
        method,
        "https",
        path,
        raw_path,
        root_path,
        r.encode_query(query, source) if query else "",
        headers,
        None,
        client or None,
        domain if type(domain) is str else "",
        b""
        if body is None
        else decode_request_body(body, event.get("isBase64Encoded"), source=source),
        "1.1" if protocol == "HTTP/1.1" else r.http_version(protocol),
        authorizer if type(authorizer) is dict else None,
    )


def stage_prefix(path: str, request_context: Mapping[str, object]) -> str:
    """``"/stage"`` when the client's path had the stage in front of ``path``."""
    stage = request_context.get("stage")
    full = request_context.get("path")
    if not isinstance(stage, str) or not stage or stage == "$default" or not isinstance(full, str):
        return ""
    prefix = "/" + stage
    if (prefix + path).rstrip("/") == full.rstrip("/"):
        return prefix
    return ""


def to_response(
    event: LambdaEvent, status: int, headers: TextHeaders, body: bytes, config: SourceConfig
) -> LambdaResponse:
    """Single-valued headers go in ``headers``, repeated ones in ``multiValueHeaders``."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        if name in single:  # a second value: the name moves to multiValueHeaders
            multi[name] = [single.pop(name), value]
        elif name in multi:
            multi[name].append(value)
        else:
            single[name] = value
    response: LambdaResponse = {"statusCode": status, "headers": single}
    if multi:
        response["multiValueHeaders"] = multi
    response["body"], response["isBase64Encoded"] = config.serializer.encode(body, headers)
    return response


SOURCE = EventSource(
    name=NAME,
    matches=matches,
    to_request=scope_reader(read),
    to_response=takes_text(to_response),
    looks_for="'httpMethod' and 'requestContext' (or 'path'), no 'version'",
    read=read,
)
