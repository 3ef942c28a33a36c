"""Streamed responses run locally (``--invoke-mode RESPONSE_STREAM``).

On AWS a streaming function answers a function URL or API Gateway REST request with a JSON
prelude (``statusCode``, ``headers``, ``cookies``), 8 NUL bytes and the body as the app sends
it; the service turns the prelude into the HTTP response head and passes each chunk on. An
error after the first byte cannot change the status any more: the service ends the connection
without ending the body.

:class:`LocalStream` is the :class:`~bridge.types.ResponseStream` that
:meth:`bridge.Bridge.respond` writes to here. It builds the prelude as ``bridge.runtime`` does
(:func:`bridge.runtime.framing.prelude`), reads it back as the function URL would, and hands
the head, each chunk and the end to a :class:`StreamSink`: the HTTP server's connection
(``serve``) or standard output (``invoke``). It is called from the invocation's thread; once
:meth:`LocalStream.finish` has run (the invocation returned or timed out), whatever the app
still sends is dropped, as Lambda drops the output of an invocation it has given up on.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Literal, Protocol

from bridge.local.responses import HTTPResponse, read_response, relayed_headers
from bridge.runtime.framing import SEPARATOR, prelude
from bridge.types import TextHeaders

__all__ = ["STREAMING_SOURCES", "LocalStream", "StreamSink", "streamed_head"]

#: The sources (``--source`` names) whose services stream a function's response.
STREAMING_SOURCES = ("url", "rest")


class StreamSink(Protocol):
    """Where the client's view of a streamed response goes, in order: one head, body
    chunks, one end. Called from the invocation's thread, one call at a time."""

    def head(self, response: HTTPResponse, prelude: dict[str, Any] | None) -> None:
        """The status and headers. ``prelude``: the function's prelude, for a streamed
        response (the body follows in chunks, its length unknown); None for a whole response
        made here (its headers have a Content-Length, the body follows in one piece)."""

    def body(self, data: bytes) -> None:
        """Body bytes (never empty)."""

    def end(self, failed: bool) -> None:
        """The end of the response; ``failed``: the function failed after its first byte, so
        the body must not look complete (the connection ends)."""


def streamed_head(document: dict[str, Any]) -> HTTPResponse:
    """The head a function URL sends for the prelude ``document``: its headers (less
    hop-by-hop ones), one Set-Cookie per cookie, and a Date unless the function sent one."""
    response = read_response("url", {**document, "body": ""})
    return HTTPResponse(response.status, relayed_headers(response.headers))


State = Literal["new", "open", "ended", "closed"]


class LocalStream:
    """The response stream of one local invocation, written to ``sink``."""

    def __init__(self, sink: StreamSink) -> None:
        self._sink = sink
        self._lock = threading.Lock()
        self.state: State = "new"
        #: The status sent, once the head is.
        self.status = 0
        #: Body bytes sent.
        self.sent = 0
        #: What ended the stream after its first byte, if anything did.
        self.error: BaseException | None = None

    @property
    def started(self) -> bool:
        return self.state != "new"

    async def start(self, status: int, headers: TextHeaders) -> None:
        document: dict[str, Any] = json.loads(prelude(status, headers)[: -len(SEPARATOR)])
        head = streamed_head(document)
        with self._lock:
            if self.state == "new":
                self.state = "open"
                self.status = status
                self._sink.head(head, document)

    async def write(self, data: bytes) -> None:
        with self._lock:
            if self.state == "open":
                self.sent += len(data)
                self._sink.body(data)

    async def end(self, error: BaseException | None) -> None:
        with self._lock:
            if self.state == "open":
                self.state = "ended"
                self.error = error
                self._sink.end(error is not None)

    def finish(self, response: HTTPResponse | None = None) -> None:
        """The invocation is over (or given up on): send ``response`` whole if nothing was
        sent yet, end a stream left open as failed, and drop whatever comes after."""
        with self._lock:
            if self.state == "new" and response is not None:
                self.status = response.status
                self.sent = len(response.body)
                self._sink.head(response, None)
                if response.body:
                    self._sink.body(response.body)
                self._sink.end(False)
            elif self.state == "open":
                self._sink.end(True)
            self.state = "closed"
