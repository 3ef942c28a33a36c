"""The application's answer on its way out: the response sinks, then the
helpers the sources' writers share.

From the moment an answer enters bridge (``bridge.asgi.http``,
``bridge.wsgi.response``) it is a status, text headers (``(name, value)``
str pairs, names lower case, both checked) and body bytes.  A *response
sink* takes it from there (docs/runtime.rst, "The seam"): the buffered
:class:`LambdaSink` or, with ``invoke_mode="RESPONSE_STREAM"``, the
:class:`StreamSink`.
"""

from __future__ import annotations

from bridge._cache import remember
from bridge._log import get_logger
from bridge.checks import LAMBDA_RESPONSE_LIMIT, encoded_size, might_be_too_large
from bridge.errors import ProtocolError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from bridge.sources.base import EventSource, SourceConfig, ToResponse
    from bridge.types import Headers, LambdaEvent, LambdaResponse, ResponseStream, TextHeaders

    TextWriter = Callable[[LambdaEvent, int, TextHeaders, bytes, SourceConfig], Any]


logger = get_logger("bridge")

#: The headers of bridge's own plain-text answers, and their size.
ERROR_HEADERS: TextHeaders = [("content-type", "text/plain; charset=utf-8")]
ERROR_HEADER_SIZE = len("content-typetext/plain; charset=utf-8")
#: The most a streamed response may carry (Lambda's limit for streamed responses).
STREAM_LIMIT = 200 * 1024 * 1024


class LambdaSink:
    """The buffered sink: an application's whole answer as the Lambda response
    its event source writes.  One per ``Bridge``."""

    __slots__ = ("config", "error_statuses", "exclude")

    def __init__(
        self, config: SourceConfig, exclude: frozenset[str], error_statuses: frozenset[int]
    ) -> None:
        self.config = config
        #: ``exclude_headers``: lower-case names never passed on.
        self.exclude = exclude
        self.error_statuses = error_statuses

    def answer(  # noqa: PLR0917 (positional: it runs on every buffered answer)
        self,
        source: EventSource,
        event: LambdaEvent,
        request: Any,
        status: int,
        headers: TextHeaders,
        body: bytes,
        header_size: int,
    ) -> LambdaResponse:
        """The Lambda response to the app's answer to ``request`` (a scope or
        an environ, for log lines), with ``error_statuses``, ``exclude_headers``
        and the size limit applied; ``header_size``: the length of all header
        names and values."""
        if status in self.error_statuses:
            from bridge.events import status_error

            why = "error_statuses makes that fail the invocation"
            raise status_error(status, request_line(request), body, why)
        if self.exclude:
            headers = [h for h in headers if h[0] not in self.exclude]
        response = self.write(source, event, status, headers, body)
        # Only a response that might be over its source's limit is measured.
        limit = source.response_limit or LAMBDA_RESPONSE_LIMIT
        if len(body) + header_size <= source.small_response or not might_be_too_large(
            len(body), header_size, len(headers), limit
        ):
            return response
        size = encoded_size(response)
        if size is None or size <= limit:
            return response
        if limit == LAMBDA_RESPONSE_LIMIT:
            whose, outcome = "Lambda's", "Lambda would fail the invocation"
        else:
            whose, outcome = f"the {source.name} source's", "the service would answer 502"
        logger.error(
            "The response to %s is %d bytes once encoded for Lambda, over %s response limit "
            "of %d bytes; answering 500 instead (%s). Serve large content from S3 or "
            "compress it.",
            request_line(request),
            size,
            whose,
            limit,
            outcome,
        )
        return self.error(
            source, event, 500, "Internal Server Error: the response is too large for AWS Lambda."
        )

    def write(
        self,
        source: EventSource,
        event: LambdaEvent,
        status: int,
        headers: TextHeaders,
        body: bytes,
    ) -> LambdaResponse:
        """``source``'s writer called with ``headers``; a custom source's takes
        them as ASGI carries them (the public protocol): latin-1 bytes."""
        write = source.to_response
        if getattr(write, "takes_text", False):
            return write(event, status, headers, body, self.config)  # type: ignore[arg-type]
        return write(event, status, raw_headers(headers), body, self.config)

    def error(
        self, source: EventSource, event: LambdaEvent, status: int, message: str
    ) -> LambdaResponse:
        """A plain-text answer of bridge's own (a rejected event, a 500)."""
        return self.write(source, event, status, list(ERROR_HEADERS), message.encode())


class StreamSink:
    """The streamed sink: the answer sent on ``stream`` as the app produces it,
    without the ``exclude_headers`` and within Lambda's limit on streamed
    responses (over it, the stream ends with an error)."""

    __slots__ = ("exclude", "sent", "stream")

    def __init__(self, stream: ResponseStream, exclude: frozenset[str]) -> None:
        self.stream = stream
        self.exclude = exclude
        #: Body bytes sent so far.
        self.sent = 0

    async def start(self, status: int, headers: TextHeaders) -> None:
        if self.exclude:
            headers = [h for h in headers if h[0] not in self.exclude]
        await self.stream.start(status, headers)

    async def write(self, data: bytes) -> None:
        if not data:
            return
        self.sent += len(data)
        if self.sent > STREAM_LIMIT:
            raise ProtocolError(
                f"The streamed response is over Lambda's limit of {STREAM_LIMIT} bytes for "
                "streamed responses; it is cut off there. Serve large content from S3."
            )
        await self.stream.write(data)

    async def end(self, error: BaseException | None) -> None:
        await self.stream.end(error)

    async def error(self, status: int, message: str) -> None:
        """:meth:`LambdaSink.error`, streamed: all its headers too."""
        await self.stream.start(status, list(ERROR_HEADERS))
        await self.write(message.encode())
        await self.end(None)


# ------------------------------------------------------ for the writers


def takes_text(write: TextWriter) -> ToResponse:
    """A built-in source's ``to_response`` marked as taking text headers
    (:meth:`LambdaSink.write`)."""
    write.takes_text = True  # type: ignore[attr-defined]
    return write  # type: ignore[return-value]


def raw_headers(headers: TextHeaders) -> Headers:
    """Text headers as ASGI carries them (latin-1 bytes)."""
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def text_headers(headers: Headers) -> TextHeaders:
    """ASGI-style headers as text: lower-case names, latin-1 values."""
    return [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in headers]


#: Status lines already known: the common ones from the start (as
#: ``http.HTTPStatus`` spells them, which the tests check), so that a first
#: response needs neither ``http`` nor ``enum``; others as first sent.
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
        remember(_PHRASES, status, phrase, 1024)
    return phrase


def multi_value_headers(headers: TextHeaders) -> dict[str, list[str]]:
    """Headers grouped by name, every value kept in order."""
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name, []).append(value)
    return grouped


def single_value_headers(headers: TextHeaders, source: str) -> dict[str, str]:
    """Headers for a format that holds one value per name: repeats
    comma-joined (RFC 9110, 5.3), but ``Set-Cookie``, which cannot be joined:
    only the last one is kept, and a warning says so."""
    single: dict[str, str] = {}
    for key, values in multi_value_headers(headers).items():
        if key == "set-cookie" and len(values) > 1:
            get_logger("bridge.sources").warning(
                "%s responses carry one value per header: %d Set-Cookie headers were "
                "reduced to the last one. Use a source with multi-value headers to keep all.",
                source,
                len(values),
            )
            single[key] = values[-1]
        else:
            single[key] = ",".join(values)
    return single


# ------------------------------------------------------ for log lines


def request_line(request: Mapping[str, Any]) -> str:
    """``"GET /stage/items"`` of an ASGI scope or a WSGI environ (whose
    bytes-as-str path is read back as UTF-8), for log lines."""
    if "REQUEST_METHOD" not in request:
        return f"{request.get('method', '?')} {request.get('path', '?')}"
    path = f"{request.get('SCRIPT_NAME', '')}{request.get('PATH_INFO', '')}"
    try:
        shown = path.encode("latin-1").decode("utf-8")
    except UnicodeError:  # not bytes-as-str after all: shown as it is
        shown = path
    return f"{request['REQUEST_METHOD']} {shown or '/'}"
