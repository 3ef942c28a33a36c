"""Helpers shared by the event-source modules' readers: header lists, host
and port, query strings, base paths.  The writers' helpers are in
:mod:`bridge.response`."""

from __future__ import annotations

from bridge.errors import MalformedEventError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from typing import Any

    from bridge.types import Headers, HTTPScope, LambdaContext, LambdaEvent


ASGI_VERSIONS = {"version": "3.0", "spec_version": "2.3"}


def encode_value(value: str) -> bytes:
    """A header value as bytes: latin-1 when it fits (HTTP's own charset), else UTF-8."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def mapping(event: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    """``event[key]`` as a mapping; absent or null gives an empty one."""
    value = event.get(key)
    if type(value) is dict:  # the usual case, without the ABC check
        return value
    if value is None:
        return {}
    from collections.abc import Mapping  # loaded by the rare event that needs it

    if not isinstance(value, Mapping):
        raise MalformedEventError(
            f"{source} event: expected {key!r} to be an object or null, got {type(value).__name__}."
        )
    return value


def text(value: object, key: str, source: str, default: str = "") -> str:
    if value is None:
        return default
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


#: Request header names seen so far, lower-cased (bounded: the names come
#: from clients, and only the common ones are worth keeping).
_LOWER: dict[str, str] = {}
#: Lower-case header names as the ASGI scope carries them (latin-1 bytes).
_NAMES: dict[str, bytes] = {}
_NAMES_MAX = 512
#: Request header names (plain str) known to be lower case (bounded).
_LOWERCASE: set[str] = set()

#: A request header list as an event source reads it: lower-case names and
#: the values as received, both str; order and repeats kept.
Pairs = list[tuple[str, str]]
#: Request headers as a source hands them on: pairs, or a mapping of
#: lower-case names to ASCII str values (no repeats) taken from the event as
#: it is.
TextHeaders = Pairs | dict[str, str]


def header_items(headers: TextHeaders) -> Iterable[tuple[str, str]]:
    """Every ``(name, value)`` of ``headers``, in order."""
    return headers.items() if isinstance(headers, dict) else headers


def last_values(headers: TextHeaders) -> Mapping[str, str]:
    """The last value of each header name."""
    return headers if isinstance(headers, dict) else dict(headers)


def lower_name(name: str) -> str:
    """A header name lower-cased, remembered for next time."""
    lowered = name.lower()
    if len(_LOWER) < _NAMES_MAX and type(name) is str:
        _LOWER[name] = lowered
    return lowered


def header_name(name: str) -> bytes:
    """A lower-case header name as the ASGI scope carries it: latin-1 bytes."""
    raw = name.encode("latin-1")
    if len(_NAMES) < _NAMES_MAX:
        _NAMES[name] = raw
    return raw


def method(value: object, key: str, source: str) -> str:
    """The request method: a non-empty ASCII string (an HTTP token)."""
    name = text(value, key, source)
    if not name:
        raise MalformedEventError(f"{source} event: {key!r} is missing or empty.")
    if not name.isascii():
        raise MalformedEventError(
            f"{source} event: expected {key!r} to be an HTTP method (ASCII), got other characters."
        )
    return name


def absolute_path(value: object, key: str, source: str) -> str:
    """A path as the event carries it, with its leading ``/`` (``""`` and null are ``/``)."""
    raw = text(value, key, source, "/") or "/"
    return raw if raw.startswith("/") else "/" + raw


def not_unicode(what: str, exc: UnicodeEncodeError, source: str) -> MalformedEventError:
    """The error for a string JSON can carry but HTTP cannot: a lone surrogate."""
    return MalformedEventError(
        f"{source} event: {what} is not valid Unicode (a lone surrogate at position {exc.start})."
    )


def read_single_headers(values: Mapping[str, Any], source: str) -> TextHeaders:
    """``{"Name": "value"}`` as request headers: the mapping itself when every
    name is lower case and every value an ASCII str (HTTP APIs send them
    so), else pairs with lower-cased names; null values are left out."""
    if type(values) is dict:
        # str.islower() looks at every character and costs more than the
        # rest of the loop: names already found lower case are remembered.
        known = _LOWERCASE
        try:
            for name, value in values.items():
                if type(value) is not str or not value.isascii():
                    break
                if name not in known:
                    if not name.islower():
                        break
                    if len(known) < _NAMES_MAX and type(name) is str:
                        known.add(name)
            else:
                return values
        except AttributeError:
            pass  # a name that is not a string: the careful loop
    lower = _LOWER
    try:
        "".join(values.values())  # TypeError unless every value is a str: one C call
        return [(lower.get(name) or lower_name(name), value) for name, value in values.items()]
    except (AttributeError, TypeError):
        pass  # null or non-string values, or a name that is not a string: the careful loop
    pairs: Pairs = []
    for name, value in values.items():
        if value is not None:
            pairs.append(_checked_pair(name, value, source))
    return pairs


def read_multi_headers(values: Mapping[str, Any], source: str) -> Pairs:
    """``{"Name": ["v1", "v2"]}`` to header pairs, one per value; a null entry
    is left out and a plain string counts as a list of one."""
    lower = _LOWER
    pairs: Pairs = []
    append = pairs.append
    try:  # every entry a list of strings: no per-value checks
        for name, items in values.items():
            if type(items) is not list:
                raise TypeError
            "".join(items)  # TypeError unless every value is a str
            lowered = lower.get(name) or lower_name(name)
            for value in items:
                append((lowered, value))
        return pairs
    except (AttributeError, TypeError):
        pass  # null, non-list or non-string entries: the careful loop below
    pairs = []
    for name, items in values.items():
        if items is None:
            continue
        if isinstance(items, str):
            items = [items]
        elif not isinstance(items, list):
            raise MalformedEventError(
                f"{source} event: multi-value header {name!r} should be a list of strings, "
                f"got {type(items).__name__}."
            )
        pairs.extend(_checked_pair(name, value, source) for value in items)
    return pairs


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


def asgi_headers(headers: TextHeaders, source: str) -> Headers:
    """Request headers as the ASGI scope carries them: each part latin-1 bytes
    when it fits (HTTP's own charset), else UTF-8."""
    names = _NAMES
    pairs = header_items(headers)
    try:
        return [
            (names.get(name) or header_name(name), value.encode("latin-1")) for name, value in pairs
        ]
    except UnicodeEncodeError:
        pass  # beyond latin-1: UTF-8, below
    encoded: Headers = []
    for name, value in pairs:
        try:
            encoded.append((encode_value(name), encode_value(value)))
        except UnicodeEncodeError as exc:
            raise not_unicode(f"header {name!r}", exc, source) from None
    return encoded


def client(address: object) -> str | None:
    """The client address the event reports; None for one that is absent,
    empty, not a string or not ASCII (no IP address is)."""
    if not isinstance(address, str) or not address or not address.isascii():
        return None
    return address


def rightmost(value: str) -> str:
    """The right-most entry of a comma-separated header: the one the last proxy added."""
    return value.rpartition(",")[2].strip()


#: Header values common enough to skip parsing; the parse gives the same answer.
_SCHEMES = {"https": "https", "http": "http"}
_PORTS = {"443": 443, "80": 80}


def scheme_and_server(
    last: Mapping[str, str],
    default_scheme: str = "https",
    host: str | None = None,
    proto_header: str = "x-forwarded-proto",
) -> tuple[str, tuple[str, int | None] | None]:
    """The URL scheme and ``(host, port)`` from the Host and X-Forwarded-*
    headers (``last``: the last value of each, see :func:`last_values`);
    ``host`` is used when there is no Host header.  ``proto_header`` names
    the header that gives the scheme (only ``http`` or ``https`` is taken).

    Never fails on legal but unusual values: IPv6 literals, a Host with an
    empty port, a comma-separated X-Forwarded-Port.
    """
    key = (
        last.get(proto_header),
        last.get("host"),
        last.get("x-forwarded-port"),
        default_scheme,
        host,
    )
    found = _SERVERS.get(key)
    if found is None:
        found = _scheme_and_server(*key)
        if len(_SERVERS) < _SERVERS_MAX:
            _SERVERS[key] = found
    return found


#: ``scheme_and_server`` answers, by the values they depend on: one function
#: sees few distinct ones (bounded: they come from clients).
_SERVERS: dict[tuple[str | None, ...], tuple[str, tuple[str, int | None] | None]] = {}
_SERVERS_MAX = 256


def _scheme_and_server(
    proto: str | None,
    raw_host: str | None,
    forwarded_port: str | None,
    default_scheme: str,
    host: str | None,
) -> tuple[str, tuple[str, int | None] | None]:
    if not proto:
        scheme = default_scheme
    else:
        scheme = _SCHEMES.get(proto) or rightmost(proto).lower()
        if scheme not in ("http", "https"):
            scheme = default_scheme
    if raw_host is not None:
        host = raw_host.strip()
    if not host:
        return scheme, None
    name, port = split_host(host)
    if forwarded_port is not None:
        known = _PORTS.get(forwarded_port)
        if known is not None:
            port = known
        else:
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
    if ":" not in host:  # the usual plain name: nothing to split
        return host, None
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


def query_items(params: Mapping[str, Any], source: str) -> Iterator[tuple[str, str]]:
    """``(key, value)`` for every value of decoded or still-encoded query
    parameters, in order; a null value is blank."""
    for key, values in params.items():
        if values is None or isinstance(values, str):
            values = [values]
        elif not isinstance(values, list):
            raise MalformedEventError(
                f"{source} event: query parameter {key!r} should be a string or a list of "
                f"strings, got {type(values).__name__}."
            )
        for value in values:
            if value is None:
                value = ""
            elif not isinstance(value, str):
                raise MalformedEventError(
                    f"{source} event: query parameter {key!r} has a value that is not a "
                    f"string ({type(value).__name__})."
                )
            yield key, value


def encode_query(params: Mapping[str, Any], source: str) -> str:
    """Rebuild a query string (ASCII) from decoded parameters, in their order."""
    # The usual parameters (str keys, str or list-of-str values, plain
    # letters and digits or text quote_plus() takes) in one loop; anything
    # else goes through the checks below, which also say what is wrong.
    parts: list[str] = []
    append = parts.append
    try:
        for key, values in params.items():
            if type(values) is str:
                values = (values,)
            elif type(values) is not list:
                break
            name = key if key.isalnum() and key.isascii() else _quote_plus(key)
            for value in values:
                if type(value) is not str:
                    break
                append(
                    name
                    + "="
                    + (value if value.isalnum() and value.isascii() else _quote_plus(value))
                )
            else:
                continue
            break
        else:
            return "&".join(parts)
    except (AttributeError, TypeError, UnicodeEncodeError):
        pass
    return _encode_query(params, source)


def _encode_query(params: Mapping[str, Any], source: str) -> str:
    parts = []
    for key, value in query_items(params, source):
        try:
            parts.append(f"{_quote(key)}={_quote(value)}")
        except UnicodeEncodeError as exc:
            raise not_unicode(f"query parameter {key!r}", exc, source) from None
    return "&".join(parts)


def _quote(text: str) -> str:
    """``quote_plus(text)``, skipping the call for plain ASCII letters and digits."""
    if text.isalnum() and text.isascii():
        return text
    return _quote_plus(text)


def join_query(params: Mapping[str, Any], source: str) -> str:
    """Join still-encoded query parameters without touching their encoding."""
    joined = "&".join(f"{key}={value}" for key, value in query_items(params, source))
    if not joined.isascii():
        try:
            joined.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise not_unicode("the query string", exc, source) from None
    return joined


def normalize_base_path(base_path: object) -> str:
    """``"/"`` or ``""`` -> ``""``; ``"api/"`` -> ``"/api"``."""
    from bridge.errors import ConfigurationError

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
    return _unquote(raw) if "%" in raw else raw


#: What a path may hold unencoded (RFC 3986 ``pchar`` and ``/``).
_PATH_SAFE = "!$&'()*+,;=:@/"
_PATH_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~" + _PATH_SAFE


def encoded_path(path: str) -> str:
    """A decoded path percent-encoded again, for ``raw_path`` where AWS only
    delivers the decoded one (HTTP APIs): ASCII, no spaces, and it decodes
    to ``path`` exactly (a literal ``%`` becomes ``%25``)."""
    if not path.rstrip(_PATH_CHARS):  # nothing to encode: the usual path
        return path
    return _quote_path(path, _PATH_SAFE)


def authorizer(request_context: Mapping[str, Any]) -> dict[str, Any] | None:
    """``requestContext.authorizer`` when it is an object, else None."""
    found = request_context.get("authorizer")
    return found if type(found) is dict else None


def principal(authorizer: Mapping[str, Any]) -> str | None:
    """Who an API Gateway authorizer let in; None when it does not say.

    The first non-empty string (of valid Unicode) of: ``principalId`` (a REST
    or payload 1.0 Lambda authorizer), the JWT ``sub`` claim (``claims.sub``
    in payload 1.0, ``jwt.claims.sub`` in 2.0), ``iam.userArn`` (IAM
    authorization of an HTTP API or a function URL), ``lambda.principalId``
    (a payload 2.0 Lambda authorizer that returns one in its context).
    """
    for outer, inner, key in _PRINCIPAL_PLACES:
        block: object = authorizer
        if outer:
            block = authorizer.get(outer)
            if inner and type(block) is dict:
                block = block.get(inner)
        if type(block) is dict:
            found = block.get(key)
            if found and type(found) is str:
                if found.isascii():
                    return found
                try:
                    found.encode("utf-8")
                except UnicodeEncodeError:
                    continue
                return found
    return None


_PRINCIPAL_PLACES = (
    ("", "", "principalId"),
    ("claims", "", "sub"),
    ("jwt", "claims", "sub"),
    ("iam", "", "userArn"),
    ("lambda", "", "principalId"),
)


class Request:
    """One HTTP request as an event source reads it, before it becomes an ASGI
    scope (:meth:`to_scope`) or a WSGI environ (``bridge.wsgi.environ``).

    Everything is a str, as the event carries it: header names lower-cased,
    values untouched; ``path`` percent-decoded once and including
    ``root_path``; ``raw_path`` and ``query`` as received (or re-encoded).
    Turning text into bytes is left to the interface that needs bytes, so a
    WSGI application's environ is built without a round trip through them.
    """

    __slots__ = (
        "authorizer",
        "body",
        "client",
        "context",
        "event",
        "headers",
        "http_version",
        "method",
        "path",
        "query",
        "raw_path",
        "root_path",
        "scheme",
        "server",
        "source",
    )

    def __init__(  # noqa: PLR0917 (positional for speed, see below)
        self,
        source: str,
        event: LambdaEvent,
        context: LambdaContext | None,
        method: str,
        scheme: str,
        path: str,
        raw_path: str,
        root_path: str,
        query: str,
        headers: TextHeaders,
        client: str | None,
        server: tuple[str, int | None] | None,
        body: bytes,
        http_version: str = "1.1",
        authorizer: dict[str, Any] | None = None,
        /,
    ) -> None:
        # Positional only: on the hot path, keywords cost more than the rest
        # of the constructor.
        self.source = source
        self.event = event
        self.context = context
        self.method = method.upper()
        self.scheme = scheme
        self.path = path
        self.raw_path = raw_path
        self.root_path = root_path
        self.query = query
        self.headers = headers
        self.client = client
        self.server = server
        self.body = body
        self.http_version = http_version
        #: ``requestContext.authorizer`` of an API Gateway or function URL
        #: event (None when it has none).
        self.authorizer = authorizer

    def to_scope(self) -> tuple[HTTPScope, bytes]:
        """The ASGI HTTP scope and the whole body."""
        scope: HTTPScope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": self.http_version,
            "method": self.method,
            "scheme": self.scheme,
            "path": self.path,
            "raw_path": self.raw_path.encode("utf-8"),
            "query_string": self.query.encode("utf-8"),
            "root_path": self.root_path,
            "headers": asgi_headers(self.headers, self.source),
            "client": None if self.client is None else (self.client, 0),
            "server": self.server,
        }
        scope["aws.event"] = self.event
        scope["aws.context"] = self.context
        scope["aws.authorizer"] = self.authorizer
        return scope, self.body


def http_version(protocol: object) -> str:
    if protocol == "HTTP/1.1":  # by far the most common
        return "1.1"
    if isinstance(protocol, str) and protocol.upper().startswith("HTTP/"):
        version = protocol[5:]
        if version in ("1.0", "1.1", "2", "2.0", "3", "3.0"):
            return version[0] if version in ("2.0", "3.0") else version
    return "1.1"


# urllib.parse (and the ipaddress module it loads) costs milliseconds of
# import: it is loaded by the first event that needs it.
def _load_urllib_parse() -> None:
    global _quote_path, _quote_plus, _unquote
    from urllib.parse import quote, quote_plus, unquote

    _quote_path, _quote_plus, _unquote = quote, quote_plus, unquote


def _first_quote_path(text: str, safe: str) -> str:
    _load_urllib_parse()
    return _quote_path(text, safe)


def _first_quote_plus(text: str) -> str:
    _load_urllib_parse()
    return _quote_plus(text)


def _first_unquote(text: str) -> str:
    _load_urllib_parse()
    return _unquote(text)


_quote_path: Callable[[str, str], str] = _first_quote_path
_quote_plus: Callable[[str], str] = _first_quote_plus
_unquote: Callable[[str], str] = _first_unquote
