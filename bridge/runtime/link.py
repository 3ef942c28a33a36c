"""The line between a worker process and its supervisor.

With ``BRIDGE_WSGI_WORKERS=processes`` (:mod:`bridge.runtime.processes`),
each worker is ``python -m bridge.runtime`` started by the supervisor with
two descriptors, named in :data:`WORKER_FD_ENV`:

* one end of a socket pair, for the messages of the worker's start, one
  line each, and for the supervisor to see the worker die (the line closes):

  =====================  ======================================================
  ``ready``              the handler is loaded; the worker waits for ``go``
  ``init-error <json>``  the handler could not be loaded (Lambda's error JSON);
                         the supervisor posts it to ``/init/error``, once
  ``go``                 (from the supervisor) every worker has loaded the
                         handler: init is over, ask for invocations
  =====================  ======================================================

* a small shared memory area, the *slot*, that holds the request id of the
  invocation the worker is serving (empty between invocations): the
  supervisor reads it when the worker has died, to fail that invocation.
  Writing it costs the worker no system call and wakes nobody, where a
  message per invocation would wake the supervisor twice per invocation.

:class:`MessageReader` reads the lines and :func:`put_request_id` /
:func:`request_id_in` write and read the slot (sans-IO); :class:`Link` is
what a runtime without a supervisor uses (it does nothing),
:class:`WorkerLink` the worker's side.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Literal

from bridge.errors import ConfigurationError

if TYPE_CHECKING:
    import mmap

    from bridge.adapter import Bridge

__all__ = [
    "SLOT_SIZE",
    "WORKERS_ENV",
    "WORKER_FD_ENV",
    "Link",
    "MessageReader",
    "WorkerLink",
    "encode",
    "put_request_id",
    "request_id_in",
    "workers_setting",
]

#: ``threads`` (the default) or ``processes``: how a WSGI app serves
#: ``AWS_LAMBDA_MAX_CONCURRENCY`` invocations at once.
WORKERS_ENV = "BRIDGE_WSGI_WORKERS"
#: Set by the supervisor in each worker's environment: ``<line>,<slot>``, two descriptors.
WORKER_FD_ENV = "_BRIDGE_RUNTIME_WORKER_FD"
#: The size of a slot: a two-byte length, then the request id.  Lambda's request ids are
#: 36-character UUIDs; a longer one than fits is not recorded.
SLOT_SIZE = 256

#: A line longer than this is not one of the supervisor's messages (an error JSON
#: with a long traceback fits many times over).
_MAX_LINE = 1 << 20


def workers_setting(value: str | None) -> Literal["threads", "processes"]:
    """The value of :data:`~bridge.runtime.link.WORKERS_ENV`, checked."""
    setting = (value or "").strip() or "threads"
    if setting == "threads":
        return "threads"
    if setting == "processes":
        return "processes"
    raise ValueError(
        f"{WORKERS_ENV} must be 'threads' (the default: a WSGI app called from "
        f"AWS_LAMBDA_MAX_CONCURRENCY threads, which must be thread-safe) or 'processes' (one "
        f"worker process per invocation in flight), got {value!r}."
    )


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


def put_request_id(slot: mmap.mmap | bytearray, request_id: str) -> None:
    """Record ``request_id`` in ``slot`` ("" for none); the length last, so that a
    worker that dies half-way leaves the slot as it was."""
    data = request_id.encode()
    if len(data) > SLOT_SIZE - 2:
        data = b""
    slot[2 : 2 + len(data)] = data
    slot[0:2] = len(data).to_bytes(2, "big")


def request_id_in(slot: mmap.mmap | bytearray) -> str | None:
    """The request id recorded in ``slot``, or None."""
    size = min(int.from_bytes(slot[0:2], "big"), SLOT_SIZE - 2)
    return slot[2 : 2 + size].decode("utf-8", "replace") if size else None


class Link:
    """A runtime on its own, without a supervisor: every step goes ahead."""

    def check(self, handler: Bridge) -> None:
        """Raise when ``handler`` cannot be served this way."""

    def ready(self) -> bool:
        """The handler is loaded; whether to go on and ask for invocations."""
        return True

    def watch(self, lost: Callable[[], object]) -> None:
        """Call ``lost()`` (from another thread) if the supervisor goes away."""

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

    def __init__(self, channel: socket.socket, slot: mmap.mmap) -> None:
        self._channel = channel
        self._slot = slot

    @classmethod
    def from_environ(cls) -> WorkerLink | None:
        """The line this process was started with, if a supervisor started it.
        The variable is removed, so that processes the app starts do not
        take themselves for workers."""
        value = os.environ.pop(WORKER_FD_ENV, None)
        if value is None:
            return None
        channel, comma, slot = value.partition(",")
        if not (channel.isdigit() and comma and slot.isdigit()):
            raise ValueError(
                f"{WORKER_FD_ENV} is set by bridge.runtime in its worker processes to two file "
                f"descriptor numbers, got {value!r}; do not set it yourself."
            )
        import mmap  # a worker's only: not loaded by a runtime on its own

        with open(int(slot), "r+b") as shared:
            mapped = mmap.mmap(shared.fileno(), SLOT_SIZE)
        return cls(socket.socket(fileno=int(channel)), mapped)

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

    def watch(self, lost: Callable[[], object]) -> None:
        """A thread that waits for the line to close: the supervisor has nothing
        more to say after ``go``, so anything but the end is ignored."""

        def wait_for_the_end() -> None:
            with suppress(OSError):
                while self._channel.recv(4096):
                    pass
            lost()

        threading.Thread(target=wait_for_the_end, name="bridge-runtime-link", daemon=True).start()

    def init_failed(self, error: dict[str, Any]) -> bool:
        self._send(encode("init-error", json.dumps(error, ensure_ascii=True, default=str)))
        return True

    def begin(self, request_id: str) -> None:
        put_request_id(self._slot, request_id)

    def end(self) -> None:
        put_request_id(self._slot, "")

    def close(self) -> None:
        self._channel.close()
        self._slot.close()

    def _send(self, message: bytes) -> bool:
        with suppress(OSError):
            self._channel.sendall(message)
            return True
        return False
