"""API Gateway HTTP API with payload format 2.0.

``rawPath`` arrives already percent-decoded (API Gateway decodes it, so it is
not decoded again) and carries a named stage in front; the client's own
spelling is lost, so ``raw_path`` is the path percent-encoded again.
``rawQueryString`` is kept verbatim; the ``cookies`` array becomes one
``cookie`` header.  The response puts ``Set-Cookie`` headers into ``cookies``
and comma-joins others.
"""

from __future__ import annotations

from bridge.body import decode_request_body
from bridge.errors import MalformedEventError
from bridge.response import takes_text
from bridge.sources import _common as c
from bridge.sources.base import EventSource, SourceConfig, scope_reader

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from bridge.types import LambdaContext, LambdaEvent, LambdaResponse, TextHeaders


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
    # Each field is taken as it is when it has the usual type and is plain
    # ASCII; anything else goes to the helper that checks it and explains.
    request_context = event.get("requestContext")
    if type(request_context) is not dict:
        request_context = c.mapping(event, "requestContext", source)
    http = request_context.get("http")
    if type(http) is not dict:
        http = c.mapping(request_context, "http", source)
    method = http.get("method")
    if type(method) is not str or not method or not method.isascii():
        method = c.method(method, "requestContext.http.method", source)
    raw = event.get("rawPath")
    if type(raw) is not str or not raw.startswith("/") or not raw.isascii():
        raw = c.absolute_path(raw, "rawPath", source)
    if path_is_encoded:
        path = c.decode_path(raw)
    else:
        path = raw
        raw = c.encoded_path(raw)

    headers = cookie_headers(event, source)
    stage = request_context.get("stage")
    root_path = "" if stage == "$default" else c.stage_segment(path, stage)
    if config.base_path and c.prefix_on_boundary(path[len(root_path) :], config.base_path):
        root_path += config.base_path

    domain = request_context.get("domainName")
    scheme, server = c.scheme_and_server(
        c.last_values(headers), host=domain if isinstance(domain, str) else None
    )
    query = event.get("rawQueryString")
    if type(query) is not str or not query.isascii():
        query = c.text(query, "rawQueryString", source)
    body = event.get("body")
    return c.Request(
        source,
        event,
        context,
        method,
        scheme,
        path,
        raw,  # raw_path
        root_path,
        query,
        headers,
        c.client(http.get("sourceIp")),  # client
        server,
        b""
        if body is None
        else decode_request_body(body, event.get("isBase64Encoded"), source=source),
        c.http_version(http.get("protocol")),  # http_version
        c.authorizer(request_context),  # authorizer
    )


def cookie_headers(event: LambdaEvent, source: str) -> c.TextHeaders:
    """The headers, with the ``cookies`` array as the one ``cookie`` header."""
    values = event.get("headers")
    if type(values) is not dict:
        values = c.mapping(event, "headers", source)
    headers = c.read_single_headers(values, source)
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
        if isinstance(headers, dict) and joined.isascii():
            # The event's own mapping (ASCII values only): changed in a copy.
            headers = headers.copy()
            headers.pop("cookie", None)
            headers["cookie"] = joined  # last, as in the list below
            return headers
        headers = [(name, value) for name, value in c.header_items(headers) if name != "cookie"]
        headers.append(("cookie", joined))
    return headers


def _kinds(items: list[object]) -> str:
    return ", ".join(sorted({type(item).__name__ for item in items}))


def to_response(
    event: LambdaEvent, status: int, headers: TextHeaders, body: bytes, config: SourceConfig
) -> LambdaResponse:
    """Set-Cookie values go in ``cookies``; other repeated headers are
    comma-joined (RFC 9110, 5.3)."""
    single: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        if name == "set-cookie":
            cookies.append(value)
        elif name in single:
            single[name] += "," + value
        else:
            single[name] = value
    response: LambdaResponse = {"statusCode": status, "headers": single}
    if cookies:
        response["cookies"] = cookies
    response["body"], response["isBase64Encoded"] = config.serializer.encode(body, headers)
    return response


SOURCE = EventSource(
    name=NAME,
    matches=matches,
    to_request=scope_reader(read),
    to_response=takes_text(to_response),
    looks_for="'version': '2.0', 'rawPath' and requestContext.http",
    read=read,
)
