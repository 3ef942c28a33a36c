"""API Gateway REST API, Lambda proxy integration (payload format 1.0).

``path`` arrives percent-encoded and without the stage; ``requestContext.path``
has the stage in front when the request came through the execute-api domain.
The stage then becomes ``root_path`` so that URLs the app builds still work.
Query parameters arrive decoded and are re-encoded in the order given.
"""

from __future__ import annotations

from bridge.body import decode_request_body
from bridge.response import takes_text
from bridge.sources import _common as c
from bridge.sources.base import EventSource, SourceConfig, scope_reader

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
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
    *,
    source: str = NAME,
    stage_in_path: bool = False,
    path_is_decoded: bool = False,
) -> c.Request:
    request_context = c.mapping(event, "requestContext", source)
    method = c.method(event.get("httpMethod"), "httpMethod", source)
    raw = c.absolute_path(event.get("path"), "path", source)

    multi = c.mapping(event, "multiValueHeaders", source)
    headers = (
        c.read_multi_headers(multi, source)
        if multi
        else c.read_single_headers(c.mapping(event, "headers", source), source)
    )

    stage = stage_prefix(raw, request_context)
    if stage:
        raw = stage + raw
    elif stage_in_path:
        stage = c.stage_segment(raw, request_context.get("stage"))
    if path_is_decoded:  # HTTP API 1.0: decoding again would change the path
        path = raw
        raw = c.encoded_path(raw)
    else:
        path = c.decode_path(raw)
    root_path = stage
    app_path = path[len(stage) :]
    if c.prefix_on_boundary(app_path, config.base_path):
        root_path = stage + config.base_path

    query = c.mapping(event, "multiValueQueryStringParameters", source) or c.mapping(
        event, "queryStringParameters", source
    )
    identity = request_context.get("identity")
    source_ip = identity.get("sourceIp") if isinstance(identity, dict) else None
    domain = request_context.get("domainName")
    scheme, server = c.scheme_and_server(
        c.last_values(headers), host=domain if isinstance(domain, str) else None
    )
    return c.Request(
        source,
        event,
        context,
        method,
        scheme,
        path,
        raw,  # raw_path
        root_path,
        c.encode_query(query, source) if query else "",  # query
        headers,
        c.client(source_ip),  # client
        server,
        decode_request_body(event.get("body"), event.get("isBase64Encoded"), source=source),  # body
        c.http_version(request_context.get("protocol")),  # http_version
        c.authorizer(request_context),  # authorizer
    )


def stage_prefix(path: str, request_context: dict[str, object] | object) -> str:
    """``"/stage"`` when the client's path had the stage in front of ``path``."""
    if not isinstance(request_context, dict):
        return ""
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
