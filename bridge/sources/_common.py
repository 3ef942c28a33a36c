"""Helpers shared by the event-source modules' writers: status lines and
the response-side header shapes.  (The request side is :mod:`bridge.sources.request`.)"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from bridge.types import Headers

#: A response header list as text: lower-case names, latin-1 values.
Pairs = list[tuple[str, str]]
_NAMES_MAX = 512


# ---------------------------------------------------------------- responses


#: Status lines already known: the common ones from the start (the same
#: text as ``http.HTTPStatus`` gives on every supported Python, which the
#: tests check), so that a first response needs neither ``http`` nor the
#: ``enum`` module it loads; others are added as they are first sent.
_PHRASES: dict[int, str] = {
    200: "200 OK",
    201: "201 Created",
    204: "204 No Content",
    301: "301 Moved Permanently",
    302: "302 Found",
    303: "303 See Other",
    304: "304 Not Modified",
    307: "307 Temporary Redirect",
    308: "308 Permanent Redirect",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    409: "409 Conflict",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    503: "503 Service Unavailable",
    504: "504 Gateway Timeout",
}


def status_phrase(status: int) -> str:
    """``"200 OK"``; just ``"599"`` for a status without a standard phrase."""
    phrase = _PHRASES.get(status)
    if phrase is None:
        from http import HTTPStatus

        try:
            phrase = f"{status} {HTTPStatus(status).phrase}"
        except ValueError:
            phrase = str(status)
        if len(_PHRASES) < 1024:
            _PHRASES[status] = phrase
    return phrase


#: Response header names seen so far, as ``response_header_name`` returns them (bounded).
RESPONSE_NAMES: dict[bytes, str] = {}


def response_header_name(name: bytes) -> str:
    """A response header name as the Lambda response carries it: a lower-case string."""
    key = name.decode("latin-1").lower()
    if type(name) is bytes and len(RESPONSE_NAMES) < _NAMES_MAX:
        RESPONSE_NAMES[name] = key
    return key


def text_headers(headers: Headers) -> Pairs:
    """A raw (ASGI) response header list as text: lower-case names, latin-1 values."""
    # A loop, not a comprehension: on Python 3.11 a comprehension is a call
    # of its own, which an ASGI response would pay for every time.
    names = RESPONSE_NAMES
    pairs: Pairs = []
    append = pairs.append
    for name, value in headers:
        append(
            (
                (type(name) is bytes and names.get(name)) or response_header_name(name),
                value.decode("latin-1"),
            )
        )
    return pairs


def multi_value_headers(headers: Pairs) -> dict[str, list[str]]:
    """Group response headers (text, lower-case names) by name, keeping every value in order."""
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        entry = grouped.get(name)
        if entry is None:
            grouped[name] = [value]
        else:
            entry.append(value)
    return grouped


def single_value_headers(headers: Pairs, source: str) -> dict[str, str]:
    """Headers for a format that holds one value per name.

    Repeated headers are comma-joined (RFC 9110, 5.3), except ``Set-Cookie``,
    which cannot be joined: only the last one is kept, and a warning says so.
    """
    single: dict[str, str] = {}
    for key, values in multi_value_headers(headers).items():
        if key == "set-cookie" and len(values) > 1:
            import logging

            logging.getLogger("bridge.sources").warning(
                "%s responses carry one value per header: %d Set-Cookie headers were "
                "reduced to the last one. Use a source with multi-value headers to keep all.",
                source,
                len(values),
            )
            single[key] = values[-1]
        else:
            single[key] = ",".join(values) if len(values) > 1 else values[0]
    return single
