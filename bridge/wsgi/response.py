"""Calling a WSGI application once and collecting its whole response.

The response moves through three states; each call the application makes is
checked against the state it arrives in::

    NEW      --start_response(status, headers)-------------------> STARTED
    STARTED  --start_response(..., exc_info)---------------------> STARTED  (status replaced)
    STARTED  --first non-empty body bytes (write or yield)-------> SENDING
    SENDING  --start_response(..., exc_info)---------------------> exc_info re-raised
    NEW      --start_response again, write(), or body bytes------> ProtocolError
    STARTED/SENDING --start_response without exc_info-----------> ProtocolError

The status and headers enter bridge here: checked, as text with lower-case
names, the one form every response sink takes (:mod:`bridge.response`).
Nothing is sent until the application is done: Lambda takes the response in
one piece (``bridge.runtime.wsgi`` streams it instead).  "Sent" means what
PEP 3333 means by it, that body bytes exist, after which an error page can
no longer replace the status.

Whatever the application does, the result is a complete response: its own
when it kept to the protocol, otherwise a 500 and one log line on the
``bridge.wsgi`` logger that says what was expected and what arrived (by
type and size: a status, header or body value is never logged).  The
iterable's ``close()`` is always called.  A body longer than the response's
``Content-Length`` is cut to that length, and iteration stops there.
"""

from __future__ import annotations

from bridge._cache import remember
from bridge._log import get_logger
from bridge.checks import is_field_value, is_token, name_for_log
from bridge.errors import ProtocolError
from bridge.response import ERROR_HEADER_SIZE, ERROR_HEADERS, raw_headers
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


# The states, as the descriptions the log lines use.
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
            # Every item is there already: the whole body in one join, unless
            # an item is not bytes-like (the loop below then says which).
            try:
                body = b"".join(result)
            except TypeError:
                pass
            else:
                self.add(body)
                return
        if isinstance(result, (str, bytes, bytearray)):
            raise ProtocolError(
                f"Expected the WSGI application to return an iterable of bytes, got "
                f"{_kind(result)}; return [body] instead."
            )
        try:
            iterator = iter(result)  # type: ignore[call-overload]
        except TypeError:
            iterator = None
        if iterator is None:  # raised outside the except: no context to carry
            raise ProtocolError(
                "Expected the WSGI application to return an iterable of bytes, got "
                f"{_kind(result)}."
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

    def fail(self) -> None:
        self.status = ERROR_STATUS
        self.headers = list(ERROR_HEADERS)
        self.header_size = ERROR_HEADER_SIZE
        self.chunks = [ERROR_BODY]


def run_app(
    app: WSGIApp, scope: Mapping[str, Any], body: bytes, *, multithread: bool = False
) -> tuple[int, Headers, bytes]:
    """Call ``app`` for the request ``scope`` describes; return ``(status,
    headers, body)``, the headers as ASGI carries them.

    Never raises ``Exception``: every failure becomes a 500 and a log line.
    """
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
            f"{scope.get('method', '?')} {scope.get('path', '?')}",
            exc_info=exc,
        )
        response = WSGIResponse()
        response.fail()
        return response
    return respond(app, environ)


def call_app(app: WSGIApp, environ: dict[str, Any]) -> tuple[int, Headers, bytes]:
    """Call ``app`` with ``environ``; return ``(status, headers, body)``, the
    headers as ASGI carries them.

    Never raises ``Exception``: every failure becomes a 500 and a log line.
    """
    response = respond(app, environ)
    return response.status, raw_headers(response.headers), response.body()


def respond(app: WSGIApp, environ: dict[str, Any]) -> WSGIResponse:
    """Call ``app`` with ``environ``; return the complete response.

    Never raises ``Exception``: every failure becomes a 500 and a log line.
    """
    response = WSGIResponse()
    result: object = None
    failed = False
    try:
        result = app(environ, response.start_response)
        response.collect(result)
    except Exception as exc:
        failed = True
        _log_failure(environ, response, exc)
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


def _log_failure(environ: Mapping[str, Any], response: WSGIResponse, exc: Exception) -> None:
    if isinstance(exc, ProtocolError):
        logger.error(
            "WSGI protocol error (%s, %s): %s Answering 500.",
            request_line(environ),
            response.state,
            exc,
            exc_info=exc,
        )
    else:
        logger.error(
            "Exception in WSGI application (%s, %s); answering 500.",
            request_line(environ),
            response.state,
            exc_info=exc,
        )


#: Status lines already parsed -> their code.
_STATUS_CODES: dict[str, int] = {}


def parse_status(status: object) -> int:
    """``"200 OK"`` -> 200.  The reason phrase may hold any character but
    the controls other than tab (RFC 9112, 4): a CR or LF there could split
    the response."""
    problem = ""
    if isinstance(status, str):
        code = status[:3]
        if (
            code.isascii()
            and code.isdigit()
            and code[0] != "0"
            and (len(status) == 3 or status[3] == " ")
        ):
            if _is_reason_phrase(status[4:]):
                if type(status) is str:
                    remember(_STATUS_CODES, status, int(code), 256)
                return int(code)
            problem = (
                ", with no control character but tab in its reason phrase, got "
                f"{_kind(status)} with one (not shown)"
            )
        else:
            problem = (
                " (three digits from 100, then a space or the end), got "
                f"{_kind(status)} that does not start so (not shown)"
            )
    else:
        problem = f", got {_kind(status)}"
    raise ProtocolError(f"Expected the WSGI status to be a str such as '200 OK'{problem}.")


def _is_reason_phrase(text: str) -> bool:
    """Whether ``text`` holds no C0 control character but tab, and no DEL
    (deleting them all changes nothing)."""
    return len(text.translate(_CONTROLS)) == len(text)


_CONTROLS = dict.fromkeys([*range(9), *range(10, 32), 127])


def check_headers(headers: object) -> tuple[TextHeaders, int | None, int]:
    """WSGI response headers checked, as ``(name, value)`` pairs of str, with
    the value of ``Content-Length`` if there is a valid one, and the length
    of all names and values.  Names must be tokens; values must be latin-1
    without CR, LF or NUL (HTTP forbids them, and they could split the
    response).

    Names are lower-cased; values lose surrounding spaces and tabs, which HTTP
    does not count as part of a value (some frameworks emit ``" a=1"`` for a
    cookie).  The ProtocolError names what is wrong by types and sizes, and
    the name only once it is known to be a token: never a value.
    """
    if type(headers) is not list:
        raise ProtocolError(
            f"Expected the WSGI response headers to be a list of (name, value) tuples, got "
            f"{_kind(headers)}."
        )
    checked: TextHeaders = []
    length: int | None = None
    size = 0
    names = _HEADER_NAMES
    values = _HEADER_VALUES
    for item in headers:
        try:
            name, value = item
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
        key = names.get(name) or _check_name(name)
        if key != "content-length":
            text = values.get(value) or _check_value(key, value)
        elif value.isdigit() and value.isascii():  # the usual "1234"
            text = value
            length = int(value)
        else:
            text = _check_value(key, value)
            if text.isdigit() and text.isascii():
                length = int(text)
        checked.append((key, text))
        size += len(key) + len(text)
    return checked, length, size


_NOT_A_PAIR = object()


#: Response header names already checked -> their lower-case form.
_HEADER_NAMES: dict[str, str] = {}
#: Response header values already checked -> the value stripped: short values
#: of headers other than Content-Length and Set-Cookie (a cookie is seldom
#: sent twice, and is kept out of the process's memory).
_HEADER_VALUES: dict[str, str] = {}
_HEADER_VALUE_MAX = 128
#: The headers whose values are not kept.
_UNIQUE_VALUES = frozenset(("content-length", "set-cookie"))


def _check_value(key: str, value: str) -> str:
    """The value of header ``key`` (a lower-case token) stripped of spaces and
    tabs; ProtocolError unless it is latin-1 without CR, LF or NUL."""
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
    if (
        text
        and type(value) is str
        and len(value) <= _HEADER_VALUE_MAX
        and key not in _UNIQUE_VALUES
    ):
        remember(_HEADER_VALUES, value, text)
    return text


def _check_name(name: str) -> str:
    """A header name, lower-cased; ProtocolError unless it is a token."""
    if not (name.isascii() and is_token(name.encode("ascii"))):
        raise ProtocolError(
            "Expected each WSGI response header name to be an HTTP token (letters, digits "
            f"and !#$%&'*+-.^_`|~), got a str of {len(name)} characters, not an HTTP token "
            "(not shown)."
        )
    key = name.lower()
    if type(name) is str:
        remember(_HEADER_NAMES, name, key)
    return key


def request_line(environ: Mapping[str, Any]) -> str:
    """``"GET /stage/items"`` (bytes-as-str read back as UTF-8), for log lines."""
    path = _read_back(f"{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}")
    return f"{environ.get('REQUEST_METHOD', '?')} {path or '/'}"


def _read_back(path: str) -> str:
    try:
        return path.encode("latin-1").decode("utf-8")
    except UnicodeError:  # not bytes-as-str after all: shown as it is
        return path


def _kind(value: object) -> str:
    """What an application handed over, for a log line: its type, and its
    size when it has one, never its content (it may be a cookie or a body)."""
    if value is None:
        return "None"
    if isinstance(value, str):
        return f"a str of {_count(len(value), 'character')}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"a {type(value).__name__} object of {_count(len(value), 'byte')}"
    kind = type(value).__name__
    if isinstance(value, (list, tuple, dict)):
        return f"a {kind} of {_count(len(value), 'item')}"
    return f"an {kind}" if kind[:1].lower() in "aeiou" else f"a {kind}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
