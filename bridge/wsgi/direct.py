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
    method = http.get("method")
    path = event.get("rawPath")
    query = event.get("rawQueryString")
    if (
        type(method) is not str
        or not method
        or not method.isascii()
        or type(path) is not str
        or not path.startswith("/")
        or not path.isascii()
        or (path_is_encoded and "%" in path)
        or type(query) is not str
        or not query.isascii()
    ):
        return None

    environ = _TEMPLATE.copy()
    # Headers: a name found in the environ-key table is a lower-case str
    # seen before; another must be a lower-case ASCII str (its key is worked
    # out, and remembered while the bounded table has room).  A value must
    # be an ASCII str.  Anything else: not plain.
    keys = _TEXT_KEYS
    for name, value in headers.items():
        try:
            key = keys[name]
        except KeyError:
            if type(name) is not str or not name.isascii() or name.lower() != name:
                return None
            key = _text_environ_key(name)
        if type(value) is not str or not value.isascii():
            return None
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
    scheme, server = c.scheme_and_server(
        headers, host=domain if type(domain) is str and domain.isascii() else None
    )
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
    environ["SERVER_NAME"], port = server
    environ["SERVER_PORT"] = str(port) if port else ("443" if scheme == "https" else "80")
    protocol = http.get("protocol")
    environ["SERVER_PROTOCOL"] = (
        protocol if protocol == "HTTP/1.1" else "HTTP/" + c.http_version(protocol)
    )
    environ["wsgi.url_scheme"] = scheme
    environ["wsgi.input"] = io.BytesIO(body)
    client = http.get("sourceIp")
    if type(client) is not str or not client.isascii():
        client = c.client(client)
    if client:
        environ["REMOTE_ADDR"] = client
    environ[EVENT_KEY] = event
    environ[CONTEXT_KEY] = context
    return environ


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
