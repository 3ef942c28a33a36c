"""The ASGI builder: the HTTP scope of the fields a source's reader hands on
(the :data:`~bridge.sources.request.Builder` protocol; the WSGI one is
:func:`bridge.wsgi.environ.to_environ`)."""

from __future__ import annotations

from bridge.sources.request import (
    MultiValueHeaders,
    encoded_path,
    header_items,
    last_values,
    latin_1_or_utf_8,
    read_multi_headers,
    read_single_headers,
    scheme_and_server,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from typing import Any

    from bridge.sources.request import CheckedHeaders, RequestHeaders, Server
    from bridge.types import Headers, HTTPScope, LambdaContext, LambdaEvent


def to_scope(  # noqa: PLR0917 - the Builder's positional parameters
    source: str,
    event: LambdaEvent,
    context: LambdaContext | None,
    method: str,
    scheme: str,
    path: str,
    raw_path: str | None,
    root_path: str,
    query: str,
    headers: RequestHeaders,
    cookie: str | None,
    client: str | None,
    server: Server | str,
    body: bytes,
    http_version: str,
    authorizer: dict[str, Any] | None,
    /,
) -> tuple[HTTPScope, bytes]:
    """The :data:`Builder` of the ASGI HTTP scope: the scope and the whole body."""
    checked: CheckedHeaders
    if type(headers) is dict:
        checked = read_single_headers(headers, source)
    elif type(headers) is MultiValueHeaders:
        checked = read_multi_headers(headers.values, source)
    else:
        checked = headers  # type: ignore[assignment]
    if isinstance(server, str):
        scheme, server = scheme_and_server(last_values(checked), scheme, server or None)
    if cookie is not None:
        checked = [(name, value) for name, value in header_items(checked) if name != "cookie"]
        checked.append(("cookie", cookie))
    scope: HTTPScope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": http_version,
        "method": method.upper(),
        "scheme": scheme,
        "path": path,
        "raw_path": (encoded_path(path) if raw_path is None else raw_path).encode("utf-8"),
        "query_string": query.encode("utf-8"),
        "root_path": root_path,
        "headers": asgi_headers(checked, source),
        "client": None if client is None else (client, 0),
        "server": server,
    }
    scope["aws.event"] = event
    scope["aws.context"] = context
    scope["aws.authorizer"] = authorizer
    return scope, body


def asgi_headers(headers: CheckedHeaders, source: str) -> Headers:
    """Request headers as the ASGI scope carries them (:func:`latin_1_or_utf_8`)."""
    pairs = header_items(headers)
    try:
        return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs]
    except UnicodeEncodeError:  # beyond latin-1
        return [
            (latin_1_or_utf_8(name, name, source), latin_1_or_utf_8(value, name, source))
            for name, value in pairs
        ]
