"""What the event-source modules share to read a request: field checks,
header lists, host and port, query strings and paths.

Each built-in source's reader, ``read(event, context, config, build)``,
checks the request's fields once and hands them to ``build`` (see
:data:`Builder`): :func:`bridge.sources.scope.to_scope` (the ASGI scope and
the whole body) or :func:`bridge.wsgi.environ.to_environ`.  The fields are
text as the event carries it: header names lower-cased, values untouched;
``path`` percent-decoded once and including ``root_path``; ``raw_path`` and
``query`` as received (or re-encoded).  ``urllib.parse`` is imported by the
first path or query that needs it, not at cold start.
"""

from __future__ import annotations

from bridge._cache import remember
from bridge.errors import ConfigurationError, MalformedEventError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any, TypeAlias, TypeVar

    from bridge.sources.base import SourceConfig
    from bridge.types import LambdaContext, LambdaEvent

    T = TypeVar("T")
    #: Request headers as read: lower-case names, values as received, in order.
    Pairs = list[tuple[str, str]]
    #: Request headers as a source hands them on: pairs, or the event's own
    #: ``{"Name": "value"}`` mapping or :class:`MultiValueHeaders`, which
    #: the builder checks as it reads them.
    RequestHeaders: TypeAlias = "Pairs | dict[Any, Any] | MultiValueHeaders"
    #: Request headers once checked: lower-case pairs, or a plain mapping.
    CheckedHeaders = Pairs | dict[Any, Any]
    #: ``(host, port)`` of the server, as the ASGI scope carries it.
    Server = tuple[str, int | None] | None
    #: What a reader hands its fields to, positionally: source name, event,
    #: context, method, scheme, path, raw_path (None: only the decoded path
    #: is known, the scope re-encodes it), root_path, query, headers, cookie
    #: (a Cookie header the event carries apart, as HTTP API 2.0 does: it
    #: replaces any in headers), client, server, body, http_version,
    #: authorizer.  ``server`` as a str (the domain, or "") leaves scheme and
    #: server to the builder (:func:`scheme_and_server` of the headers).
    # fmt: off
    Builder = Callable[
        [str, LambdaEvent, LambdaContext | None, str, str, str, "str | None", str, str,
         RequestHeaders, "str | None", "str | None", "Server | str", bytes, str,
         "dict[str, Any] | None"],
        T,
    ]
    # fmt: on


class MultiValueHeaders:
    """An event's ``{"Name": ["value", ...]}`` mapping, for the builder to check."""

    __slots__ = ("values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values


def build_proxied(  # noqa: PLR0917 - the Builder's fields, positionally
    build: Builder[T],
    source: str,
    event: LambdaEvent,
    context: LambdaContext | None,
    config: SourceConfig,
    method: str,
    raw: str,
    query: str,
    headers: RequestHeaders,
    body: bytes,
    client: str | None,
    found: tuple[str, Server | str],
) -> T:
    """Hand ``build`` a request that a proxy (load balancer, VPC Lattice,
    CloudFront) passed on as the client sent it: ``raw``, the path still
    encoded, is decoded once; ``root_path`` is the base path when the path
    starts with it; ``found`` is :func:`scheme_and_server` of the headers, or
    the default scheme and ``""`` for the builder to find the server in them."""
    path = decode_path(raw)
    root_path = config.base_path if prefix_on_boundary(path, config.base_path) else ""
    scheme, server = found
    return build(
        source,
        event,
        context,
        method,
        scheme,
        path,
        raw,
        root_path,
        query,
        headers,
        None,
        client,
        server,
        body,
        "1.1",
        None,
    )


# ------------------------------------------------------------------ fields


def mapping(event: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    """``event[key]`` as a mapping; absent or null gives an empty one."""
    value = event.get(key)
    if type(value) is dict:
        return value
    if value is None:
        return {}
    from collections.abc import Mapping  # loaded by the rare event that needs it

    if not isinstance(value, Mapping):
        raise MalformedEventError(
            f"{source} event: expected {key!r} to be an object or null, got {type(value).__name__}."
        )
    return value


def text(value: object, key: str, source: str) -> str:
    """A string field (null: ``""``) that HTTP can carry: valid Unicode."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedEventError(
            f"{source} event: expected {key!r} to be a string, got {type(value).__name__}."
        )
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise not_unicode(repr(key), exc, source) from None
    return value


def method(value: object, key: str, source: str) -> str:
    """The request method: a non-empty ASCII string (an HTTP token)."""
    if type(value) is str and value and value.isascii():
        return value
    name = text(value, key, source)
    if not name:
        raise MalformedEventError(f"{source} event: {key!r} is missing or empty.")
    raise MalformedEventError(
        f"{source} event: expected {key!r} to be an HTTP method (ASCII), got other characters."
    )


def absolute_path(value: object, key: str, source: str) -> str:
    """A path as the event carries it, with its leading ``/`` (``""`` and null are ``/``)."""
    raw = text(value, key, source) or "/"
    return raw if raw.startswith("/") else "/" + raw


def not_unicode(what: str, exc: UnicodeEncodeError, source: str) -> MalformedEventError:
    """The error for a string JSON can carry but HTTP cannot: a lone surrogate."""
    return MalformedEventError(
        f"{source} event: {what} is not valid Unicode (a lone surrogate at position {exc.start})."
    )


def client(address: object) -> str | None:
    """The client address; None for one that is not a non-empty ASCII str."""
    if not isinstance(address, str) or not address or not address.isascii():
        return None
    return address


def http_version(protocol: object) -> str:
    """``"HTTP/1.1"`` -> ``"1.1"``, ``"HTTP/2.0"`` -> ``"2"``; anything else is 1.1."""
    if isinstance(protocol, str) and protocol.upper().startswith("HTTP/"):
        version = protocol[5:]
        if version in ("1.0", "1.1", "2", "2.0", "3", "3.0"):
            return version[0] if version in ("2.0", "3.0") else version
    return "1.1"


# ----------------------------------------------------------------- headers


#: Request header names (str) known to be lower case (bounded: they come from clients).
_LOWER_CASE: dict[str, bool] = {}


def header_items(headers: CheckedHeaders) -> Iterable[tuple[str, str]]:
    """Every ``(name, value)`` of ``headers``, in order."""
    return headers.items() if isinstance(headers, dict) else headers


def last_values(headers: CheckedHeaders) -> Mapping[str, str]:
    """The last value of each header name."""
    return headers if isinstance(headers, dict) else dict(headers)


def read_single_headers(values: Mapping[str, Any], source: str) -> CheckedHeaders:
    """``{"Name": "value"}`` as request headers: the mapping itself when every
    name is lower case and every value an ASCII str (as HTTP APIs send
    them), else pairs with lower-cased names; null values are left out."""
    if type(values) is dict:
        try:
            if "".join(values.values()).isascii() and (
                _LOWER_CASE.keys() >= values.keys() or _lower_case(values)
            ):
                return values
        except TypeError:
            pass  # a value that is not a str: the careful loop
    return [
        _checked_pair(name, value, source) for name, value in values.items() if value is not None
    ]


def _lower_case(names: Iterable[object]) -> bool:
    """Whether every name is a lower-case str (remembered in ``_LOWER_CASE``)."""
    known = _LOWER_CASE
    for name in names:
        if name not in known:
            if type(name) is not str or not name.islower():
                return False
            remember(known, name, True)
    return True


def read_multi_headers(values: Mapping[str, Any], source: str) -> CheckedHeaders:
    """``{"Name": ["v1", "v2"]}`` as request headers: a mapping of lower-case
    names when each has one ASCII str value and one spelling, else pairs;
    a null entry is left out and a plain string is a list of one."""
    headers: dict[str, str] = {}
    for name, items in values.items():
        if type(items) is list and len(items) == 1:
            value = items[0]
            if type(value) is str and type(name) is str and value.isascii():
                headers[name.lower()] = value
                continue
        return _multi_value_pairs(values, source)
    if len(headers) < len(values):  # a name in two spellings
        return _multi_value_pairs(values, source)
    return headers


def _multi_value_pairs(values: Mapping[str, Any], source: str) -> Pairs:
    pairs: Pairs = []
    for name, items in values.items():
        if items is None:
            continue
        if type(items) is not list:
            if not isinstance(items, str):
                raise MalformedEventError(
                    f"{source} event: multi-value header {name!r} should be a list of "
                    f"strings, got {type(items).__name__}."
                )
            items = [items]
        pairs.extend(_checked_pair(name, value, source) for value in items)
    return pairs


def latin_1_or_utf_8(text: str, name: str, source: str) -> bytes:
    """A part of header ``name`` as bytes: latin-1 (HTTP's own charset) when it
    fits, else UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise not_unicode(f"header {name!r}", exc, source) from None


def _checked_pair(name: object, value: object, source: str) -> tuple[str, str]:
    if not isinstance(value, str):
        raise MalformedEventError(
            f"{source} event: header {name!r} should have a string value, "
            f"got {type(value).__name__}."
        )
    if not isinstance(name, str):
        raise MalformedEventError(
            f"{source} event: header names should be strings, got {type(name).__name__}."
        )
    return name.lower(), value


# --------------------------------------------------------- scheme and server


def rightmost(value: str) -> str:
    """The right-most entry of a comma-separated header: the one the last proxy added."""
    return value.rpartition(",")[2].strip()


def scheme_and_server(
    last: Mapping[str, str], default_scheme: str = "https", host: str | None = None
) -> tuple[str, Server]:
    """The URL scheme (X-Forwarded-Proto's, if http or https) and ``(host,
    port)`` from the last value of each header; ``host`` stands in for a
    missing Host.  Never fails on legal but unusual values: IPv6 literals, a
    Host with an empty port, a comma-separated X-Forwarded-Port."""
    key = (
        last.get("x-forwarded-proto"),
        last.get("host"),
        last.get("x-forwarded-port"),
        default_scheme,
        host,
    )
    found = _SERVERS.get(key)
    if found is None:
        found = remember(_SERVERS, key, scheme_and_server_of(*key))
    return found


#: ``scheme_and_server`` answers, by the values they depend on: few distinct
#: ones reach one function.
_SERVERS: dict[tuple[str | None, ...], tuple[str, Server]] = {}


def scheme_and_server_of(
    proto: str | None,
    raw_host: str | None,
    forwarded_port: str | None,
    default_scheme: str,
    host: str | None,
) -> tuple[str, Server]:
    """:func:`scheme_and_server`, from the three header values themselves
    (None when absent), uncached."""
    scheme = rightmost(proto).lower() if proto else default_scheme
    if scheme not in ("http", "https"):
        scheme = default_scheme
    if raw_host is not None:
        host = raw_host.strip()
    if not host:
        return scheme, None
    name, port = split_host(host)
    if forwarded_port is not None:
        candidate = port_number(rightmost(forwarded_port))
        if candidate is not None:
            port = candidate
    if port is None:
        port = 443 if scheme == "https" else 80
    return scheme, (name, port)


def split_host(host: str) -> tuple[str, int | None]:
    """``"example.com:8080"`` -> ``("example.com", 8080)``; IPv6 brackets removed."""
    if host.startswith("["):
        end = host.find("]")
        if end != -1:
            name, rest = host[1:end], host[end + 1 :]
            return name, port_number(rest[1:]) if rest.startswith(":") else None
    name, _, port = host.rpartition(":")
    if not name or ":" in name:  # no colon, or a bare IPv6 address
        return host, None
    return name, port_number(port)


def port_number(text: str) -> int | None:
    """A TCP port from its decimal digits; anything else (``"²"``, ``"99999"``) is None."""
    if text.isascii() and text.isdigit() and len(text) <= 5:
        port = int(text)
        if port <= 65535:
            return port
    return None


# ------------------------------------------------------------------- query


def query_items(params: Mapping[str, Any], source: str) -> list[tuple[str, str]]:
    """``(key, value)`` for every value of decoded or still-encoded query
    parameters, in order; a null value is blank."""
    items: list[tuple[str, str]] = []
    for key, values in params.items():
        if type(values) is not list:
            if values is not None and not isinstance(values, str):
                raise MalformedEventError(
                    f"{source} event: query parameter {key!r} should be a string or a list "
                    f"of strings, got {type(values).__name__}."
                )
            values = [values]
        for value in values:
            if type(value) is not str:
                if value is not None and not isinstance(value, str):
                    raise MalformedEventError(
                        f"{source} event: query parameter {key!r} has a value that is not a "
                        f"string ({type(value).__name__})."
                    )
                value = value or ""
            items.append((key, value))
    return items


def encode_query(params: Mapping[str, Any], source: str) -> str:
    """Rebuild a query string (ASCII) from decoded parameters, in their order."""
    parts = []
    for key, value in query_items(params, source):
        try:
            parts.append(_quote(key) + "=" + _quote(value))
        except UnicodeEncodeError as exc:
            raise not_unicode(f"query parameter {key!r}", exc, source) from None
    return "&".join(parts)


def _quote(text: str) -> str:
    """``quote_plus(text)``, importing ``urllib.parse`` only for text that needs quoting."""
    if text.isalnum() and text.isascii():
        return text
    from urllib.parse import quote_plus  # loaded by the first text that needs it

    return quote_plus(text)


def join_query(params: Mapping[str, Any], source: str) -> str:
    """Join still-encoded query parameters without touching their encoding."""
    joined = "&".join(f"{key}={value}" for key, value in query_items(params, source))
    if not joined.isascii():
        try:
            joined.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise not_unicode("the query string", exc, source) from None
    return joined


# ------------------------------------------------------------------- paths


def normalize_base_path(base_path: object) -> str:
    """``"/"`` or ``""`` -> ``""``; ``"api/"`` -> ``"/api"``."""
    if base_path is None:
        return ""
    if not isinstance(base_path, str):
        raise ConfigurationError(
            f"api_gateway_base_path must be a string such as '/api', got {base_path!r}."
        )
    stripped = base_path.strip().strip("/")
    return "/" + stripped if stripped else ""


def prefix_on_boundary(path: str, prefix: str) -> bool:
    """Whether ``path`` starts with ``prefix`` on a path-segment boundary."""
    return bool(prefix) and (path == prefix or path.startswith(prefix + "/"))


def stage_segment(path: str, stage: object) -> str:
    """``"/stage"`` when a named stage is the first segment of ``path``."""
    if isinstance(stage, str) and stage and stage != "$default":
        prefix = "/" + stage
        if prefix_on_boundary(path, prefix):
            return prefix
    return ""


def decode_path(raw: str) -> str:
    """Percent-decode a path exactly once."""
    if "%" not in raw:
        return raw
    from urllib.parse import unquote  # loaded by the first path that needs it

    return unquote(raw)


#: What a path may hold unencoded (RFC 3986 ``pchar`` and ``/``).
_PATH_SAFE = "!$&'()*+,;=:@/"
_PATH_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~" + _PATH_SAFE


def encoded_path(path: str) -> str:
    """A decoded path percent-encoded again, for ``raw_path`` where AWS only
    delivers the decoded one (HTTP APIs): ASCII, no spaces, and it decodes
    to ``path`` exactly (a literal ``%`` becomes ``%25``)."""
    if not path.rstrip(_PATH_CHARS):  # nothing to encode
        return path
    from urllib.parse import quote  # loaded by the first path that needs it

    return quote(path, _PATH_SAFE)
