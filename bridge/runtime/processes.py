"""``BRIDGE_WSGI_WORKERS=processes``: a WSGI app served by N worker processes.

With ``AWS_LAMBDA_MAX_CONCURRENCY=N``, a WSGI app is called from N threads
at once by default, and must be thread-safe.  An app that is not (state of
the request in module globals, a client that must not be shared) is served
instead by N worker processes, each ``python -m bridge.runtime`` importing
the handler and running the usual runtime loop with one invocation at a
time: ``/next``, the app, ``/response`` (or the stream), ``close()``.  Each
worker talks to the Runtime API itself: no event passes through this
process, so streamed responses and work after the response are those of a
runtime serving one invocation at a time.

This process, the supervisor, imports no app.  It starts the workers and
watches them through a socket pair and a slot of shared memory each
(:mod:`bridge.runtime.link`):

* init: the workers load the handler at the same time; once all are loaded,
  it tells them to go on to ``/next``.  The first worker that cannot load
  it has its error posted to ``/init/error``, once, and the supervisor
  stops the others and exits with 1.
* a worker that dies during an invocation (a crash in a C extension, the
  OOM killer, ``os._exit``): that invocation is failed with
  ``Runtime.ExitError`` and a new worker takes its place.  A worker that
  dies while it waits for an invocation (the Runtime API went away, it was
  killed from outside) stops the runtime with 1: a new one would meet the
  same fate.
* SIGTERM (or SIGINT) is passed on to every worker, each of which shuts
  down as a runtime does; a worker still running :data:`STOP_WAIT_S` later
  is killed.
  A worker whose supervisor has died (its end of the line closes) shuts
  down the same way.

Every wait is bounded or ends when a worker dies (its end of the line
closes).
"""

from __future__ import annotations

import json
import mmap
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any, BinaryIO

from bridge._log import get_logger
from bridge.runtime.api import (
    RuntimeAPIError,
    check_accepted,
    error_body,
    error_request,
    init_error_request,
    parse_address,
)
from bridge.runtime.http import HTTPProtocolError, Request
from bridge.runtime.link import (
    SLOT_SIZE,
    WORKER_FD_ENV,
    MessageReader,
    encode,
    request_id_in,
)

if TYPE_CHECKING:
    from bridge.runtime.client import BlockingConnection

__all__ = ["STOP_WAIT_S", "Supervisor"]

logger = get_logger("bridge.runtime")

#: How long the workers have to stop after SIGTERM before they are killed: a runtime's own
#: budget (:data:`bridge.runtime.main.SHUTDOWN_TIMEOUT_S`, 1.5 s) and a second to exit.
STOP_WAIT_S = 2.5
#: The limit of a wait for a process that has closed its end of the line, or was killed.
EXIT_WAIT_S = 5.0
#: The limit of a post of the supervisor to the Runtime API.
POST_TIMEOUT_S = 5.0
#: The error type of an invocation whose worker process died (Lambda's own, for a runtime
#: that exits during an invocation).
EXIT_ERROR = "Runtime.ExitError"


@dataclass
class _Worker:
    number: int
    process: subprocess.Popen[bytes]
    channel: socket.socket
    #: Where it records the request id of the invocation it serves.
    slot: mmap.mmap
    reader: MessageReader = field(default_factory=MessageReader)
    ready: bool = False


class Supervisor:
    """Serve ``handler_spec`` from ``workers`` processes polling the Runtime API at ``address``."""

    def __init__(self, address: str, handler_spec: str | None, workers: int) -> None:
        parse_address(address)  # fails early on a bad address
        self.address = address
        self.workers = workers
        self._command = [sys.executable, "-m", "bridge.runtime"]
        if handler_spec:
            self._command.append(handler_spec)
        self._running: dict[int, _Worker] = {}
        self._selector = selectors.DefaultSelector()
        #: Until every worker of the first generation has loaded the handler.
        self._initialising = True
        self._stopping = False
        self._connection: BlockingConnection | None = None  # opened for the first post

    def run(self) -> int:
        """Supervise until SIGTERM (0), an init error or a worker lost (1).
        Installs its signal handlers: call it from the main thread."""
        wake, woken = socket.socketpair()
        wake.setblocking(False)
        woken.setblocking(False)
        self._selector.register(woken, selectors.EVENT_READ, None)
        previous_wakeup = signal.set_wakeup_fd(wake.fileno())
        previous = {
            signum: signal.signal(signum, self._on_signal)
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            for number in range(self.workers):
                self._start(number)
            return self._supervise()
        finally:
            self._stop_workers()
            signal.set_wakeup_fd(previous_wakeup)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self._selector.close()
            wake.close()
            woken.close()
            if self._connection is not None:
                self._connection.close()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # The write to the wake-up socket ends the select() under way.
        self._stopping = True

    def _supervise(self) -> int:
        while not self._stopping:
            events = self._selector.select()
            if self._stopping:
                break
            for key, _ in events:
                worker: _Worker | None = key.data
                if worker is None:
                    with suppress(OSError):
                        key.fileobj.recv(512)  # type: ignore[union-attr]
                    continue
                status = self._receive(worker)
                if status is not None:
                    return status
        return 0

    def _start(self, number: int) -> None:
        ours, theirs = socket.socketpair()
        with theirs, _shared_memory() as shared:
            slot = mmap.mmap(shared.fileno(), SLOT_SIZE)
            descriptors = (theirs.fileno(), shared.fileno())
            environ = {
                **os.environ,
                "AWS_LAMBDA_RUNTIME_API": self.address,
                WORKER_FD_ENV: "{},{}".format(*descriptors),
            }
            process = subprocess.Popen(self._command, env=environ, pass_fds=descriptors)
        worker = _Worker(number, process, ours, slot)
        self._running[number] = worker
        self._selector.register(ours, selectors.EVENT_READ, worker)

    def _receive(self, worker: _Worker) -> int | None:
        """Read what ``worker`` said; the exit status when the runtime must stop."""
        try:
            data = worker.channel.recv(64 * 1024)
        except OSError:
            data = b""
        if not data:
            return self._lost(worker)
        try:
            messages = worker.reader.feed(data)
        except ValueError as exc:
            logger.error(
                "Worker process %d sent an unreadable message: %s; the runtime stops.",
                worker.number,
                exc,
            )
            return 1
        for kind, value in messages:
            if kind == "ready":
                worker.ready = True
                self._ready(worker)
            elif kind == "init-error":
                return self._init_failed(json.loads(value))
        return None

    def _ready(self, worker: _Worker) -> None:
        """Let ``worker`` go on to ``/next``: at once when it replaces a lost
        one, else once every worker has loaded the handler."""
        if not self._initialising:
            self._go(worker)
        elif all(other.ready for other in self._running.values()):
            self._initialising = False
            for other in self._running.values():
                self._go(other)

    def _go(self, worker: _Worker) -> None:
        with suppress(OSError):  # a worker that died meanwhile: its end of the line says so
            worker.channel.sendall(encode("go"))

    def _init_failed(self, error: dict[str, Any]) -> int:
        if self._initialising:
            self._post(init_error_request(error), "/init/error")
        else:
            logger.error(
                "A new worker process could not load the handler (%s: %s); the runtime stops.",
                error.get("errorType"),
                error.get("errorMessage"),
            )
        return 1

    def _lost(self, worker: _Worker) -> int | None:
        """``worker`` closed its end of the line: it has exited."""
        self._selector.unregister(worker.channel)
        worker.channel.close()
        how = _exit_description(_reap(worker.process))
        pid = worker.process.pid
        request_id = request_id_in(worker.slot)
        worker.slot.close()
        if self._initialising or not worker.ready:
            logger.error(
                "Worker process %d (pid %d) exited (%s) before init was over.",
                worker.number,
                pid,
                how,
            )
            return self._init_failed(
                error_body(EXIT_ERROR, f"A worker process exited ({how}) before init was over.")
            )
        if request_id is None:
            logger.error(
                "Worker process %d (pid %d) exited (%s) while it waited for an invocation; "
                "the runtime stops.",
                worker.number,
                pid,
                how,
            )
            return 1
        logger.error(
            "Worker process %d (pid %d) exited (%s) during invocation %s: that invocation "
            "fails with %s, and a new worker process takes its place.",
            worker.number,
            pid,
            how,
            request_id,
            EXIT_ERROR,
        )
        message = f"The worker process serving this invocation exited ({how}) before it finished."
        error = error_request(request_id, error_body(EXIT_ERROR, message))
        self._post(error, f"the error of invocation {request_id}")
        self._start(worker.number)
        return None

    def _post(self, request: Request, what: str) -> None:
        try:
            if self._connection is None:
                from bridge.runtime.client import BlockingConnection

                self._connection = BlockingConnection(self.address, timeout=POST_TIMEOUT_S)
            check_accepted(self._connection.exchange(request), what)
        except (OSError, RuntimeAPIError, HTTPProtocolError) as exc:
            logger.error("Could not post %s to the Runtime API: %s", what, exc)
            if self._connection is not None:
                self._connection.close()

    def _stop_workers(self) -> None:
        """SIGTERM to every worker, then wait for them (bounded), killing the late ones."""
        workers = list(self._running.values())
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
            # A worker still waiting for ``go`` sees the line close and stops.
            worker.channel.close()
        give_up = time.monotonic() + STOP_WAIT_S
        for worker in workers:
            try:
                worker.process.wait(timeout=max(0.0, give_up - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning(
                    "Worker process %d (pid %d) still running %.1f s after SIGTERM; killed.",
                    worker.number,
                    worker.process.pid,
                    STOP_WAIT_S,
                )
                worker.process.kill()
                with suppress(subprocess.TimeoutExpired):
                    worker.process.wait(timeout=EXIT_WAIT_S)


def _shared_memory() -> BinaryIO:
    """A new file of :data:`SLOT_SIZE` zero bytes that lives in memory only, as
    long as a descriptor or a mapping of it is open."""
    if hasattr(os, "memfd_create"):  # Linux
        shared = os.fdopen(os.memfd_create("bridge-worker-slot"), "r+b")
    else:  # pragma: no cover - not Linux
        import tempfile

        shared = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    shared.truncate(SLOT_SIZE)
    return shared


def _reap(process: subprocess.Popen[bytes]) -> int:
    """The exit status of ``process``, which is exiting; killed if it does not."""
    try:
        return process.wait(timeout=EXIT_WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
    try:
        return process.wait(timeout=EXIT_WAIT_S)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process SIGKILL does not end
        return -signal.SIGKILL


def _exit_description(status: int) -> str:
    if status >= 0:
        return f"exit status {status}"
    try:
        return f"killed by {signal.Signals(-status).name}"
    except ValueError:
        return f"killed by signal {-status}"
