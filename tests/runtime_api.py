"""A Lambda Runtime API server on loopback, for the tests that run a function's runtime:
``bridge.runtime`` (in this process or as a process) and the AWS runtime interface client.

It speaks every route a runtime uses (``/2018-06-01/runtime/...``):

* ``GET  invocation/next``           hands out the next queued invocation, blocking until one is
  queued; any number of runtimes (or workers) may wait at once;
* ``POST invocation/{id}/response``  records a result, sent whole or with
  ``Transfer-Encoding: chunked`` (trailers kept, for streamed responses; each chunk is
  recorded as it arrives, with its arrival time);
* ``POST invocation/{id}/error``     records an invocation error;
* ``POST init/error``                records an init error;
* ``GET  restore/next``              counts the call and answers ``restore_status`` (200), once
  ``restore_open`` is set (it is unless a test holds the restore back) (SnapStart);
* ``POST restore/error``             records a restore error (SnapStart).

Every request is recorded with the connection it came on, so that tests can see keep-alive at
work. Tests queue invocations with :meth:`RuntimeAPIServer.invoke` and wait for answers with
:meth:`RuntimeAPIServer.answer` and :meth:`RuntimeAPIServer.init_error`; every wait is bounded
and ends early when the runtime process dies.
"""

from __future__ import annotations

import itertools
import json
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

T = TypeVar("T")
PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:bridge-runtime"
TRACE_ID = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


@dataclass(frozen=True)
class Posted:
    """One answer the runtime posted: a response, an invocation error or an init error."""

    kind: str  # "response", "error", "init-error" or "restore-error"
    request_id: str  # "" for an init error
    headers: dict[str, str]  # lower-case names
    body: bytes
    chunked: bool
    trailers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Queued:
    request_id: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Seen:
    """A request as received: method, path and the client's port (one per connection)."""

    method: str
    path: str
    port: int


class NoAnswer(AssertionError):
    """The runtime did not post what the test waited for."""


@dataclass
class _State:
    pending: queue.Queue[Queued] = field(default_factory=queue.Queue)
    posted: list[Posted] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    restores: int = 0
    #: Cleared by a test to hold ``/restore/next`` (the snapshot being taken) until it sets it.
    restore_open: threading.Event = field(default_factory=threading.Event)
    restore_status: int = 200
    #: request id -> the chunks of its streamed response so far, each with its arrival time.
    chunks: dict[str, list[tuple[float, bytes]]] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)
    stopping: threading.Event = field(default_factory=threading.Event)


class RuntimeAPIServer:
    """The server; use as a context manager (it stops on exit)."""

    def __init__(self) -> None:
        self.state = _State()
        self.state.restore_open.set()
        self._ids = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _handler_class(self.state))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="runtime-api"
        )

    @property
    def address(self) -> str:
        """``host:port``: the value of ``AWS_LAMBDA_RUNTIME_API``."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def __enter__(self) -> RuntimeAPIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def invoke(
        self,
        event: Any,
        *,
        timeout_s: float = 30.0,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Queue one invocation (``event`` as JSON, or ``raw`` bytes) and return its request id."""
        request_id = f"8476a536-e9f4-11e8-9739-{next(self._ids):012d}"
        all_headers = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(int((time.time() + timeout_s) * 1000)),
            "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
            "Lambda-Runtime-Trace-Id": TRACE_ID,
            **(headers or {}),
        }
        body = raw if raw is not None else json.dumps(event).encode()
        self.state.pending.put(Queued(request_id, body, all_headers))
        return request_id

    def answer(self, request_id: str, *, alive: Callable[[], bool], wait_s: float = 20.0) -> Posted:
        """Wait for the runtime's answer to ``request_id``."""

        def found() -> Posted | None:
            return next((p for p in self.state.posted if p.request_id == request_id), None)

        return self._wait(found, alive, wait_s, request_id)

    def init_error(self, *, alive: Callable[[], bool], wait_s: float = 20.0) -> Posted:
        def found() -> Posted | None:
            return next((p for p in self.state.posted if p.kind == "init-error"), None)

        return self._wait(found, alive, wait_s, "init")

    def restore_error(self, *, alive: Callable[[], bool], wait_s: float = 20.0) -> Posted:
        def found() -> Posted | None:
            return next((p for p in self.state.posted if p.kind == "restore-error"), None)

        return self._wait(found, alive, wait_s, "restore")

    def wait_for_restore(self, *, alive: Callable[[], bool], wait_s: float = 20.0) -> None:
        """Wait until ``/restore/next`` has been asked for."""

        def found() -> bool | None:
            return True if any(s.path.endswith("/restore/next") for s in self.state.seen) else None

        self._wait(found, alive, wait_s, "/restore/next")

    def wait_for_chunks(
        self, request_id: str, count: int, *, alive: Callable[[], bool], wait_s: float = 20.0
    ) -> list[tuple[float, bytes]]:
        """Wait until ``count`` chunks of the streamed answer to ``request_id`` have arrived."""

        def found() -> list[tuple[float, bytes]] | None:
            chunks = self.state.chunks.get(request_id, [])
            return list(chunks) if len(chunks) >= count else None

        return self._wait(found, alive, wait_s, f"{count} chunks of {request_id}")

    def wait_for_next(self, count: int, *, alive: Callable[[], bool], wait_s: float = 20.0) -> None:
        """Wait until ``count`` requests for ``/next`` have arrived in all."""

        def found() -> bool | None:
            nexts = [s for s in self.state.seen if s.path.endswith("/invocation/next")]
            return True if len(nexts) >= count else None

        self._wait(found, alive, wait_s, f"{count} /next")

    def wait_for_pollers(
        self, count: int, *, alive: Callable[[], bool], wait_s: float = 20.0
    ) -> None:
        """Wait until ``count`` connections (client ports) have asked for ``/next``."""

        def found() -> bool | None:
            ports = {s.port for s in self.state.seen if s.path.endswith("/invocation/next")}
            return True if len(ports) >= count else None

        self._wait(found, alive, wait_s, f"/next from {count} connections")

    def _wait(
        self, found: Callable[[], T | None], alive: Callable[[], bool], wait_s: float, what: str
    ) -> T:
        give_up = time.monotonic() + wait_s
        with self.state.changed:
            while True:
                result = found()
                if result is not None:
                    return result
                if not alive():
                    result = found()  # posted just before the process ended?
                    if result is not None:
                        return result
                    raise NoAnswer(f"the runtime exited without answering {what!r}")
                if time.monotonic() > give_up:
                    raise NoAnswer(f"no answer for {what!r} within {wait_s} s")
                self.state.changed.wait(0.05)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A runtime killed by its test resets its connections: not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def read_chunked(
    rfile: Any, on_chunk: Callable[[bytes], None] | None = None
) -> tuple[bytes, dict[str, str]]:
    """A chunked body and its trailers, read from ``rfile``; ``on_chunk`` is
    called with each chunk as it arrives."""
    chunks = []
    while True:
        size = int(rfile.readline().split(b";")[0].strip(), 16)
        if size == 0:
            break
        chunks.append(rfile.read(size))
        if on_chunk is not None:
            on_chunk(chunks[-1])
        if rfile.read(2) != b"\r\n":
            raise ValueError("a chunk not followed by CRLF")
    trailers = {}
    while True:
        line = rfile.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        trailers[name.strip().lower()] = value.strip()
    return b"".join(chunks), trailers


def _handler_class(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Head and body leave in two writes: without this, Nagle's algorithm holds the body
        # back until the client's delayed ACK (40 ms on Linux).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def _see(self) -> None:
            with state.changed:
                state.seen.append(Seen(self.command, self.path, self.client_address[1]))
                state.changed.notify_all()

        def do_GET(self) -> None:
            self._see()
            if self.path == f"{PREFIX}/restore/next":
                while not state.restore_open.wait(0.05):
                    if state.stopping.is_set():
                        break
                with state.changed:
                    state.restores += 1
                self._reply(HTTPStatus(state.restore_status), b"")
                return
            if self.path != f"{PREFIX}/invocation/next":
                self._reply(HTTPStatus.NOT_FOUND, b'{"errorMessage": "no such route"}')
                return
            while not state.stopping.is_set():
                try:
                    queued = state.pending.get(timeout=0.05)
                except queue.Empty:
                    continue
                self._reply(HTTPStatus.OK, queued.body, queued.headers)
                return
            self._reply(HTTPStatus.SERVICE_UNAVAILABLE, b"{}")

        def do_POST(self) -> None:
            self._see()
            chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
            kind, request_id = _route(self.path)

            def arrived(chunk: bytes) -> None:
                with state.changed:
                    state.chunks.setdefault(request_id, []).append((time.monotonic(), chunk))
                    state.changed.notify_all()

            if chunked:
                body, trailers = read_chunked(self.rfile, arrived)
            else:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                trailers = {}
            if kind is None:
                self._reply(HTTPStatus.NOT_FOUND, b'{"errorMessage": "no such route"}')
                return
            posted = Posted(
                kind=kind,
                request_id=request_id,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
                chunked=chunked,
                trailers=trailers,
            )
            with state.changed:
                state.posted.append(posted)
                state.changed.notify_all()
            self._reply(HTTPStatus.ACCEPTED, b'{"status": "OK"}')

        def _reply(
            self, status: HTTPStatus, body: bytes, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            try:
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler


def _route(path: str) -> tuple[str | None, str]:
    if path == f"{PREFIX}/init/error":
        return "init-error", ""
    if path == f"{PREFIX}/restore/error":
        return "restore-error", ""
    if path.startswith(f"{PREFIX}/invocation/"):
        parts = path.removeprefix(f"{PREFIX}/invocation/").split("/")
        if len(parts) == 2 and parts[1] in ("response", "error"):
            return parts[1], parts[0]
    return None, ""
