"""API Gateway HTTP API with payload format 2.0.

``rawPath`` arrives already percent-decoded (API Gateway decodes it, so it is
not decoded again) and carries a named stage in front; the client's own
spelling is lost, so ``raw_path`` is the path percent-encoded again.
``rawQueryString`` is kept verbatim; the ``cookies`` array becomes one
``cookie`` header.  The response puts ``Set-Cookie`` headers into ``cookies``
and comma-joins others.
"""

from __future__ import annotations

import io

from bridge.body import decode_request_body
from bridge.errors import MalformedEventError
from bridge.response import takes_text
from bridge.sources import request as r
from bridge.sources.base import EventSource, SourceConfig, scope_reader
from bridge.wsgi import environ as e

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from bridge.sources.base import ReadRequest
    from bridge.sources.request import Builder
    from bridge.types import LambdaContext, LambdaEvent, LambdaResponse, TextHeaders

    T = TypeVar("T")


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


def reader(source: str) -> ReadRequest:
    """The reader of payload 2.0 events; ``source`` names the event in errors
    (a function URL's differs in its path, which arrives still encoded)."""

    def read(
        event: LambdaEvent, context: LambdaContext | None, config: SourceConfig, build: Builder[T]
    ) -> T:
        # The usual event: the fields of the usual types, plain ASCII text.
        # Anything else goes to the helpers that check it and explain.
        try:
            request_context = event["requestContext"]
            http = request_context["http"]
            method = http["method"]
            raw = event["rawPath"]
            query = event["rawQueryString"]
            plain = (
                type(request_context) is dict
                and type(http) is dict
                and method
                and raw[:1] == "/"
                and (method + raw + query).isascii()
            )
        except (KeyError, TypeError):
            plain = False
        if not plain:
            request_context, http, method, raw, query = _fields(event, source)
        elif build is e.to_environ:
            environ = one_pass_environ(
                event, context, config, source, request_context, http, method, raw, query
            )
            if environ is not None:
                return environ  # type: ignore[return-value]
        path: str = raw
        if source == NAME:
            raw = None  # only the decoded path: the scope re-encodes it
        else:
            path = r.decode_path(raw)

        headers = event.get("headers")  # checked by the builder when a dict
        if type(headers) is not dict:
            headers = r.read_single_headers(r.mapping(event, "headers", source), source)
        stage = request_context.get("stage")
        root_path = "" if stage == "$default" else r.stage_segment(path, stage)
        base_path = config.base_path
        if base_path and r.prefix_on_boundary(path[len(root_path) :], base_path):
            root_path += base_path

        domain = request_context.get("domainName")
        found = event.get("cookies")
        cookie = cookies(found, source) if found else None
        client = http.get("sourceIp")
        if type(client) is not str or not client.isascii():
            client = r.client(client)
        authorizer = request_context.get("authorizer")
        protocol = http.get("protocol")
        body = event.get("body")
        return build(
            source,
            event,
            context,
            method,
            "https",
            path,
            raw,
            root_path,
            query,
            headers,
            cookie,
            client or None,
            domain if type(domain) is str else "",
            b""
            if body is None
            else decode_request_body(body, event.get("isBase64Encoded"), source=source),
            "1.1" if protocol == "HTTP/1.1" else r.http_version(protocol),
            authorizer if type(authorizer) is dict else None,
        )

    return read


def one_pass_environ(  # noqa: PLR0917 - the fields read already, positionally
    event: LambdaEvent,
    context: LambdaContext | None,
    config: SourceConfig,
    source: str,
    request_context: dict[str, Any],
    http: dict[str, Any],
    method: str,
    path: str,
    query: str,
) -> dict[str, Any] | None:
    """For a WSGI app, the environ of an event whose first fields ``read``
    found plain, in one pass: what ``to_environ`` makes of what ``read``
    hands it, in fewer steps (benchmarks/README.md, "One pass for HTTP API
    2.0").  None when the rest is not plain too (headers and client not all
    ASCII text, a header name in two spellings, a cookie not ASCII): ``read``
    then goes on as for any event, and says what is wrong.
    """
    headers = event.get("headers")
    client: Any = http.get("sourceIp")  # a str (checked below), or no one pass
    try:
        if type(headers) is not dict or not (client + "".join(headers.values())).isascii():
            return None
    except TypeError:  # a value that is not a str
        return None
    environ = e.TEMPLATE.copy()
    keys = e.KEYS
    dropped = 0
    for name, value in headers.items():
        try:
            key = keys[name]
        except KeyError:
            if type(name) is not str:
                return None
            key = e.environ_key(name)
        if key:
            environ[key] = value
        else:
            dropped += 1
    if len(environ) != e.TEMPLATE_SIZE + len(headers) - dropped:
        return None  # a name in two spellings
    found = event.get("cookies")
    if found:
        cookie = cookies(found, source)
        if not cookie.isascii():
            return None
        environ["HTTP_COOKIE"] = cookie
    domain = request_context.get("domainName")
    server = (
        environ.get("HTTP_X_FORWARDED_PROTO"),
        environ.get("HTTP_HOST"),
        environ.get("HTTP_X_FORWARDED_PORT"),
        "https",
        domain if type(domain) is str else "",
    )
    scheme, environ["SERVER_NAME"], environ["SERVER_PORT"] = e.SERVERS.get(server) or e.server_for(
        server
    )
    if source != NAME:
        path = r.decode_path(path)
    stage = request_context.get("stage")
    root_path = "" if stage == "$default" else r.stage_segment(path, stage)
    if config.base_path and r.prefix_on_boundary(path[len(root_path) :], config.base_path):
        root_path += config.base_path
    if root_path:
        root_path = root_path.rstrip("/")
        if path.startswith(root_path) and path[len(root_path) : len(root_path) + 1] in ("", "/"):
            path = path[len(root_path) :]
        environ["SCRIPT_NAME"] = e.wsgi_str(root_path)
    body = event.get("body")
    body = (
        b""
        if body is None
        else decode_request_body(body, event.get("isBase64Encoded"), source=source)
    )
    environ["REQUEST_METHOD"] = method.upper()
    environ["PATH_INFO"] = path if path.isascii() else e.wsgi_str(path)
    environ["QUERY_STRING"] = query
    environ["CONTENT_LENGTH"] = str(len(body)) if body else "0"
    protocol = http.get("protocol")
    environ["SERVER_PROTOCOL"] = (
        "HTTP/1.1" if protocol == "HTTP/1.1" else "HTTP/" + r.http_version(protocol)
    )
    environ["wsgi.url_scheme"] = scheme
    environ["wsgi.input"] = io.BytesIO(body)
    if client:
        environ["REMOTE_ADDR"] = client
    environ[e.EVENT_KEY] = event
    environ[e.CONTEXT_KEY] = context
    authorizer = request_context.get("authorizer")
    if type(authorizer) is not dict:
        authorizer = None
    environ[e.AUTHORIZER_KEY] = authorizer
    if authorizer:
        user = e.principal(authorizer)
        if user:
            environ["REMOTE_USER"] = e.wsgi_str(user)
    return environ


def _fields(
    event: LambdaEvent, source: str
) -> tuple[dict[str, Any], dict[str, Any], str, str, str]:
    """``requestContext``, ``requestContext.http``, the method, ``rawPath`` and
    ``rawQueryString``, each checked (an error says what is wrong)."""
    request_context = r.mapping(event, "requestContext", source)
    http = r.mapping(request_context, "http", source)
    method = r.method(http.get("method"), "requestContext.http.method", source)
    raw = r.absolute_path(event.get("rawPath"), "rawPath", source)
    query = r.text(event.get("rawQueryString"), "rawQueryString", source)
    return dict(request_context), dict(http), method, raw, query


read = reader(NAME)


def cookies(found: object, source: str) -> str:
    """The ``cookies`` array (not empty) as one ``Cookie`` header value."""
    if type(found) is list:
        try:
            return "; ".join(found)
        except TypeError:  # an entry that is not a string
            pass
    got = type(found).__name__
    if isinstance(found, list):
        got = f"a list holding {', '.join(sorted({type(item).__name__ for item in found}))}"
    raise MalformedEventError(
        f"{source} event: expected 'cookies' to be a list of strings, got {got}."
    )


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
