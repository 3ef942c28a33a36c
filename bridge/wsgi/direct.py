"""The WSGI environ straight from a plain event of a built-in HTTP source.

The general path reads an event into a :class:`~bridge.sources._common.Request`
(checking every field) and builds the environ from that.  For the events
HTTP APIs (payload 2.0 and 1.0), function URLs, REST APIs and load balancers
nearly always send, the environ is built here in one go instead: each
header is checked and stored in the same step, and no request record is
made in between.  That is most of what a trivial application's invocation
costs.

These readers take only the plain case: fields of the usual types, ASCII
text, a path that needs no decoding; for the sources that keep the client's
spelling of header names, one value per header and each name spelled once.
For anything else they return ``None`` and the general reader, which also
explains what is wrong with a malformed event, takes over.  Where they do
answer, their environ equals the general path's; ``tests/wsgi/test_direct.py``
checks that on generated events.
"""

from __future__ import annotations

import io

from bridge.body import decode_request_body
from bridge.sources import _common as c
from bridge.sources import alb, function_url, http_api_v1, http_api_v2, rest
from bridge.sources.rest import stage_prefix
from bridge.wsgi.environ import (
    _TEMPLATE,
    _TEXT_KEYS,
    AUTHORIZER_KEY,
    CONTEXT_KEY,
    EVENT_KEY,
    _text_environ_key,
    _wsgi_str,
    add_authorizer,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from bridge.sources.base import EventSource, ReadRequest, SourceConfig
    from bridge.types import LambdaContext, LambdaEvent

    ReadEnviron = Callable[[LambdaEvent, LambdaContext | None, SourceConfig], dict[str, Any] | None]


def version_2_environ(
    event: LambdaEvent, context: LambdaContext | None, config: SourceConfig, url: bool | None = None
) -> tuple[EventSource, dict[str, Any]] | None:
    """The source and environ of a plain HTTP API 2.0 or function URL event;
    ``None`` for any other.

    ``url=None``, for an event whose ``version`` is ``"2.0"``: the two told
    apart by the domain name, as ``builtin_source()`` does, and any event that
    function gives to another source left alone (it needs ``rawPath`` and
    ``requestContext.http`` too, as this reader does).  ``url=False`` or
    ``True``: the event read as the one or the other.
    """
    request_context = event.get("requestContext")
    if type(request_context) is not dict:
        return None
    domain = request_context.get("domainName")
    if url is None:
        if "elb" in request_context or "Records" in event:  # an ALB or CloudFront event?
            return None
        url = isinstance(domain, str) and ".lambda-url." in domain
    http = request_context.get("http")
    headers = event.get("headers")
    if type(http) is not dict or type(headers) is not dict:
        return None
    try:
        method = http["method"]
        path = event["rawPath"]
        query = event["rawQueryString"]
        client = http["sourceIp"]
        # The four str fields in one test: their sum exists only when each is
        # a str, and is ASCII only when each is.  join() takes only str too:
        # every header value is a str, and all of them ASCII.
        if (
            not method
            or path[:1] != "/"
            or not (method + path + query + client).isascii()
            or not "".join(headers.values()).isascii()
        ):
            return None
    except (KeyError, TypeError):  # a field missing, or not a str
        return None
    if url and "%" in path:  # a function URL's path arrives encoded
        return None

    environ = _TEMPLATE.copy()
    # A name found in the environ-key table is a lower-case str seen before;
    # another must be a lower-case ASCII str (its key is worked out, and
    # remembered while the bounded table has room).
    keys = _TEXT_KEYS
    for name, value in headers.items():
        try:
            key = keys[name]
        except KeyError:
            if type(name) is not str or not name.isascii() or name.lower() != name:
                return None
            key = _text_environ_key(name)
        if key:
            environ[key] = value
    cookies = event.get("cookies")
    if cookies:
        if type(cookies) is not list:
            return None
        try:
            joined = "; ".join(cookies)
        except TypeError:
            return None
        if not joined.isascii():
            return None
        environ["HTTP_COOKIE"] = joined

    try:
        server = _SERVERS[
            server_key := (
                headers.get("x-forwarded-proto"),
                headers.get("host"),
                headers.get("x-forwarded-port"),
                domain,
            )
        ]
    except KeyError:
        server = _server(server_key)
    except TypeError:  # a domain name that is not a str (unhashable)
        return None
    stage = request_context.get("stage")
    root_path = "" if stage == "$default" else c.stage_segment(path, stage)
    base_path = config.base_path
    if base_path and c.prefix_on_boundary(path[len(root_path) :], base_path):
        root_path += base_path
    if root_path:
        root_path = root_path.rstrip("/")
        environ["SCRIPT_NAME"] = root_path
        path = path[len(root_path) :]
    body = event.get("body")
    body = (
        b""
        if body is None
        else decode_request_body(
            body, event.get("isBase64Encoded"), source="url" if url else "http"
        )
    )
    environ["REQUEST_METHOD"] = method.upper()
    environ["PATH_INFO"] = path
    environ["QUERY_STRING"] = query
    environ["CONTENT_LENGTH"] = str(len(body)) if body else "0"
    scheme, environ["SERVER_NAME"], environ["SERVER_PORT"] = server
    protocol = http.get("protocol")
    environ["SERVER_PROTOCOL"] = (
        protocol if protocol == "HTTP/1.1" else "HTTP/" + c.http_version(protocol)
    )
    environ["wsgi.url_scheme"] = scheme
    environ["wsgi.input"] = io.BytesIO(body)
    if client:
        environ["REMOTE_ADDR"] = client
    environ[EVENT_KEY] = event
    environ[CONTEXT_KEY] = context
    authorizer = request_context.get("authorizer")
    if authorizer is None:
        environ[AUTHORIZER_KEY] = None
    else:
        add_authorizer(environ, authorizer if type(authorizer) is dict else None)
    return (function_url.SOURCE if url else http_api_v2.SOURCE), environ


def http_api_environ(
    event: LambdaEvent, context: LambdaContext | None, config: SourceConfig
) -> dict[str, Any] | None:
    """The environ for a plain HTTP API 2.0 event; ``None`` for any other."""
    found = version_2_environ(event, context, config, False)
    return None if found is None else found[1]


#: (X-Forwarded-Proto, Host, X-Forwarded-Port, requestContext.domainName)
#: -> (wsgi.url_scheme, SERVER_NAME, SERVER_PORT).  Bounded: the values come
#: from clients.
_SERVERS: dict[tuple[object, ...], tuple[str, str, str]] = {}
#: The same for sources whose scheme is http unless a header says otherwise (ALB).
_HTTP_SERVERS: dict[tuple[object, ...], tuple[str, str, str]] = {}
_SERVERS_MAX = 256


def _server(key: tuple[object, ...], default_scheme: str = "https") -> tuple[str, str, str]:
    """The answer ``_SERVERS`` (or ``_HTTP_SERVERS``) keeps for ``key``, worked
    out as the general path does (``localhost`` when neither a Host header
    nor a domain name)."""
    proto, host, port, domain = key
    headers = {
        name: value
        for name, value in zip(_SERVER_HEADERS, (proto, host, port), strict=True)
        if isinstance(value, str)
    }
    scheme, server = c.scheme_and_server(
        headers, default_scheme, host=domain if isinstance(domain, str) else None
    )
    default_port = "443" if scheme == "https" else "80"
    if server is None:
        found = (scheme, "localhost", default_port)
    else:
        name, number = server
        found = (scheme, _wsgi_str(name), str(number) if number else default_port)
    table = _SERVERS if default_scheme == "https" else _HTTP_SERVERS
    if len(table) < _SERVERS_MAX:
        table[key] = found
    return found


_SERVER_HEADERS = ("x-forwarded-proto", "host", "x-forwarded-port")


def function_url_environ(
    event: LambdaEvent, context: LambdaContext | None, config: SourceConfig
) -> dict[str, Any] | None:
    """The environ for a plain function URL event; ``None`` for any other."""
    found = version_2_environ(event, context, config, True)
    return None if found is None else found[1]


def rest_environ(
    event: LambdaEvent,
    context: LambdaContext | None,
    config: SourceConfig,
    source: str = "rest",
    stage_in_path: bool = False,
) -> dict[str, Any] | None:
    """The environ for a plain REST API event (or, with ``stage_in_path``, an
    HTTP API 1.0 event); ``None`` for any other.

    These events keep the client's header names as it sent them, in
    ``multiValueHeaders`` and ``headers``: names are looked up as they come,
    and a repeated header (several values, or one name in two spellings) is
    left to the general path.
    """
    request_context = event.get("requestContext")
    if type(request_context) is not dict:
        return None
    method_and_path = _method_and_path(event)
    if method_and_path is None:
        return None
    method, path = method_and_path
    environ = _TEMPLATE.copy()
    multi = event.get("multiValueHeaders")
    if not (
        _store_headers(environ, multi, True)
        if multi is not None and (multi or type(multi) is not dict)
        else _store_headers(environ, event.get("headers"), False)
    ):
        return None
    multi_query = event.get("multiValueQueryStringParameters")
    query = event.get("queryStringParameters")
    if (multi_query is not None and type(multi_query) is not dict) or (
        query is not None and type(query) is not dict
    ):
        return None
    query = multi_query or query

    server = _environ_server(environ, request_context.get("domainName"))
    if server is None:
        return None

    stage = stage_prefix(path, request_context)
    if stage:
        path = stage + path
    elif stage_in_path:
        stage = c.stage_segment(path, request_context.get("stage"))
    root_path = stage
    base_path = config.base_path
    if base_path and c.prefix_on_boundary(path[len(stage) :], base_path):
        root_path += base_path
    if root_path:
        root_path = root_path.rstrip("/")
        environ["SCRIPT_NAME"] = root_path
        path = path[len(root_path) :]
    # Raise, as the general path does, for a malformed parameter or body.
    query_string = c.encode_query(query, source) if query else ""
    body = decode_request_body(event.get("body"), event.get("isBase64Encoded"), source=source)
    identity = request_context.get("identity")
    if type(identity) is dict:
        client = identity.get("sourceIp")
        if type(client) is not str or not client.isascii():
            client = c.client(client)
        if client:
            environ["REMOTE_ADDR"] = client
    authorizer = request_context.get("authorizer")
    if authorizer is None:
        environ[AUTHORIZER_KEY] = None
    else:
        add_authorizer(environ, authorizer if type(authorizer) is dict else None)
    protocol = request_context.get("protocol")
    return _finish(
        environ,
        event,
        context,
        method,
        path,
        query_string,
        body,
        server,
        protocol if protocol == "HTTP/1.1" else "HTTP/" + c.http_version(protocol),
    )


def http_api_v1_environ(
    event: LambdaEvent, context: LambdaContext | None, config: SourceConfig
) -> dict[str, Any] | None:
    """The environ for a plain HTTP API 1.0 event; ``None`` for any other."""
    return rest_environ(event, context, config, "http-v1", True)


def alb_environ(
    event: LambdaEvent, context: LambdaContext | None, config: SourceConfig
) -> dict[str, Any] | None:
    """The environ for a plain Application Load Balancer event; ``None`` for any other."""
    method_and_path = _method_and_path(event)
    if method_and_path is None:
        return None
    method, path = method_and_path
    environ = _TEMPLATE.copy()
    if event.get("multiValueHeaders") is not None:
        stored = _store_headers(environ, event["multiValueHeaders"], True)
    else:
        stored = _store_headers(environ, event.get("headers"), False)
    # Whichever parameters the event has, as the general reader takes them.
    multi_query = event.get("multiValueQueryStringParameters")
    query = event.get("queryStringParameters")
    if (
        not stored
        or (multi_query is not None and type(multi_query) is not dict)
        or (query is not None and type(query) is not dict)
    ):
        return None
    query = multi_query or query
    server = _environ_server(environ, None, "http")
    if server is None:
        return None
    base_path = config.base_path
    if base_path and c.prefix_on_boundary(path, base_path):
        environ["SCRIPT_NAME"] = base_path
        path = path[len(base_path) :]
    # Raise, as the general path does, for a malformed parameter or body.
    query_string = c.join_query(query, "alb") if query else ""
    if not query_string.isascii():  # raw UTF-8 the client sent: bytes-as-str (PEP 3333)
        query_string = query_string.encode("utf-8").decode("latin-1")
    body = decode_request_body(event.get("body"), event.get("isBase64Encoded"), source="alb")
    forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
    if forwarded_for:
        client = c.client(c.rightmost(forwarded_for))
        if client:
            environ["REMOTE_ADDR"] = client
    environ[AUTHORIZER_KEY] = None
    return _finish(environ, event, context, method, path, query_string, body, server, "HTTP/1.1")


def _method_and_path(event: LambdaEvent) -> tuple[str, str] | None:
    """``httpMethod`` and ``path`` of a REST, HTTP API 1.0 or ALB event when
    both are plain: non-empty ASCII str, the path absolute and without ``%``
    (these sources deliver it still encoded)."""
    try:
        method = event["httpMethod"]
        path = event["path"]
        if not method or path[:1] != "/" or not (method + path).isascii() or "%" in path:
            return None
    except (KeyError, TypeError):  # a field missing, or not a str
        return None
    return method, path


def _environ_server(
    environ: dict[str, Any], domain: object, default_scheme: str = "https"
) -> tuple[str, str, str] | None:
    """``(wsgi.url_scheme, SERVER_NAME, SERVER_PORT)`` from the headers
    already in ``environ`` and the event's domain name; None for a domain
    name that is not a str (the general path says what is wrong)."""
    table = _SERVERS if default_scheme == "https" else _HTTP_SERVERS
    key = (
        environ.get("HTTP_X_FORWARDED_PROTO"),
        environ.get("HTTP_HOST"),
        environ.get("HTTP_X_FORWARDED_PORT"),
        domain,
    )
    try:
        return table[key]
    except KeyError:
        return _server(key, default_scheme)
    except TypeError:  # unhashable
        return None


def _finish(  # noqa: PLR0917 (positional for speed: one call per request)
    environ: dict[str, Any],
    event: LambdaEvent,
    context: LambdaContext | None,
    method: str,
    path: str,
    query_string: str,
    body: bytes,
    server: tuple[str, str, str],
    protocol: str,
) -> dict[str, Any]:
    """The keys the REST, HTTP API 1.0 and ALB readers set alike."""
    environ["REQUEST_METHOD"] = method.upper()
    environ["PATH_INFO"] = path
    environ["QUERY_STRING"] = query_string
    environ["CONTENT_LENGTH"] = str(len(body)) if body else "0"
    environ["wsgi.url_scheme"], environ["SERVER_NAME"], environ["SERVER_PORT"] = server
    environ["SERVER_PROTOCOL"] = protocol
    environ["wsgi.input"] = io.BytesIO(body)
    environ[EVENT_KEY] = event
    environ[CONTEXT_KEY] = context
    return environ


#: Request header name, in the client's spelling -> environ key ("" for a
#: header that gets none).  Bounded: the names come from clients.
_CASED_KEYS: dict[str, str] = {}
_CASED_KEYS_MAX = 512


def _cased_key(name: object) -> str | None:
    """The environ key for a header name in any case; None for a name that
    is not an ASCII str (the general path explains or converts it)."""
    if type(name) is not str or not name.isascii():
        return None
    lowered = name.lower()
    key = _TEXT_KEYS.get(lowered)
    if key is None:
        key = _text_environ_key(lowered)
    if len(_CASED_KEYS) < _CASED_KEYS_MAX:
        _CASED_KEYS[name] = key
    return key


def _store_headers(environ: dict[str, Any], headers: object, multi: bool) -> bool:
    """Store ``headers`` (``multiValueHeaders`` when ``multi``, else
    ``headers``; null: none) in ``environ``.  False, with some of them
    perhaps stored, when they are not plain: one ASCII str value per name,
    each name an ASCII str spelled only once."""
    if not headers:
        return headers is None or type(headers) is dict
    if type(headers) is not dict:
        return False
    keys = _CASED_KEYS
    for name, value in headers.items():
        try:
            key = keys[name]
        except KeyError:
            found = _cased_key(name)
            if found is None:
                return False
            key = found
        if multi:
            if type(value) is not list or len(value) != 1:
                return False
            value = value[0]
        if type(value) is not str or not value.isascii():
            return False
        if key:
            if key in environ:
                return False  # the same name in two spellings
            environ[key] = value
    return True


#: The direct reader for each built-in source's general one.
READERS: dict[ReadRequest, ReadEnviron] = {
    http_api_v2.read: http_api_environ,
    function_url.read: function_url_environ,
    rest.read: rest_environ,
    http_api_v1.read: http_api_v1_environ,
    alb.read: alb_environ,
}
