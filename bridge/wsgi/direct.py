"""The WSGI environ straight from a plain HTTP API 2.0 or function URL event.

The general path reads an event into a :class:`~bridge.sources._common.Request`
(checking every field) and builds the environ from that.  For the events
these two sources nearly always carry, the environ is built here in one go
instead: each header is checked and stored in the same step, and no request
record is made in between.  That is most of what a trivial application's
invocation costs.

This reader takes only the plain case: str fields of the usual types, ASCII
text, lower-case header names (as HTTP APIs send them), a path
that needs no decoding, a host to name the server.  For anything else it
returns ``None`` and the general reader, which also explains what is wrong
with a malformed event, takes over.  Where it does answer, its environ
equals the general path's; ``tests/wsgi/test_direct.py`` checks that on
generated events.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from bridge.body import decode_request_body
from bridge.sources import _common as c
from bridge.sources import function_url, http_api_v2
from bridge.wsgi.environ import (
    _TEMPLATE,
    _TEXT_KEYS,
    CONTEXT_KEY,
    EVENT_KEY,
    _text_environ_key,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from bridge.sources.base import ReadRequest, SourceConfig
    from bridge.types import LambdaContext, LambdaEvent

    ReadEnviron = Callable[[LambdaEvent, LambdaContext | None, SourceConfig], dict[str, Any] | None]


def http_api_environ(
    event: LambdaEvent,
    context: LambdaContext | None,
    config: SourceConfig,
    source: str = "http",
    path_is_encoded: bool = False,
) -> dict[str, Any] | None:
    """The environ for a plain HTTP API 2.0 event (or, with ``path_is_encoded``,
    a function URL event); ``None`` for any other."""
    request_context = event.get("requestContext")
    if type(request_context) is not dict:
        return None
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
    if path_is_encoded and "%" in path:
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

    domain = request_context.get("domainName")
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
    if server is None:
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
        else decode_request_body(body, event.get("isBase64Encoded"), source=source)
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
    return environ


#: (X-Forwarded-Proto, Host, X-Forwarded-Port, requestContext.domainName)
#: -> (wsgi.url_scheme, SERVER_NAME, SERVER_PORT), or None where there is no
#: server name to give.  Bounded: the values come from clients.
_SERVERS: dict[tuple[object, ...], tuple[str, str, str] | None] = {}
_SERVERS_MAX = 256


def _server(key: tuple[object, ...]) -> tuple[str, str, str] | None:
    """The answer ``_SERVERS`` keeps for ``key``, worked out."""
    proto, host, port, domain = key
    headers = {
        name: value
        for name, value in zip(_SERVER_HEADERS, (proto, host, port), strict=True)
        if type(value) is str
    }
    scheme, server = c.scheme_and_server(
        headers, host=domain if type(domain) is str and domain.isascii() else None
    )
    found = None
    if server is not None:
        name, number = server
        found = (scheme, name, str(number) if number else ("443" if scheme == "https" else "80"))
    if len(_SERVERS) < _SERVERS_MAX:
        _SERVERS[key] = found
    return found


_SERVER_HEADERS = ("x-forwarded-proto", "host", "x-forwarded-port")


def function_url_environ(
    event: LambdaEvent, context: LambdaContext | None, config: SourceConfig
) -> dict[str, Any] | None:
    """The environ for a plain function URL event; ``None`` for any other."""
    return http_api_environ(event, context, config, "url", True)


#: The direct reader for each built-in source's general one.
READERS: dict[ReadRequest, ReadEnviron] = {
    http_api_v2.read: http_api_environ,
    function_url.read: function_url_environ,
}
