"""Calling a WSGI application once and collecting its whole response.

The states, and how each call the application makes moves them::

    NEW      --start_response(status, headers)-------------------> STARTED
    STARTED  --start_response(..., exc_info)---------------------> STARTED  (status replaced)
    STARTED  --first non-empty body bytes (write or yield)-------> SENDING
    SENDING  --start_response(..., exc_info)---------------------> exc_info re-raised
    NEW      --start_response again, write(), or body bytes------> ProtocolError
    STARTED/SENDING --start_response without exc_info-----------> ProtocolError

Status and headers are checked and become text with lower-case names, the
form every response sink takes (:mod:`bridge.response`).  The result is a
complete response: the application's own, or a 500 and one log line on
``bridge.wsgi`` saying what was expected and what arrived (by type and size,
never a value).  docs/wsgi.rst ("The response") has the rest.
"""

from __future__ import annotations

from bridge._cache import remember
from bridge._log import get_logger
from bridge.checks import is_field_value, is_token, name_for_log
from bridge.checks import kind_of as _kind
from bridge.errors import ProtocolError
from bridge.response import ERROR_HEADER_SIZE, ERROR_HEADERS, raw_headers, request_line
from bridge.wsgi.environ import build_environ

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import TracebackType
    from typing import Any

    from bridge.types import Headers, TextHeaders, WSGIApp

    ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


logger = get_logger("bridge.wsgi")

ERROR_STATUS = 500
ERROR_BODY = b"Internal Server Error"


# The states, as log lines describe them.
NEW = "start_response() not called yet"
STARTED = "status and headers set, no body yet"
SENDING = "body bytes produced"


class WSGIResponse:
    """The status, headers and body one application call produces."""

    __slots__ = ("chunks", "header_size", "headers", "remaining", "state", "status")

    def __init__(self) -> None:
        self.state = NEW
        self.status = ERROR_STATUS
        self.headers: TextHeaders = []
        #: The bytes of all header names and values.
        self.header_size = 0
        self.chunks: list[bytes] = []
        #: Bytes still allowed by the response's Content-Length, if it has one.
        self.remaining: int | None = None

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.state is SENDING:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.state is not NEW:
            raise ProtocolError(
                "start_response() was called a second time without exc_info; expected one "
                "call, or a second one with exc_info to replace the status after an error."
            )
        code = _STATUS_CODES.get(status) if type(status) is str else None
        self.status = code or parse_status(status)
        self.headers, self.remaining, self.header_size = check_headers(headers)
        self.state = STARTED
        return self.write

    def write(self, data: bytes) -> None:
        """The ``write()`` callable ``start_response`` returns."""
        if self.state is NEW:
            raise ProtocolError("write() was called before start_response().")
        self.add(data)

    def add(self, data: object) -> None:
        """Append one chunk of body bytes, checked and cut to Content-Length."""
        if type(data) is not bytes:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise ProtocolError(
                    f"Expected the WSGI response body to be bytes, got {_kind(data)}."
                )
            data = bytes(data)
        if not data:
            return
        if self.state is not SENDING:
            if self.state is NEW:
                raise ProtocolError(
                    "The WSGI application produced body bytes before calling start_response(); "
                    "expected start_response() first."
                )
            self.state = SENDING
        remaining = self.remaining
        if remaining is not None:
            if len(data) > remaining:
                data = data[:remaining]
            self.remaining = remaining - len(data)
        self.chunks.append(data)

    def collect(self, result: object) -> None:
        """Read the application's return value to its end, or to Content-Length."""
        if type(result) is list and self.state is STARTED:
            # The whole body at once, unless an item is not bytes-like (the
            # loop below then says which).
            try:
                body = b"".join(result)
            except TypeError:
                pass
            else:
                remaining = self.remaining
                if remaining is not None:
                    body = body[:remaining]
                    self.remaining = remaining - len(body)
                if body:
                    self.state = SENDING
                    self.chunks.append(body)
                return
        text = isinstance(result, (str, bytes, bytearray))
        try:
            iterator = None if text else iter(result)  # type: ignore[call-overload]
        except TypeError:
            iterator = None
        if iterator is None:  # raised outside the except: no context to carry
            raise ProtocolError(
                "Expected the WSGI application to return an iterable of bytes, got "
                f"{_kind(result)}{'; return [body] instead' if text else ''}."
            )
        if self.remaining == 0:
            return
        for chunk in iterator:
            self.add(chunk)
            if self.remaining == 0:
                return

    def body(self) -> bytes:
        chunks = self.chunks
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def fail(self) -> WSGIResponse:
        """Make this response bridge's plain-text 500."""
        self.status = ERROR_STATUS
        self.headers = list(ERROR_HEADERS)
        self.header_size = ERROR_HEADER_SIZE
        self.chunks = [ERROR_BODY]
        return self


def run_app(
    app: WSGIApp, scope: Mapping[str, Any], body: bytes, *, multithread: bool = False
) -> tuple[int, Headers, bytes]:
    """:func:`respond_to_scope` as ``(status, headers, body)``, the headers as
    ASGI carries them."""
    response = respond_to_scope(app, scope, body, multithread=multithread)
    return response.status, raw_headers(response.headers), response.body()


def respond_to_scope(
    app: WSGIApp, scope: Mapping[str, Any], body: bytes, *, multithread: bool = False
) -> WSGIResponse:
    """:func:`respond` for the request an ASGI ``scope`` describes."""
    try:
        environ = build_environ(scope, body, multithread=multithread)
    except Exception as exc:
        logger.error(
            "Could not build the WSGI environ for %s; answering 500.",
            request_line(scope),
            exc_info=exc,
        )
        return WSGIResponse().fail()
    return respond(app, environ)


def respond(app: WSGIApp, environ: dict[str, Any]) -> WSGIResponse:
    """Call ``app`` with ``environ``; return the complete response.  Never
    raises ``Exception``: every failure becomes a 500 and a log line."""
    response = WSGIResponse()
    result: object = None
    failed = False
    try:
        result = app(environ, response.start_response)
        response.collect(result)
    except Exception as exc:
        failed = True
        where = request_line(environ), response.state
        if isinstance(exc, ProtocolError):
            logger.error(
                "WSGI protocol error (%s, %s): %s Answering 500.", *where, exc, exc_info=exc
            )
        else:
            logger.error(
                "Exception in WSGI application (%s, %s); answering 500.", *where, exc_info=exc
            )
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            try:
                close()
            except Exception as exc:
                failed = failed or response.state is NEW
                logger.error(
                    "Exception in close() of the WSGI response iterable (%s); %s.",
                    request_line(environ),
                    "answering 500" if failed else "the response stands",
                    exc_info=exc,
                )
    if not failed and response.state is NEW:
        failed = True
        logger.error(
            "WSGI application returned without calling start_response() (%s); expected "
            "start_response(status, headers) before the end of the response iterable, got "
            "%s. Answering 500.",
            request_line(environ),
            _kind(result),
        )
    if failed:
        response.fail()
    return response


#: Status lines already parsed -> their code.
_STATUS_CODES: dict[str, int] = {}


def parse_status(status: object) -> int:
    """``"200 OK"`` -> 200.  The reason phrase may hold any character but
    the controls other than tab (RFC 9112, 4): a CR or LF there could split
    the response."""
    if not isinstance(status, str):
        problem = f", got {_kind(status)}"
    elif not (
        status[:3].isascii()
        and status[:3].isdigit()
        and status[0] != "0"
        and (len(status) == 3 or status[3] == " ")
    ):
        problem = (
            " (three digits from 100, then a space or the end), got "
            f"{_kind(status)} that does not start so (not shown)"
        )
    elif len(status[4:].translate(_CONTROLS)) != len(status[4:]):
        problem = (
            ", with no control character but tab in its reason phrase, got "
            f"{_kind(status)} with one (not shown)"
        )
    else:
        if type(status) is str:
            remember(_STATUS_CODES, status, int(status[:3]), 256)
        return int(status[:3])
    raise ProtocolError(f"Expected the WSGI status to be a str such as '200 OK'{problem}.")


#: The C0 controls but tab, and DEL: a reason phrase holds none of them.
_CONTROLS = dict.fromkeys([*range(9), *range(10, 32), 127])


def check_headers(headers: object) -> tuple[TextHeaders, int | None, int]:
    """WSGI response headers checked (names HTTP tokens; values latin-1
    without CR, LF or NUL, which could split the response), with the value of
    a valid ``Content-Length`` and the length of all names and values.  Names
    are lower-cased; values lose surrounding spaces and tabs, which HTTP does
    not count as part of a value (some frameworks emit ``" a=1"`` for a cookie).
    """
    if type(headers) is not list:
        raise ProtocolError(
            f"Expected the WSGI response headers to be a list of (name, value) tuples, got "
            f"{_kind(headers)}."
        )
    checked: TextHeaders = []
    length: int | None = None
    size = 0
    for item in headers:
        # The check runs outside the ``except``: its errors must not carry the
        # failed lookup (and the header in it) as their context.
        try:
            known = _CHECKED[item]
        except (KeyError, TypeError):  # new, or not a tuple of str at all
            known = None
        if known is None:
            known = _check_header(item)
        checked.append(known[0])
        size += known[1]
        if known[2] is not None:
            length = known[2]
    return checked, length, size


#: Response headers already checked, as the application gave them -> the
#: checked pair, its length and the Content-Length it sets (or None): short
#: values of headers other than Set-Cookie (a cookie is seldom sent twice,
#: and is kept out of the process's memory).
_CHECKED: dict[tuple[str, str], tuple[tuple[str, str], int, int | None]] = {}
_CHECKED_VALUE_MAX = 128


def _check_header(item: object) -> tuple[tuple[str, str], int, int | None]:
    """One response header checked (see :func:`check_headers`).  The
    ProtocolError names what is wrong by types and sizes, and the name only
    once it is known to be a token: never a value."""
    try:
        name, value = item  # type: ignore[misc]
    except (TypeError, ValueError):
        name = value = _NOT_A_PAIR
    if not isinstance(name, str) or not isinstance(value, str):
        got = (
            _kind(item)
            if name is _NOT_A_PAIR
            else f"a {type(item).__name__} of ({type(name).__name__}, {type(value).__name__})"
        )
        raise ProtocolError(
            "Expected each WSGI response header to be a (name, value) tuple of latin-1 "
            f"str, got {got}."
        )
    if not (name.isascii() and is_token(name.encode("ascii"))):
        raise ProtocolError(
            "Expected each WSGI response header name to be an HTTP token (letters, digits "
            f"and !#$%&'*+-.^_`|~), got a str of {len(name)} characters, not an HTTP token "
            "(not shown)."
        )
    key = name.lower()
    text = value.strip(" \t")
    try:
        encoded = text.encode("latin-1")
    except UnicodeEncodeError:
        encoded = None
    if encoded is None:
        raise ProtocolError(
            f"Expected WSGI response header {name_for_log(key)} to have a latin-1 str value, "
            "got one with other characters (not shown); encode it (RFC 8187, or "
            "percent-encoding) first."
        )
    if not is_field_value(encoded):
        raise ProtocolError(
            f"Expected WSGI response header {name_for_log(key)} without line breaks or NUL, "
            "got a value with CR, LF or NUL (not shown)."
        )
    length = int(text) if key == "content-length" and text.isascii() and text.isdigit() else None
    known = ((key, text), len(key) + len(text), length)
    if (
        type(item) is tuple
        and type(name) is str
        and type(value) is str
        and key != "set-cookie"
        and len(value) <= _CHECKED_VALUE_MAX
    ):
        remember(_CHECKED, item, known, 512)
    return known


_NOT_A_PAIR = object()
