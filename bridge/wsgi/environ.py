"""The WSGI environ (PEP 3333) for one request: :func:`to_environ` builds it
from the fields an event source read, :func:`build_environ` from an ASGI
scope.  docs/wsgi.rst ("The environ") says what each key holds.

The path, decoded once, is split on ``root_path`` into ``SCRIPT_NAME`` and
``PATH_INFO``, both "bytes-as-str" (UTF-8 bytes read as latin-1).  Header
names that contain ``_`` are dropped: ``X_Forwarded_For`` would become
``HTTP_X_FORWARDED_FOR`` too, and a client could pass it off as the real one.
"""

from __future__ import annotations

import io

from bridge._cache import remember
from bridge._log import get_logger
from bridge.sources.request import (
    MultiValueHeaders,
    header_items,
    last_values,
    latin_1_or_utf_8,
    read_multi_headers,
    read_single_headers,
    scheme_and_server,
    scheme_and_server_of,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

    from bridge.sources.request import CheckedHeaders, RequestHeaders, Server
    from bridge.types import LambdaContext, LambdaEvent

    #: X-Forwarded-Proto, Host, X-Forwarded-Port, the default scheme, the domain name.
    _ServerKey = tuple[str | None, str | None, str | None, str, str]

logger = get_logger("bridge.wsgi")

#: The environ keys under which the Lambda event and context are passed.
EVENT_KEY = "aws.event"
CONTEXT_KEY = "aws.context"
#: The environ (and scope) key of the event's ``requestContext.authorizer``.
AUTHORIZER_KEY = "aws.authorizer"


class ErrorStream:
    """``wsgi.errors``: every write one ERROR record of ``bridge.wsgi``.  It
    keeps no buffer, so one instance serves every request and thread (a line
    written in pieces arrives as several records)."""

    __slots__ = ()

    def write(self, text: str) -> int:
        message = text[:-1] if text.endswith("\n") else text
        if message:
            logger.error("%s", message)
        return len(text)

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Records are emitted as they are written."""


ERRORS = ErrorStream()

#: Request header name (in any spelling) -> environ key; "" for a header that gets none.
KEYS: dict[str, str] = {}
#: What a header name (an RFC 9110 token) may hold, ``_`` aside, to delete with translate().
_NAME_CHARS = str.maketrans(
    "", "", "!#$%&'*+-.^`|~0123456789abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def environ_key(name: str) -> str:
    """``"x-trace-id"`` (in any spelling) -> ``"HTTP_X_TRACE_ID"``; "" for a
    name to drop."""
    lowered = name.lower()
    if lowered == "content-type":
        key = "CONTENT_TYPE"
    elif lowered == "content-length" or not name or name.translate(_NAME_CHARS):
        key = ""
    else:
        key = "HTTP_" + name.upper().replace("-", "_")
    return remember(KEYS, name, key)


def wsgi_str(text: str) -> str:
    """A str as PEP 3333 wants it: its UTF-8 bytes, one character per byte."""
    return text if text.isascii() else text.encode("utf-8", "surrogateescape").decode("latin-1")


#: Every key :func:`to_environ` sets, in order, with the values that are the same
#: for every request ("" and None: set per request).
TEMPLATE: dict[str, Any] = {
    "REQUEST_METHOD": "",
    "SCRIPT_NAME": "",
    "PATH_INFO": "",
    "QUERY_STRING": "",
    "CONTENT_LENGTH": "",
    "SERVER_NAME": "",
    "SERVER_PORT": "",
    "SERVER_PROTOCOL": "",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "",
    "wsgi.input": None,
    "wsgi.errors": ERRORS,
    "wsgi.multithread": False,
    # Other Lambda execution environments run the same application at the
    # same time.
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
    # The application may read wsgi.input to its end.
    "wsgi.input_terminated": True,
}


TEMPLATE_SIZE = len(TEMPLATE)


def to_environ(  # noqa: PLR0917 - the Builder's positional parameters
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
) -> dict[str, Any]:
    """The :data:`~bridge.sources.request.Builder` of the WSGI environ
    (``raw_path`` has no place in it)."""
    environ = TEMPLATE.copy()
    multi = type(headers) is MultiValueHeaders
    if (multi or type(headers) is dict) and _store_plain(environ, headers, multi):
        if isinstance(server, str):
            key = (
                environ.get("HTTP_X_FORWARDED_PROTO"),
                environ.get("HTTP_HOST"),
                environ.get("HTTP_X_FORWARDED_PORT"),
                scheme,
                server,
            )
            found = SERVERS.get(key) or server_for(key)
            scheme, environ["SERVER_NAME"], environ["SERVER_PORT"] = found
    else:
        checked: CheckedHeaders
        if type(headers) is MultiValueHeaders:
            environ = TEMPLATE.copy()
            checked = read_multi_headers(headers.values, source)
        elif type(headers) is dict:
            environ = TEMPLATE.copy()
            checked = read_single_headers(headers, source)
        else:
            checked = headers  # type: ignore[assignment]
        if isinstance(server, str):
            scheme, server = scheme_and_server(last_values(checked), scheme, server or None)
        _add_headers(environ, header_items(checked), source)
    environ["REQUEST_METHOD"] = method.upper()
    if root_path:
        root_path = root_path.rstrip("/")
        if path.startswith(root_path) and path[len(root_path) : len(root_path) + 1] in ("", "/"):
            path = path[len(root_path) :]
        environ["SCRIPT_NAME"] = wsgi_str(root_path)
    environ["PATH_INFO"] = path if path.isascii() else wsgi_str(path)
    environ["QUERY_STRING"] = query if query.isascii() else wsgi_str(query)
    environ["CONTENT_LENGTH"] = str(len(body)) if body else "0"
    if not isinstance(server, str):  # else already set, from the headers
        environ["SERVER_NAME"], environ["SERVER_PORT"] = _server_fields(scheme, server)
    environ["SERVER_PROTOCOL"] = "HTTP/1.1" if http_version == "1.1" else "HTTP/" + http_version
    environ["wsgi.url_scheme"] = scheme
    environ["wsgi.input"] = io.BytesIO(body)
    if client:
        environ["REMOTE_ADDR"] = client
    environ[EVENT_KEY] = event
    environ[CONTEXT_KEY] = context
    environ[AUTHORIZER_KEY] = authorizer
    if authorizer:
        user = principal(authorizer)
        if user:
            environ["REMOTE_USER"] = wsgi_str(user)
    if cookie is not None:
        environ["HTTP_COOKIE"] = (
            cookie
            if cookie.isascii()
            else latin_1_or_utf_8(cookie, "cookie", source).decode("latin-1")
        )
    return environ


def _store_plain(environ: dict[str, Any], headers: Any, multi: bool) -> bool:
    """Store the event's own header mapping (:class:`MultiValueHeaders` when
    ``multi``) as ``HTTP_*`` keys, checked as they are stored.  False
    (``environ`` part-filled) unless every value is an ASCII str (or a list of
    one) and every name spelled once: the careful path then starts afresh,
    and says what is wrong."""
    if multi:
        headers = headers.values
    else:
        try:
            if not "".join(headers.values()).isascii():
                return False
        except TypeError:  # a value that is not a str
            return False
    keys = KEYS
    stored = 0
    for name, value in headers.items():
        if multi:
            if type(value) is not list or len(value) != 1:
                return False
            value = value[0]
            if type(value) is not str or not value.isascii():
                return False
        try:
            key = keys[name]
        except KeyError:
            if type(name) is not str:
                return False
            key = environ_key(name)
        except TypeError:  # a name that cannot be a dict key
            return False
        if key:
            environ[key] = value
            stored += 1
    # Fewer keys than headers stored: one name in two spellings.
    return len(environ) == TEMPLATE_SIZE + stored


def server_for(key: _ServerKey) -> tuple[str, str, str]:
    """``(wsgi.url_scheme, SERVER_NAME, SERVER_PORT)`` for ``key``."""
    proto, host, port, default_scheme, domain = key
    scheme, server = scheme_and_server_of(proto, host, port, default_scheme, domain or None)
    return remember(SERVERS, key, (scheme, *_server_fields(scheme, server)))


#: ``server_for`` answers, by the values they depend on.
SERVERS: dict[_ServerKey, tuple[str, str, str]] = {}


def _server_fields(scheme: str, server: Server) -> tuple[str, str]:
    """``SERVER_NAME`` and ``SERVER_PORT`` (``localhost`` without a server)."""
    if not server:
        return "localhost", "443" if scheme == "https" else "80"
    name, port = server
    return (
        name if name.isascii() else wsgi_str(name),
        str(port) if port else "443" if scheme == "https" else "80",
    )


def _add_headers(environ: dict[str, Any], headers: Iterable[tuple[str, str]], source: str) -> None:
    """Header pairs as ``HTTP_*`` keys: repeats joined, values as bytes-as-str."""
    for name, value in headers:
        try:
            key = KEYS[name]
        except KeyError:
            key = environ_key(name)
        if not key:
            continue
        if not value.isascii():
            value = latin_1_or_utf_8(value, name, source).decode("latin-1")
        previous = environ.get(key)
        if previous is None:
            environ[key] = value
        else:
            environ[key] = previous + ("; " if key == "HTTP_COOKIE" else ",") + value


def build_environ(scope: Mapping[str, Any], body: bytes, *, multithread: bool) -> dict[str, Any]:
    """The environ for ``scope`` with ``body`` as the whole of ``wsgi.input``."""
    client = scope.get("client")
    authorizer = scope.get(AUTHORIZER_KEY)
    event: Any = scope.get(EVENT_KEY)
    environ = to_environ(
        "asgi",
        event,
        scope.get(CONTEXT_KEY),
        scope["method"],
        scope.get("scheme", "http"),
        scope["path"],
        None,
        scope.get("root_path", ""),
        scope.get("query_string", b"").decode("utf-8", "surrogateescape"),
        [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]],
        None,
        client[0] if client else None,
        scope.get("server"),
        body,
        scope.get("http_version", "1.1"),
        authorizer if type(authorizer) is dict else None,
    )
    environ["REQUEST_METHOD"] = scope["method"]
    environ["wsgi.multithread"] = multithread
    if EVENT_KEY not in scope:
        del environ[EVENT_KEY], environ[CONTEXT_KEY], environ[AUTHORIZER_KEY]
    elif AUTHORIZER_KEY not in scope:
        del environ[AUTHORIZER_KEY]
    return environ


def principal(authorizer: Mapping[str, Any]) -> str | None:
    """Who an API Gateway authorizer let in: the first non-empty string (of
    valid Unicode) of :data:`_PRINCIPAL_PLACES`; None when it does not say."""
    for outer, inner, key in _PRINCIPAL_PLACES:
        block: object = authorizer
        if outer:
            block = authorizer.get(outer)
            if inner and type(block) is dict:
                block = block.get(inner)
        if type(block) is dict:
            found = block.get(key)
            if found and type(found) is str:
                try:
                    found.encode("utf-8")
                except UnicodeEncodeError:
                    continue
                return found
    return None


_PRINCIPAL_PLACES = (
    ("", "", "principalId"),  # a REST or payload 1.0 Lambda authorizer
    ("claims", "", "sub"),  # a JWT authorizer, payload 1.0
    ("jwt", "claims", "sub"),  # a JWT authorizer, payload 2.0
    ("iam", "", "userArn"),  # IAM authorization of an HTTP API or a function URL
    ("lambda", "", "principalId"),  # a payload 2.0 Lambda authorizer's context
)
