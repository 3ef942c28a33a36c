"""API Gateway HTTP API with payload format 2.0.

``rawPath`` arrives already percent-decoded (API Gateway decodes it, so it is
not decoded again) and carries a named stage in front; ``rawQueryString`` is
kept verbatim; the ``cookies`` array becomes one ``cookie`` header.  The
response puts ``Set-Cookie`` headers into ``cookies`` and comma-joins others.
"""

from __future__ import annotations

from bridge.body import decode_request_body
from bridge.errors import MalformedEventError
from bridge.sources import _common as c
from bridge.sources.base import EventSource, SourceConfig, scope_reader
from bridge.types import Headers, LambdaContext, LambdaEvent, LambdaResponse

NAME = "http"


def matches(event: LambdaEvent) -> bool:
    context = event.get("requestContext")
    return (
        event.get("version") == "2.0"
        and "rawPath" in event
        and isinstance(context, dict)
        and "http" in context
        and not is_function_url(context)
    )


def is_function_url(request_context: dict[str, object]) -> bool:
    domain = request_context.get("domainName")
    return isinstance(domain, str) and ".lambda-url." in domain


def read(
    event: LambdaEvent,
    context: LambdaContext | None,
    config: SourceConfig,
    *,
    source: str = NAME,
    path_is_encoded: bool = False,
) -> c.Request:
    request_context = c.mapping(event, "requestContext", source)
    http = c.mapping(request_context, "http", source)
    method = c.method(http.get("method"), "requestContext.http.method", source)
    raw = c.absolute_path(event.get("rawPath"), "rawPath", source)
    path = c.decode_path(raw) if path_is_encoded else raw

    headers = cookie_headers(event, source)
    root_path = c.stage_segment(path, request_context.get("stage"))
    if c.prefix_on_boundary(path[len(root_path) :], config.base_path):
        root_path += config.base_path

    domain = request_context.get("domainName")
    scheme, server = c.scheme_and_server(headers, host=domain if isinstance(domain, str) else None)
    return c.Request(
        source,
        event,
        context,
        method,
        scheme,
        path,
        raw,  # raw_path
        root_path,
        c.text(event.get("rawQueryString"), "rawQueryString", source),  # query
        headers,
        c.client(http.get("sourceIp")),  # client
        server,
        decode_request_body(event.get("body"), event.get("isBase64Encoded"), source=source),  # body
        c.http_version(http.get("protocol")),  # http_version
    )


def cookie_headers(event: LambdaEvent, source: str) -> c.Pairs:
    """The headers, with the ``cookies`` array as the one ``cookie`` header."""
    headers = c.pairs_from_single(c.mapping(event, "headers", source), source)
    cookies = event.get("cookies")
    if cookies:
        try:
            if not isinstance(cookies, list):
                raise TypeError
            joined = "; ".join(cookies)  # TypeError for an entry that is not a string
        except TypeError:
            raise MalformedEventError(
                f"{source} event: expected 'cookies' to be a list of strings, got "
                + (
                    f"a list holding {_kinds(cookies)}"
                    if isinstance(cookies, list)
                    else type(cookies).__name__
                )
                + "."
            ) from None
        for name, _ in headers:
            if name == "cookie":
                headers = [(name, value) for name, value in headers if name != "cookie"]
                break
        headers.append(("cookie", joined))
    return headers


def _kinds(items: list[object]) -> str:
    return ", ".join(sorted({type(item).__name__ for item in items}))


def to_response(
    event: LambdaEvent, status: int, headers: Headers, body: bytes, config: SourceConfig
) -> LambdaResponse:
    text, is_base64 = config.serializer.encode(headers, body)
    grouped = c.multi_value_headers(headers)
    cookies = grouped.pop("set-cookie", None)
    response: LambdaResponse = {
        "statusCode": status,
        "headers": {name: ",".join(values) for name, values in grouped.items()},
    }
    if cookies:
        response["cookies"] = cookies
    response["body"] = text
    response["isBase64Encoded"] = is_base64
    return response


SOURCE = EventSource(
    name=NAME,
    matches=matches,
    to_request=scope_reader(read),
    to_response=to_response,
    looks_for="'version': '2.0', 'rawPath' and requestContext.http",
    read=read,
)
