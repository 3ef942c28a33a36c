"""A small Lambda Runtime API server, enough to drive the AWS runtime interface client.

It speaks the four routes a runtime uses (``/2018-06-01/runtime/...``):

* ``GET  invocation/next``           hands out the next queued event, blocking until one is queued;
* ``POST invocation/{id}/response``  records the function's result;
* ``POST invocation/{id}/error``     records an invocation error;
* ``POST init/error``                records an init error.

The server listens on loopback, on a port the OS picks. Tests queue events with
:meth:`RuntimeAPI.invoke` and wait for what the runtime posts back with :meth:`RuntimeAPI.result`
and :meth:`RuntimeAPI.init_error`; every wait has a limit, so a runtime that never answers fails
the test instead of hanging it.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:bridge-e2e"


@dataclass(frozen=True)
class Posted:
    """One thing the runtime posted back: a result, an invocation error or an init error."""

    kind: str  # "response", "error" or "init-error"
    body: bytes
    content_type: str
    error_type: str  # the Lambda-Runtime-Function-Error-Type header, "" when absent

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class _Invocation:
    request_id: str
    body: bytes
    deadline_ms: int


class RuntimeAPIError(AssertionError):
    """The runtime did not post what the test waited for."""


class RuntimeAPI:
    """The Runtime API server. Use as a context manager: the server stops on exit."""

    def __init__(self) -> None:
        self._pending: queue.Queue[_Invocation] = queue.Queue()
        self._posted: dict[str, Posted] = {}
        self._init_errors: list[Posted] = []
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="runtime-api",
        )

    @property
    def address(self) -> str:
        """``host:port``, the value of ``AWS_LAMBDA_RUNTIME_API``."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def __enter__(self) -> RuntimeAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def invoke(self, event: Any, *, timeout_s: float = 30.0) -> str:
        """Queue one event (JSON-encoded here) and return its request id."""
        request_id = f"00000000-0000-4000-8000-{next(self._ids):012d}"
        deadline_ms = int((time.time() + timeout_s) * 1000)
        body = json.dumps(event).encode()
        self._pending.put(_Invocation(request_id, body, deadline_ms))
        return request_id

    def result(self, request_id: str, *, alive: Callable[[], bool], wait_s: float = 20.0) -> Posted:
        """Wait for the runtime's answer to ``request_id`` (a response or an error)."""
        return self._wait(lambda: self._posted.get(request_id), alive, wait_s, request_id)

    def init_error(self, *, alive: Callable[[], bool], wait_s: float = 20.0) -> Posted:
        """Wait for the runtime to report an init error."""
        return self._wait(
            lambda: self._init_errors[0] if self._init_errors else None, alive, wait_s, "init"
        )

    def _wait(
        self,
        found: Callable[[], Posted | None],
        alive: Callable[[], bool],
        wait_s: float,
        what: str,
    ) -> Posted:
        # ``alive`` lets a wait end early when the runtime process has died; it is checked on
        # every wake-up, at least every tenth of a second.
        give_up = time.monotonic() + wait_s
        with self._changed:
            while True:
                posted = found()
                if posted is not None:
                    return posted
                if not alive():
                    # The process may have posted just before exiting; look once more.
                    posted = found()
                    if posted is not None:
                        return posted
                    raise RuntimeAPIError(f"the runtime exited without answering {what!r}")
                if time.monotonic() > give_up:
                    raise RuntimeAPIError(f"no answer for {what!r} within {wait_s} s")
                self._changed.wait(0.1)

    def _record(self, key: str | None, posted: Posted) -> None:
        with self._changed:
            if key is None:
                self._init_errors.append(posted)
            else:
                self._posted[key] = posted
            self._changed.notify_all()

    def _next_invocation(self) -> _Invocation | None:
        while not self._stopping.is_set():
            try:
                return self._pending.get(timeout=0.05)
            except queue.Empty:
                continue
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """The runtime's traffic is not worth a line on stderr."""

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    self._reply(HTTPStatus.NOT_FOUND, b'{"errorMessage": "no such route"}')
                    return
                invocation = api._next_invocation()
                if invocation is None:
                    self._reply(HTTPStatus.SERVICE_UNAVAILABLE, b"{}")
                    return
                self._reply(
                    HTTPStatus.OK,
                    invocation.body,
                    {
                        "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                        "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                        "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                        "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                    },
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                posted_kind, key = self._route()
                if posted_kind is None:
                    self._reply(HTTPStatus.NOT_FOUND, b'{"errorMessage": "no such route"}')
                    return
                api._record(
                    key,
                    Posted(
                        kind=posted_kind,
                        body=body,
                        content_type=self.headers.get("Content-Type", ""),
                        error_type=self.headers.get("Lambda-Runtime-Function-Error-Type", ""),
                    ),
                )
                self._reply(HTTPStatus.ACCEPTED, b'{"status": "OK"}')

            def _route(self) -> tuple[str | None, str | None]:
                if self.path == f"{PREFIX}/init/error":
                    return "init-error", None
                parts = self.path.removeprefix(f"{PREFIX}/invocation/").split("/")
                if self.path.startswith(f"{PREFIX}/invocation/") and len(parts) == 2:
                    request_id, action = parts
                    if action in ("response", "error"):
                        return action, request_id
                return None, None

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
                    # A test may stop the runtime as soon as its answer is recorded, which can
                    # be before this acknowledgement reaches it.
                    self.close_connection = True

        return Handler
