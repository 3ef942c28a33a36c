"""A sans-IO HTTP/1.1 client, just enough for the Lambda Runtime API.

Nothing here touches a socket: :func:`encode_request` turns a
:class:`Request` into bytes, and a :class:`ResponseParser` is fed the bytes
that arrive and hands back each complete :class:`Response`.  The I/O around
them is in :mod:`bridge.runtime.client`.

The peer is the Runtime API of the execution environment, on loopback: it
answers with ``Content-Length`` or ``chunked`` bodies and keeps connections
alive.  Both are read here; a body delimited by the connection's end is
accepted too.  Anything else is a :class:`HTTPProtocolError` naming what
arrived.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

__all__ = ["HTTPProtocolError", "Request", "Response", "ResponseParser", "encode_request"]

#: The most a response head may take; the Runtime API's are a few KiB (a
#: client context header is at most 3.5 KiB).
MAX_HEAD = 256 * 1024


class HTTPProtocolError(Exception):
    """The peer sent something that is not the HTTP/1.1 this client reads."""


#: The trailers of a response that has none (read-only: one object for all).
NO_TRAILERS: Mapping[str, str] = MappingProxyType({})


class Request(NamedTuple):
    """One request to send: ``target`` is the path (``/2018-06-01/...``)."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


class Response(NamedTuple):
    """One response read: header names lower-case, repeated ones joined with ``", "``."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes
    #: Whether the connection can carry another request.
    keep_alive: bool = True
    trailers: Mapping[str, str] = NO_TRAILERS


def encode_request(request: Request, host: str) -> bytes:
    """The bytes of ``request`` for the server at ``host`` (``host:port``).

    A request that carries a ``Transfer-Encoding`` header sends its body
    itself, chunk by chunk (see :mod:`bridge.runtime.framing`): only the
    head is returned.  Any other gets a ``Content-Length`` and its body.
    """
    lines = [f"{request.method} {request.target} HTTP/1.1", f"Host: {host}"]
    streamed = False
    for name, value in request.headers:
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
            raise ValueError(f"header {name!r} cannot be sent: it contains a line break or ':'")
        streamed = streamed or name.lower() == "transfer-encoding"
        lines.append(f"{name}: {value}")
    if streamed:
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    lines.append(f"Content-Length: {len(request.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body


class ResponseParser:
    """Reads responses from the bytes of one connection, in order.

    :meth:`feed` the bytes as they arrive (``b""`` at end of stream), then
    :meth:`next_response` returns the next complete response, or ``None``
    while more bytes are needed.  Each response answers one request, in the
    order the requests were sent; :meth:`expect` says which method each
    was (a ``HEAD`` response has no body).
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._eof = False
        self._methods: list[str] = []
        # The response being read: its head, and how its body ends.
        self._head: tuple[int, str, dict[str, str]] | None = None
        self._length: int | None = None
        self._chunked = False
        self._chunks: list[bytes] = []
        self._chunk_left: int | None = None  # bytes left in the current chunk, None between chunks

    def expect(self, method: str) -> None:
        """A request with ``method`` was sent: its response comes after the earlier ones'."""
        self._methods.append(method)

    def feed(self, data: bytes) -> None:
        if self._eof and data:
            raise HTTPProtocolError("bytes fed after the end of the stream")
        if data:
            self._buffer += data
        else:
            self._eof = True

    def next_response(self) -> Response | None:
        """The next complete response, or ``None`` when more bytes are needed.

        Raises :class:`HTTPProtocolError` on a malformed response, or when
        the stream ended in the middle of one.
        """
        if self._head is None and not self._read_head():
            return None
        assert self._head is not None
        status, reason, headers = self._head
        trailers: Mapping[str, str]
        if self._chunked:
            found = self._read_chunked()
            if found is None:
                return None
            body, trailers = found
        elif self._length is not None:
            if len(self._buffer) < self._length:
                if self._eof:
                    raise HTTPProtocolError(
                        f"the connection closed after {len(self._buffer)} of the "
                        f"{self._length} body bytes of a {status} response"
                    )
                return None
            body = bytes(self._buffer[: self._length])
            del self._buffer[: self._length]
            trailers = NO_TRAILERS
        else:  # the body ends with the connection
            if not self._eof:
                return None
            body = bytes(self._buffer)
            self._buffer.clear()
            trailers = NO_TRAILERS
        keep_alive = (
            headers.get("connection", "").lower() != "close"
            and (self._chunked or self._length is not None)
            and not self._eof
        )
        self._head = None
        self._methods.pop(0)
        return Response(status, reason, headers, body, keep_alive, trailers)

    def _read_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD:
                raise HTTPProtocolError(f"a response head longer than {MAX_HEAD} bytes")
            if self._eof:
                if self._buffer:
                    raise HTTPProtocolError(
                        "the connection closed in the middle of a response head"
                    )
                raise HTTPProtocolError("the connection closed before a response arrived")
            return False
        if not self._methods:
            raise HTTPProtocolError("a response arrived for no request")
        head = self._buffer[:end].decode("latin-1")
        del self._buffer[: end + 4]
        status_line, *header_lines = head.split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise HTTPProtocolError(f"expected an HTTP/1.x status line, got {status_line[:80]!r}")
        status = int(parts[1])
        headers = _fields(header_lines)
        self._head = (status, parts[2] if len(parts) == 3 else "", headers)
        self._chunked = False
        self._length = None
        if self._methods[0] == "HEAD" or status in (204, 304) or 100 <= status < 200:
            self._length = 0
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._chunked = True
            self._chunks = []
            self._chunk_left = None
        elif "content-length" in headers:
            value = headers["content-length"]
            if not value.isdigit():
                raise HTTPProtocolError(f"expected a Content-Length number, got {value!r}")
            self._length = int(value)
        return True

    def _read_chunked(self) -> tuple[bytes, dict[str, str]] | None:
        buffer = self._buffer
        while True:
            if self._chunk_left is None:
                line_end = buffer.find(b"\r\n")
                if line_end < 0:
                    self._check_open("a chunk size line")
                    return None
                size_text = bytes(buffer[:line_end]).split(b";", 1)[0].strip()
                try:
                    if not size_text or size_text[:1] in b"+-":
                        raise ValueError
                    size = int(size_text, 16)
                except ValueError:
                    raise HTTPProtocolError(
                        f"expected a hexadecimal chunk size, got {size_text[:40]!r}"
                    ) from None
                if size == 0:
                    end = buffer.find(b"\r\n\r\n", line_end)
                    if end == line_end:  # no trailers: "0\r\n\r\n"
                        trailer_lines: list[str] = []
                    elif end < 0:
                        self._check_open("the trailers")
                        return None
                    else:
                        text = bytes(buffer[line_end + 2 : end]).decode("latin-1")
                        trailer_lines = text.split("\r\n")
                    del buffer[: end + 4]
                    body = b"".join(self._chunks)
                    self._chunks = []
                    return body, _fields(trailer_lines)
                del buffer[: line_end + 2]
                self._chunk_left = size
            left = self._chunk_left
            if len(buffer) < left + 2:
                self._check_open("a chunk")
                return None
            if buffer[left : left + 2] != b"\r\n":
                raise HTTPProtocolError("a chunk is not followed by CRLF")
            self._chunks.append(bytes(buffer[:left]))
            del buffer[: left + 2]
            self._chunk_left = None

    def _check_open(self, what: str) -> None:
        """More bytes are needed to read ``what``: fail if none can come."""
        if self._eof:
            raise HTTPProtocolError(f"the connection closed in the middle of {what}")


def _fields(lines: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise HTTPProtocolError(f"expected a 'Name: value' header line, got {line[:80]!r}")
        key = name.lower()
        value = value.strip()
        fields[key] = f"{fields[key]}, {value}" if key in fields else value
    return fields
