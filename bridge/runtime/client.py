"""The I/O around :mod:`bridge.runtime.http`: one keep-alive connection to
the Runtime API on an asyncio protocol (:class:`Connection`), or on a blocking
socket for the worker thread that serves a WSGI app one invocation at a
time (:class:`BlockingConnection`).

The HTTP layer is bridge's own small sans-IO client rather than a library:
the peer is the Runtime API on loopback, which needs no TLS, no redirects,
no proxies and no connection pool, and a runtime that adds no dependency
starts faster and installs anywhere.  Everything protocol-shaped is in
:mod:`bridge.runtime.http` and :mod:`bridge.runtime.api`, tested without
sockets; this module only moves bytes.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from contextlib import suppress

from bridge.runtime.api import parse_address
from bridge.runtime.http import Request, Response, ResponseParser, encode_request

__all__ = ["BlockingConnection", "Connection", "Stopped"]

_READ_SIZE = 64 * 1024


class Connection:
    """One HTTP/1.1 connection to the Runtime API, opened on first use and
    reopened when the server closed it."""

    def __init__(self, address: str) -> None:
        self.host, self.port = parse_address(address)
        self._authority = address.strip()
        self._link: _Link | None = None
        self._parser = ResponseParser()
        #: How many times a connection was opened (keep-alive keeps it at 1).
        self.opened = 0

    async def exchange(self, request: Request, stream: bytes = b"") -> Response:
        """Send ``request`` (then ``stream``, the framed body of a chunked
        request) and return the response.

        A reused connection that turns out to be closed before any byte of
        the response arrived is reopened once and the request sent again.
        """
        data = encode_request(request, self._authority) + stream
        reused = self._link is not None
        try:
            return await self._send(request.method, data)
        except (ConnectionError, _ClosedBeforeAnswer):
            self.close()
            if not reused:
                raise
        return await self._send(request.method, data)

    async def begin(self, request: Request) -> None:
        """Send the head of ``request``, whose body follows with :meth:`write`
        (framed chunks) and ends with :meth:`finish`."""
        await self._write(encode_request(request, self._authority))
        self._parser.expect(request.method)

    async def write(self, data: bytes) -> None:
        """Send ``data`` (framed body bytes of the request begun)."""
        await self._write(data)

    async def finish(self, data: bytes) -> Response:
        """Send the last bytes of the request begun, and return its response."""
        await self._write(data)
        return await self._read()

    async def _write(self, data: bytes) -> None:
        link = self._link
        if link is None:
            loop = asyncio.get_running_loop()
            _, link = await loop.create_connection(lambda: _Link(loop), self.host, self.port)
            self._link = link
            self._parser = ResponseParser()
            self.opened += 1
        await link.write(data)

    async def _send(self, method: str, data: bytes) -> Response:
        await self._write(data)
        self._parser.expect(method)
        return await self._read()

    async def _read(self) -> Response:
        link, parser = self._link, self._parser
        assert link is not None
        received = False
        while (response := parser.next_response()) is None:
            received = _fed(parser, await link.read(), received)
        if not response.keep_alive:
            self.close()
        return response

    def close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            link.transport.close()


class _Link(asyncio.Protocol):
    """The protocol under :class:`Connection`: what ``asyncio.open_connection``'s
    stream reader and writer do for it (bytes read as they arrive, a write
    that waits while the transport's buffer is full, the connection's loss
    raised), without their layers: one reader, one request at a time.

    As the stream reader, :meth:`read` raises the error the connection was
    lost with before handing out bytes still unread, and returns ``b""``
    once the server has closed the connection."""

    transport: asyncio.Transport

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._chunks: list[bytes] = []
        self._eof = False
        self._lost = False
        self._error: Exception | None = None
        self._paused = False
        #: The reader waiting for bytes, or the writer for the buffer to drain.
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return True  # the transport stays open until close(), as a stream's does

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        if exc is None:
            self._eof = True
        else:
            self._error = exc
        self._wake()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        self._waiter = self._loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def read(self) -> bytes:
        """The bytes that arrived since the last read (waiting for some), or
        ``b""`` once the server has closed the connection."""
        while True:
            if self._error is not None:
                raise self._error
            chunks = self._chunks
            if chunks:
                data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                chunks.clear()
                return data
            if self._eof:
                return b""
            await self._wait()

    async def write(self, data: bytes) -> None:
        """Send ``data``; raise if the connection is lost, wait while the
        transport's buffer is over its limit."""
        transport = self.transport
        transport.write(data)
        if transport.is_closing() and not self._lost:
            await asyncio.sleep(0)  # the loss is reported at the next iteration
        while True:
            if self._error is not None:
                raise self._error
            if self._lost:
                raise ConnectionResetError("Connection lost")
            if not self._paused:
                return
            await self._wait()


class Stopped(Exception):
    """:meth:`BlockingConnection.stop` interrupted the exchange."""


class BlockingConnection:
    """:class:`Connection` on a blocking socket, for a worker thread that
    runs the whole cycle itself (a WSGI app, one invocation at a time):
    no event loop between ``/next``, the app and ``/response``.

    :meth:`stop`, from any thread, ends an *interruptible* exchange (the
    ``/next`` that waits for an invocation) under way or to come with
    :class:`Stopped`; the others (an answer being posted) go on.
    """

    def __init__(self, address: str, *, timeout: float | None = None) -> None:
        self.host, self.port = parse_address(address)
        self._authority = address.strip()
        #: The limit of each connect, send and receive (None: no limit).
        self.timeout = timeout
        self._socket: socket.socket | None = None
        self._parser = ResponseParser()
        self._lock = threading.Lock()
        self._stopped = False
        self._interruptible = False
        #: How many times a connection was opened (keep-alive keeps it at 1).
        self.opened = 0

    def exchange(self, request: Request, *, interruptible: bool = False) -> Response:
        """Send ``request`` and return the response; as :meth:`Connection.exchange`,
        a reused connection found closed is reopened once."""
        with self._lock:
            if interruptible and self._stopped:
                raise Stopped
            self._interruptible = interruptible
        data = encode_request(request, self._authority)
        try:
            reused = self._socket is not None
            try:
                return self._send(request.method, data)
            except (ConnectionError, _ClosedBeforeAnswer):
                self.close()
                if not reused or (interruptible and self._stopped):
                    raise
            return self._send(request.method, data)
        except Exception:
            if interruptible and self._stopped:
                self.close()
                raise Stopped from None
            raise
        finally:
            self._interruptible = False

    def _send(self, method: str, data: bytes) -> Response:
        sock = self._socket
        if sock is None:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._socket = sock
                if self._stopped and self._interruptible:
                    raise Stopped
            self._parser = ResponseParser()
            self.opened += 1
        sock.sendall(data)
        parser = self._parser
        parser.expect(method)
        received = False
        while (response := parser.next_response()) is None:
            received = _fed(parser, sock.recv(_READ_SIZE), received)
        if not response.keep_alive:
            self.close()
        return response

    def stop(self) -> None:
        """Interrupt the interruptible exchanges, now and to come (from any thread)."""
        with self._lock:
            self._stopped = True
            sock = self._socket
            if sock is not None and self._interruptible:
                # Wakes the recv() blocked on it; closing is left to its thread.
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with self._lock:
            sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()


class _ClosedBeforeAnswer(Exception):
    """The server closed the connection without a byte of answer."""


def _fed(parser: ResponseParser, data: bytes, received: bool) -> bool:
    """Feed ``data`` (``b""``: the server closed the connection) to ``parser``;
    True, bytes of the answer having arrived.  ``received`` says whether any
    had before: a connection closed without a byte of answer raises
    :class:`_ClosedBeforeAnswer` (a reused one is then opened again)."""
    if not data and not received:
        raise _ClosedBeforeAnswer
    parser.feed(data)
    return True
