"""The line between a worker process and its supervisor.

With ``BRIDGE_WSGI_WORKERS=processes`` (:mod:`bridge.runtime.processes`),
each worker is ``python -m bridge.runtime`` started by the supervisor with
one end of a socket pair, whose descriptor it finds in
:data:`WORKER_FD_ENV`.  The worker runs the usual runtime loop, one
invocation at a time, and tells the supervisor what it does, one line per
message:

=====================  ==========================================================
``ready``              the handler is loaded; the worker waits for ``go``
``init-error <json>``  the handler could not be loaded (Lambda's error JSON);
                       the supervisor posts it to ``/init/error``, once
``begin <request id>`` ``/next`` handed this worker an invocation
``end``                the worker is done with it (answer posted, ``close()`` run)
=====================  ==========================================================

The supervisor's one message is ``go``: every worker has loaded the handler,
so the function's init is over and the workers may ask for invocations.
``begin`` and ``end`` let the supervisor fail the invocation of a worker
that dies in the middle of it.

:class:`MessageReader` reads these lines (sans-IO); :class:`Link` is what a
runtime without a supervisor uses (it does nothing), :class:`WorkerLink` the
worker's side.
"""

from __future__ import annotations

import json
import os
import socket
from contextlib import suppress
from typing import Any

from bridge.adapter import Bridge
from bridge.errors import ConfigurationError

__all__ = ["WORKERS_ENV", "WORKER_FD_ENV", "Link", "MessageReader", "WorkerLink", "encode"]

#: ``threads`` (the default) or ``processes``: how a WSGI app serves
#: ``AWS_LAMBDA_MAX_CONCURRENCY`` invocations at once.
WORKERS_ENV = "BRIDGE_WSGI_WORKERS"
#: Set by the supervisor in each worker's environment: the descriptor of its end of the line.
WORKER_FD_ENV = "_BRIDGE_RUNTIME_WORKER_FD"

#: A line longer than this is not one of the supervisor's messages (an error JSON
#: with a long traceback fits many times over).
_MAX_LINE = 1 << 20


def encode(kind: str, value: str = "") -> bytes:
    """One message: ``kind``, a space and ``value`` (no line break in either)."""
    return f"{kind} {value}\n".encode() if value else f"{kind}\n".encode()


class MessageReader:
    """The messages in the bytes received so far, as ``(kind, value)`` pairs."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[tuple[str, str]]:
        lines = (self._buffer + data).split(b"\n")
        self._buffer = lines.pop()
        if len(self._buffer) > _MAX_LINE:
            raise ValueError(
                f"expected the worker's messages as lines of at most {_MAX_LINE} bytes, "
                f"got {len(self._buffer)} bytes without a line break"
            )
        messages = []
        for line in lines:
            kind, _, value = line.decode("utf-8", "replace").partition(" ")
            messages.append((kind, value))
        return messages


class Link:
    """A runtime on its own, without a supervisor: every step goes ahead."""

    def check(self, handler: Bridge) -> None:
        """Raise when ``handler`` cannot be served this way."""

    def ready(self) -> bool:
        """The handler is loaded; whether to go on and ask for invocations."""
        return True

    def init_failed(self, error: dict[str, Any]) -> bool:
        """Whether the supervisor takes over reporting ``error`` (else the runtime posts it)."""
        return False

    def begin(self, request_id: str) -> None:
        """Invocation ``request_id`` starts."""

    def end(self) -> None:
        """The invocation begun is done with."""


class WorkerLink(Link):
    """A worker process's side of the line to its supervisor.

    The messages are sent on a blocking socket that the supervisor keeps
    reading; once the supervisor has closed its end (it is shutting down),
    they are dropped.
    """

    def __init__(self, channel: socket.socket) -> None:
        self._channel = channel

    @classmethod
    def from_environ(cls) -> WorkerLink | None:
        """The line this process was started with, if a supervisor started it.
        The variable is removed, so that processes the app starts do not
        take themselves for workers."""
        value = os.environ.pop(WORKER_FD_ENV, None)
        if value is None:
            return None
        if not value.isdigit():
            raise ValueError(
                f"{WORKER_FD_ENV} is set by bridge.runtime in its worker processes to a file "
                f"descriptor number, got {value!r}; do not set it yourself."
            )
        return cls(socket.socket(fileno=int(value)))

    def check(self, handler: Bridge) -> None:
        if handler.interface != "wsgi":
            raise ConfigurationError(
                f"{WORKERS_ENV}=processes serves a WSGI app from one process per invocation "
                f"in flight, but this handler's app is an ASGI app, which serves "
                f"AWS_LAMBDA_MAX_CONCURRENCY invocations at once on one event loop: "
                f"unset {WORKERS_ENV}."
            )

    def ready(self) -> bool:
        """Say so, then wait for ``go`` (False when the supervisor closed the line instead)."""
        if not self._send(encode("ready")):
            return False
        reader = MessageReader()
        while True:
            try:
                data = self._channel.recv(4096)
            except OSError:
                return False
            if not data:
                return False
            if ("go", "") in reader.feed(data):
                return True

    def init_failed(self, error: dict[str, Any]) -> bool:
        self._send(encode("init-error", json.dumps(error, ensure_ascii=True, default=str)))
        return True

    def begin(self, request_id: str) -> None:
        self._send(encode("begin", request_id))

    def end(self) -> None:
        self._send(encode("end"))

    def close(self) -> None:
        self._channel.close()

    def _send(self, message: bytes) -> bool:
        with suppress(OSError):
            self._channel.sendall(message)
            return True
        return False
