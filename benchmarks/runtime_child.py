"""A contender process of the runtime benchmark (``runtime.py``).

    python runtime_child.py bridge.runtime HANDLER   # python -m bridge.runtime HANDLER, timed
    python runtime_child.py awslambdaric HANDLER     # python -m awslambdaric HANDLER, timed
    python runtime_child.py null                     # a client that only answers
    python runtime_child.py direct APP               # the app awaited (called) directly

The first two run the real runtime (``runpy``, as ``-m`` does) with a hook
on its two Runtime API calls that reads the clock at the end of ``/next``
and at the start of ``/response``: the time between them is the
invocation *excluding the Runtime API exchange* (the event decoded, the
context built, the handler, the result encoded).  The hook costs two clock
reads and a few additions per invocation.

``null`` and ``direct`` are minimal clients on a blocking socket: ``null``
posts a fixed answer (the floor of the server and the exchange); ``direct``
first runs the app on a prepared scope (awaited in a running loop) or
environ (called), and its step is that call alone.

With ``BENCH_STEP_FD`` and ``BENCH_BATCH`` set, every ``BENCH_BATCH``
invocations the child writes three doubles to that file descriptor: the
seconds spent in the steps, in the ``/next`` calls (but the first, which
waited for the batch) and in the ``/response`` calls.  With
``BENCH_PROFILE=PATH`` (``bridge.runtime`` only), every thread is profiled
with cProfile from the 200th invocation on, and the merged statistics are
written to PATH at exit.
"""

from __future__ import annotations

import asyncio
import io
import os
import runpy
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = b"/2018-06-01/runtime"
#: What ``null`` and ``direct`` post: the answer every contender gives, as HTTP API 2.0 JSON.
ANSWER = (
    b'{"statusCode":200,"headers":{"content-type":"text/plain; charset=utf-8"},'
    b'"body":"hello","isBase64Encoded":false}'
)


class Steps:
    """Clock reads around the Runtime API calls, reported every ``batch`` invocations."""

    def __init__(self) -> None:
        fd = os.environ.get("BENCH_STEP_FD")
        self.fd = int(fd) if fd else -1
        self.batch = int(os.environ.get("BENCH_BATCH") or 0)
        self.count = 0
        self.step = self.next = self.post = 0.0
        self.mark = 0.0

    def next_done(self, started: float) -> None:
        self.mark = now = time.perf_counter()
        if self.count:  # the first of a batch waited for the batch to begin
            self.next += now - started

    def post_starts(self) -> float:
        now = time.perf_counter()
        self.step += now - self.mark
        return now

    def post_done(self, started: float) -> None:
        self.post += time.perf_counter() - started
        self.count += 1
        if self.count == self.batch and self.fd >= 0:
            os.write(self.fd, struct.pack("<3d", self.step, self.next, self.post))
            self.count = 0
            self.step = self.next = self.post = 0.0


STEPS = Steps()


# ------------------------------------------------------------ the runtimes


def run_bridge_runtime(handler: str) -> None:
    from bridge.runtime import client
    from bridge.runtime.http import Request, Response

    exchange = client.Connection.exchange
    profile = os.environ.get("BENCH_PROFILE")
    profiles = _profile_all_threads(profile) if profile else []
    nexts = 0

    async def timed(self: client.Connection, request: Request, stream: bytes = b"") -> Response:
        if request.method == "POST" and request.target.endswith(("/response", "/error")):
            started = STEPS.post_starts()
            response = await exchange(self, request, stream)
            STEPS.post_done(started)
            return response
        started = time.perf_counter()
        response = await exchange(self, request, stream)
        if request.target.endswith("/invocation/next"):
            STEPS.next_done(started)
            nonlocal nexts
            nexts += 1
            if nexts == PROFILE_WARMUP:  # start, handler import and warm-up left out
                for each in profiles:
                    each.clear()
        return response

    blocking_exchange = client.BlockingConnection.exchange

    def blocking_timed(
        self: client.BlockingConnection, request: Request, *, interruptible: bool = False
    ) -> Response:
        # As timed(), for the blocking worker (a WSGI app, one invocation at a time).
        if request.method == "POST" and request.target.endswith(("/response", "/error")):
            started = STEPS.post_starts()
            response = blocking_exchange(self, request, interruptible=interruptible)
            STEPS.post_done(started)
            return response
        started = time.perf_counter()
        response = blocking_exchange(self, request, interruptible=interruptible)
        if request.target.endswith("/invocation/next"):
            STEPS.next_done(started)
            nonlocal nexts
            nexts += 1
            if nexts == PROFILE_WARMUP:
                for each in profiles:
                    each.clear()
        return response

    setattr(client.Connection, "exchange", timed)  # noqa: B010 - a method replaced
    setattr(client.BlockingConnection, "exchange", blocking_timed)  # noqa: B010
    sys.argv = ["bridge.runtime", handler]
    runpy.run_module("bridge.runtime", run_name="__main__", alter_sys=True)


#: Invocations before the profile starts counting (``BENCH_PROFILE``).
PROFILE_WARMUP = 200


def _profile_all_threads(path: str) -> list[Any]:
    """cProfile in every thread (on 3.11 a profiler sees only its own thread),
    merged into ``path`` at exit; the list of profilers, which grows with
    threads."""
    import atexit
    import cProfile
    import pstats
    import threading

    profiles: list[cProfile.Profile] = []

    def start(frame: Any, event: str, arg: Any) -> None:
        sys.setprofile(None)
        profile = cProfile.Profile()
        profiles.append(profile)
        profile.enable()

    def dump() -> None:
        for profile in profiles:
            profile.disable()
        stats = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            stats.add(profile)
        stats.dump_stats(path)

    threading.setprofile(start)
    atexit.register(dump)
    main = cProfile.Profile()
    profiles.append(main)
    main.enable()
    return profiles


def run_awslambdaric(handler: str) -> None:
    from awslambdaric import lambda_runtime_client as lrc  # type: ignore[import-untyped]

    base = lrc.BaseLambdaRuntimeClient
    wait, post = base.wait_next_invocation, base.post_invocation_result

    def wait_next_invocation(self: Any) -> Any:
        started = time.perf_counter()
        invocation = wait(self)
        STEPS.next_done(started)
        return invocation

    def post_invocation_result(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = STEPS.post_starts()
        result = post(self, *args, **kwargs)
        STEPS.post_done(started)
        return result

    base.wait_next_invocation = wait_next_invocation
    base.post_invocation_result = post_invocation_result
    sys.argv = ["awslambdaric", handler]
    runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)


# ------------------------------------------------------ the minimal clients


def _header(head: bytes, name: bytes) -> bytes:
    """The value of header ``name`` (lower case) in a response head, or b""."""
    start = head.lower().find(b"\r\n" + name + b":")
    if start < 0:
        return b""
    start += len(name) + 3
    end = head.find(b"\r\n", start)
    return head[start : end if end >= 0 else len(head)].strip()


class Exchange:
    """``/next`` and ``/response`` on one blocking keep-alive connection."""

    def __init__(self) -> None:
        host, _, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rpartition(":")
        self.host = f"{host}:{port}".encode()
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.next_request = b"GET %s/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n" % (
            PREFIX,
            self.host,
        )

    def _response(self) -> tuple[bytes, bytes]:
        """(head, body) of the next response."""
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                head = self.buffer[:end]
                length = int(_header(head, b"content-length") or b"0")
                if len(self.buffer) >= end + 4 + length:
                    body = self.buffer[end + 4 : end + 4 + length]
                    self.buffer = self.buffer[end + 4 + length :]
                    return head, body
            data = self.sock.recv(65536)
            if not data:
                raise SystemExit(0)  # the server is gone
            self.buffer += data

    def next(self) -> tuple[bytes, bytes]:
        """(request id, event) of the next invocation."""
        started = time.perf_counter()
        self.sock.sendall(self.next_request)
        head, body = self._response()
        request_id = _header(head, b"lambda-runtime-aws-request-id")
        STEPS.next_done(started)
        return request_id, body

    def respond(self, request_id: bytes, answer: bytes, started: float | None = None) -> None:
        """Post ``answer``; ``started``: when the step ended, if before this call."""
        if started is None:
            started = STEPS.post_starts()
        self.sock.sendall(
            b"POST %s/invocation/%s/response HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s"
            % (PREFIX, request_id, self.host, len(answer), answer)
        )
        self._response()
        STEPS.post_done(started)


def run_null() -> None:
    exchange = Exchange()
    while True:
        request_id, _ = exchange.next()
        exchange.respond(request_id, ANSWER)


def run_direct(app_name: str) -> None:
    sys.path.insert(0, HERE)
    import apps
    import contenders
    from runtime import bench_event

    interface, factory = apps.APPS[app_name]
    app = factory()
    event = bench_event()
    template = contenders._template_scope(event, "http")
    exchange = Exchange()
    if interface == "wsgi":
        environ_template = contenders._template_environ(template)

        def call(environ: dict[str, Any]) -> int:
            state: list[Any] = []

            def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
                state[:] = [status]

            iterable = app(environ, start_response)
            try:
                body = b"".join(iterable)
            finally:
                close: Callable[[], None] | None = getattr(iterable, "close", None)
                if close is not None:
                    close()
            return int(state[0][:3]) if body == apps.BODY else 500

        while True:
            request_id, _ = exchange.next()
            environ = dict(environ_template)
            environ["wsgi.input"] = io.BytesIO(b"")
            STEPS.mark = time.perf_counter()  # the step is the call alone
            status = call(environ)
            started = STEPS.post_starts()
            exchange.respond(request_id, ANSWER if status == 200 else b"{}", started)

    prepare = contenders._fresh_scope(template)

    async def serve() -> None:
        while True:
            request_id, _ = exchange.next()
            scope, io_ = prepare(None)
            STEPS.mark = time.perf_counter()  # the step is the await alone
            await app(scope, io_.receive, io_.send)
            started = STEPS.post_starts()
            status, _, body = io_.result()
            ok = status == 200 and body == apps.BODY
            exchange.respond(request_id, ANSWER if ok else b"{}", started)

    asyncio.run(serve())


def main() -> None:
    kind, *rest = sys.argv[1:]
    if kind == "bridge.runtime":
        run_bridge_runtime(rest[0])
    elif kind == "awslambdaric":
        run_awslambdaric(rest[0])
    elif kind == "null":
        run_null()
    elif kind == "direct":
        run_direct(rest[0])
    else:
        raise SystemExit(f"unknown contender kind {kind!r}")


if __name__ == "__main__":
    main()
