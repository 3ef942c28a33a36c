"""The I/O around :mod:`bridge.runtime.http`: one keep-alive connection to
the Runtime API on asyncio streams (:class:`Connection`), or on a blocking
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
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
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
        reused = self._writer is not None
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
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            self._parser = ResponseParser()
            self.opened += 1
        self._writer.write(data)
        await self._writer.drain()

    async def _send(self, method: str, data: bytes) -> Response:
        await self._write(data)
        self._parser.expect(method)
        return await self._read()

    async def _read(self) -> Response:
        reader, parser = self._reader, self._parser
        assert reader is not None
        received = False
        while (response := parser.next_response()) is None:
            received = _fed(parser, await reader.read(_READ_SIZE), received)
        if not response.keep_alive:
            self.close()
        return response

    def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()


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
