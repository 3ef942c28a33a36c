"""``python -m bridge.runtime`` against ``python -m awslambdaric`` with bridge,
Mangum and apig-wsgi, each a process, through a Runtime API on loopback.

    python benchmarks/runtime.py --quick          # under three minutes
    python benchmarks/runtime.py                  # the full run
    python benchmarks/runtime.py --only throughput --apps flask
    python benchmarks/runtime.py --profile trivial-asgi   # cProfile of bridge.runtime

The Runtime API server (:class:`RuntimeAPI`) is an asyncio protocol in this
process, one per contender: it answers ``/next`` from a queue of prepared
invocations and reads the clock when each ``/response`` has arrived.
Sections (see benchmarks/README.md for the method):

* ``throughput``: N+1 invocations queued back to back, the sample is the time
  from the first response to the last over N; contenders interleaved round
  by round; with each, the in-process time of the invocation excluding the
  Runtime API exchange (``runtime_child.py``);
* ``coldstart``: process start to first response;
* ``memory``: resident memory of a FastAPI function after rounds of 16
  concurrent invocations;
* ``streaming``: bridge.runtime streaming to a function URL, each chunk timed
  from the app's send to its arrival here.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import random
import re
import select
import signal
import struct
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [path for path in (ROOT, HERE) if path not in sys.path]

import apps  # noqa: E402
from stats import Series, fmt_bytes, fmt_time, paired_ratio, paired_ratio_interval  # noqa: E402

from bridge.local.events import build_event  # noqa: E402
from bridge.local.responses import decode_response  # noqa: E402

APPS = ("trivial-asgi", "fastapi-async", "flask")
SECTIONS = ("throughput", "coldstart", "memory", "streaming")
PREFIX = b"/2018-06-01/runtime"
CHILD = os.path.join(HERE, "runtime_child.py")
#: Compiled bytecode shared with coldstart.py: read, not rebuilt, by every start.
PYCACHE = os.path.join(tempfile.gettempdir(), "bridge-bench-pycache")
WAIT_S = 60.0
CONCURRENCY = 16

#: (label, runtime, handler wrapper) per interface; the reference first after bridge.runtime.
CONTENDERS: dict[str, list[tuple[str, str, str]]] = {
    "asgi": [
        ("bridge.runtime", "bridge.runtime", "app"),
        ("awslambdaric + Bridge", "awslambdaric", "bridge"),
        ("awslambdaric + Mangum lifespan=off", "awslambdaric", "mangum"),
        ("awslambdaric + Mangum default", "awslambdaric", "mangumauto"),
    ],
    "wsgi": [
        ("bridge.runtime", "bridge.runtime", "app"),
        ("awslambdaric + Bridge", "awslambdaric", "bridge"),
        ("awslambdaric + apig-wsgi", "awslambdaric", "apigwsgi"),
        ("awslambdaric + Mangum+a2wsgi", "awslambdaric", "mangumwsgi"),
    ],
}
REFERENCE = "awslambdaric + Bridge"
NULL = "floor: a client that only answers"
DIRECT = {"asgi": "floor: app awaited directly", "wsgi": "floor: app called directly"}


class Problem(Exception):
    """A contender answered wrongly or not at all; the message says how."""


# ------------------------------------------------------------ the server


class RuntimeAPI:
    """The Runtime API of one contender: invocations from a queue, answers timed."""

    def __init__(self, event: bytes) -> None:
        self.event = event
        self.pending: deque[bytes] = deque()
        self.waiting: deque[_Connection] = deque()
        self.times: list[float] = []
        self.bodies: list[bytes] = []
        self.errors: list[bytes] = []
        self.expected = 0
        self.done: asyncio.Future[None] | None = None
        self.handed = self.answered_in_all = 0
        self.max_in_flight = 0
        self._ids = 0
        #: When a list: every piece of data received, with its time of arrival.
        self.raw: list[tuple[float, bytes]] | None = None
        self._server: asyncio.Server | None = None
        self.address = ""

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), "127.0.0.1", 0)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.address = f"{host}:{port}"

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self.waiting):
            connection.transport.close()

    def expect(self, count: int) -> asyncio.Future[None]:
        """Forget earlier answers; the future is done once ``count`` arrived."""
        self.times, self.bodies, self.errors = [], [], []
        self.expected = count
        self.done = asyncio.get_running_loop().create_future()
        return self.done

    def queue(self, count: int) -> None:
        """``count`` invocations, handed out as fast as they are asked for."""
        deadline = str(int((time.time() + 900) * 1000)).encode()
        event = self.event
        for _ in range(count):
            self._ids += 1
            request_id = b"8476a536-e9f4-11e8-9739-%012d" % self._ids
            data = next_reply(request_id, deadline, event)
            if self.waiting:
                self._hand(self.waiting.popleft(), data)
            else:
                self.pending.append(data)

    def _hand(self, connection: _Connection, data: bytes) -> None:
        connection.transport.write(data)
        self.handed += 1
        self.max_in_flight = max(self.max_in_flight, self.handed - self.answered_in_all)

    def next(self, connection: _Connection) -> None:
        if self.pending:
            self._hand(connection, self.pending.popleft())
        else:
            self.waiting.append(connection)

    def answered(self, kind: bytes, body: bytes) -> None:
        now = time.perf_counter()
        self.answered_in_all += 1
        self.times.append(now)
        (self.bodies if kind == b"response" else self.errors).append(body)
        if len(self.times) >= self.expected and self.done is not None and not self.done.done():
            self.done.set_result(None)


_ACCEPTED = b'HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"status": "OK"}'  # noqa: E501
_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
_RESTORED = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class _Connection(asyncio.Protocol):
    """One client connection: requests parsed as they come, in order."""

    def __init__(self, api: RuntimeAPI) -> None:
        self.api = api
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.buffer = bytearray()
        #: The POST being read: (target, Content-Length or -1 for chunked).
        self.post: tuple[bytes, int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if self in self.api.waiting:
            self.api.waiting.remove(self)

    def data_received(self, data: bytes) -> None:
        if self.api.raw is not None:
            self.api.raw.append((time.perf_counter(), data))
        buffer = self.buffer
        buffer += data
        while True:
            if self.post is None:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(buffer[:end])
                del buffer[: end + 4]
                line, _, fields = head.partition(b"\r\n")
                method, target, _ = line.split(b" ", 2)
                if method == b"GET":
                    if target == PREFIX + b"/invocation/next":
                        self.api.next(self)
                    else:
                        self.transport.write(
                            _RESTORED if target == PREFIX + b"/restore/next" else _NOT_FOUND
                        )
                    continue
                fields = fields.lower()
                if b"expect: 100-continue" in fields:
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                if b"transfer-encoding: chunked" in fields:
                    self.post = (target, -1)
                elif b"content-length:" in fields:
                    start = fields.find(b"content-length:") + 15
                    stop = fields.find(b"\r\n", start)
                    self.post = (target, int(fields[start : stop if stop >= 0 else None]))
                else:
                    self.post = (target, 0)
            target, length = self.post
            if length < 0:
                found = _dechunk(buffer)
                if found is None:
                    return
                body, used = found
            else:
                if len(buffer) < length:
                    return
                body, used = bytes(buffer[:length]), length
            del buffer[:used]
            self.post = None
            parts = target[len(PREFIX) :].split(b"/")  # b"", b"invocation", id, kind
            if len(parts) == 4 and parts[3] in (b"response", b"error"):
                self.transport.write(_ACCEPTED)
                self.api.answered(parts[3], body)
            else:  # init/error and anything else: an error of the contender
                self.transport.write(_ACCEPTED)
                self.api.answered(b"init-error", body)


def _dechunk(buffer: bytearray) -> tuple[bytes, int] | None:
    """(body, bytes used) of a complete chunked body (trailers skipped), or None."""
    chunks: list[bytes] = []
    at = 0
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(bytes(buffer[at:line_end]).split(b";")[0], 16)
        if size == 0:
            end = buffer.find(b"\r\n\r\n", line_end)
            if buffer[line_end : line_end + 4] == b"\r\n\r\n":
                end = line_end
            if end < 0:
                return None
            return b"".join(chunks), end + 4
        if len(buffer) < line_end + 2 + size + 2:
            return None
        chunks.append(bytes(buffer[line_end + 2 : line_end + 2 + size]))
        at = line_end + 2 + size + 2


# ------------------------------------------------------------ the processes


def _env(address: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "PYTHONDEVMODE",
            "PYTHONDONTWRITEBYTECODE",
            "PYTHONPATH",
            "AWS_LAMBDA_MAX_CONCURRENCY",
            "_HANDLER",
        )
    }
    paths = sysconfig.get_paths()
    site_packages = dict.fromkeys([paths["purelib"], paths["platlib"]])
    env.update(
        PYTHONPATH=os.pathsep.join([ROOT, HERE, *site_packages]),
        PYTHONPYCACHEPREFIX=PYCACHE,
        AWS_LAMBDA_RUNTIME_API=address,
        LAMBDA_TASK_ROOT=HERE,
        AWS_LAMBDA_FUNCTION_NAME="bench",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/bench",
        AWS_LAMBDA_LOG_STREAM_NAME="2026/12/07/[$LATEST]bench",
        AWS_REGION="us-east-1",
        **extra,
    )
    return env


def plain_command(runtime: str, handler: str) -> list[str]:
    """The command Lambda would run: ``python -m RUNTIME HANDLER`` (``-S``: see coldstart.py)."""
    return [sys.executable, "-S", "-m", runtime, handler]


def timed_command(kind: str, *args: str) -> list[str]:
    """The same through ``runtime_child.py``, with its clock reads."""
    return [sys.executable, "-S", CHILD, kind, *args]


class Child:
    """A contender process and its Runtime API."""

    def __init__(self, name: str, argv: list[str], event: bytes, **env: str) -> None:
        self.name = name
        self.argv = argv
        self.api = RuntimeAPI(event)
        self.extra_env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.steps_fd = -1
        # The child's output, read back for a failure's message; closed with the process.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115

    async def start(self, batch: int = 0) -> None:
        if not self.api.address:
            await self.api.start()
        env = _env(self.api.address, **self.extra_env)
        keep: tuple[int, ...] = ()
        if batch:
            self.steps_fd, write_fd = os.pipe()
            env.update(BENCH_STEP_FD=str(write_fd), BENCH_BATCH=str(batch))
            keep = (write_fd,)
        # Started from the loop on purpose: the cold start's clock is running.
        self.process = subprocess.Popen(  # noqa: ASYNC220
            self.argv,
            cwd=HERE,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            pass_fds=keep,
            start_new_session=True,  # its own process group: forked workers are stopped too
        )
        for fd in keep:
            os.close(fd)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def steps(self) -> tuple[float, float, float] | None:
        """The clock reads of the last batch (step, /next, /response seconds), if any came."""
        if self.steps_fd < 0 or not select.select([self.steps_fd], [], [], 2.0)[0]:
            return None
        data = os.read(self.steps_fd, 24)
        return struct.unpack("<3d", data) if len(data) == 24 else None

    def stop(self) -> None:
        process = self.process
        if process is not None:
            for signum in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(process.pid, signum)
                except ProcessLookupError:
                    break
                try:
                    process.wait(timeout=5)
                    break
                except subprocess.TimeoutExpired:
                    continue
            with suppress(ProcessLookupError):  # forked workers may outlive their parent
                os.killpg(process.pid, signal.SIGKILL)
        self.process = None
        # Its connections are dead: none may be handed the next invocation before
        # the loop has seen them close.
        for connection in self.api.waiting:
            connection.transport.close()
        self.api.waiting.clear()
        if self.steps_fd >= 0:
            os.close(self.steps_fd)
            self.steps_fd = -1

    def close(self) -> None:
        """Stop the process, close its Runtime API and its log."""
        self.stop()
        self.api.close()
        self.log.close()

    def tail(self) -> str:
        self.log.seek(0)
        lines = self.log.read().decode(errors="replace").strip().splitlines()
        return " / ".join(lines[-3:])[-400:] or "no output"

    async def wait(self, future: asyncio.Future[None], what: str) -> None:
        """Until ``future`` is done; a dead process or a bound of WAIT_S is a Problem."""
        give_up = time.monotonic() + WAIT_S
        while not future.done():
            await asyncio.wait([future], timeout=0.2)
            if future.done():
                break
            if not self.alive():
                raise Problem(f"exited before {what}: {self.tail()}")
            if time.monotonic() > give_up:
                raise Problem(f"waited {WAIT_S:.0f} s for {what} in vain: {self.tail()}")

    async def run(self, count: int) -> float:
        """``count`` invocations back to back: seconds per invocation, response to response."""
        done = self.api.expect(count)
        self.api.queue(count)
        await self.wait(done, f"{count} answers")
        self.check()
        times = self.api.times
        return (times[-1] - times[0]) / (len(times) - 1)

    def check(self) -> None:
        api = self.api
        if api.errors:
            raise Problem(f"posted an error: {api.errors[0][:300]!r}")
        for body in set(api.bodies):
            status, headers, content = decode_response("http", json.loads(body))
            kind = next((v for k, v in headers if k.lower() == "content-type"), "")
            if status != 200 or content != apps.BODY or not kind.startswith("text/plain"):
                raise Problem(f"wrong answer: {status} {kind!r} {content[:40]!r}")


def next_reply(request_id: bytes, deadline: bytes, event: bytes) -> bytes:
    """The Runtime API's whole answer to ``/next``: status line, headers and ``event``."""
    return b"".join(
        [
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
            b"Lambda-Runtime-Aws-Request-Id: %s\r\n" % request_id,
            b"Lambda-Runtime-Deadline-Ms: %s\r\n" % deadline,
            b"Lambda-Runtime-Invoked-Function-Arn: "
            b"arn:aws:lambda:us-east-1:123456789012:function:bench\r\n",
            b"Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;"
            b"Parent=53995c3f42cd8ad8;Sampled=1\r\n",
            b"Content-Length: %d\r\n\r\n" % len(event),
            event,
        ]
    )


def bench_event() -> dict[str, Any]:
    """The HTTP API 2.0 event every contender (and the ``direct`` floor) answers."""
    return build_event(
        "http",
        path="/hello",
        query="a=1&b=two",
        headers=[
            ("User-Agent", "bench/1.0"),
            ("Accept", "text/plain, */*"),
            ("Accept-Language", "en"),
            ("Cookie", "session=abc; theme=dark"),
        ],
    )


def _event() -> bytes:
    return json.dumps(bench_event()).encode()


def _contenders(app: str, timed: bool) -> list[Child]:
    interface = apps.APPS[app][0]
    attr = app.replace("-", "_")
    event = _event()
    children = []
    for label, runtime, wrapper in CONTENDERS[interface]:
        handler = f"runtime_functions.{wrapper}_{attr}"
        argv = timed_command(runtime, handler) if timed else plain_command(runtime, handler)
        children.append(Child(label, argv, event))
    return children


# ------------------------------------------------------------ throughput


async def throughput(app: str, rounds: int, batch: int) -> dict[str, Any]:
    """Every contender and both floors, interleaved round by round."""
    interface = apps.APPS[app][0]
    children = _contenders(app, timed=True)
    children.append(Child(NULL, timed_command("null"), _event()))
    children.append(Child(DIRECT[interface], timed_command("direct", app), _event()))
    count = batch + 1
    notes: dict[str, str] = {}
    ready: list[Child] = []
    try:
        for child in children:
            await child.start(batch=count)
        for child in children:
            try:
                await child.run(count)  # warm-up, and the answer checked
                child.steps()
                ready.append(child)
            except Problem as exc:
                notes[child.name] = str(exc)
        series = {child.name: Series(child.name) for child in ready}
        phases: dict[str, list[Series]] = {
            child.name: [Series("step"), Series("next"), Series("post")] for child in ready
        }
        shuffle = random.Random(5).shuffle
        order = list(ready)
        for _ in range(rounds):
            shuffle(order)
            for child in list(order):
                try:
                    series[child.name].samples.append(await child.run(count))
                except Problem as exc:
                    notes[child.name] = str(exc)
                    order.remove(child)
                    continue
                measured = child.steps()
                if measured is None:
                    phases.pop(child.name, None)
                elif child.name in phases:
                    for target, total, calls in zip(
                        phases[child.name], measured, (count, count - 1, count), strict=True
                    ):
                        target.samples.append(total / calls)
    finally:
        for child in children:
            child.close()
    rows: dict[str, Any] = {}
    for child in ready:
        if child.name in notes:
            continue
        row = series[child.name].summary()
        if child.name in phases:
            step, next_, post = phases[child.name]
            row.update(step=step.summary(), next=next_.median, post=post.median)
        rows[child.name] = row
    for child in ready:
        if child.name not in phases and child.name not in notes:
            notes[child.name + " (step)"] = "its Runtime API calls could not be timed"
    return {"app": app, "interface": interface, "rows": rows, "notes": notes}


# ------------------------------------------------------------ cold start


async def cold_start(app: str, repeats: int) -> dict[str, Any]:
    """The plain commands, each started ``repeats`` times (after one untimed start)."""
    children = _contenders(app, timed=False)
    samples = {child.name: Series(child.name) for child in children}
    notes: dict[str, str] = {}

    async def first_response(child: Child) -> float:
        # A Runtime API of its own for every start: the killed process may have
        # asked for its next invocation in bytes the loop has not read yet.
        child.api.close()
        child.api = RuntimeAPI(child.api.event)
        await child.api.start()
        done = child.api.expect(1)
        child.api.queue(1)
        started = time.perf_counter()
        await child.start()
        try:
            await child.wait(done, "a first answer")
            child.check()
        finally:
            child.stop()
        return child.api.times[0] - started

    jobs = list(children)
    try:
        for child in list(jobs):
            try:
                await first_response(child)
            except Problem as exc:
                notes[child.name] = str(exc)
                jobs.remove(child)
        shuffle = random.Random(7).shuffle
        for _ in range(repeats):
            shuffle(jobs)
            for child in list(jobs):
                try:
                    samples[child.name].samples.append(await first_response(child))
                except Problem as exc:
                    notes[child.name] = str(exc)
                    jobs.remove(child)
    finally:
        for child in children:
            child.close()
    rows = {k: s.summary() for k, s in samples.items() if s.samples and k not in notes}
    return {"app": app, "rows": rows, "notes": notes}


# ------------------------------------------------------------ memory


def _tree(pid: int) -> list[int]:
    """``pid`` and every process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def _memory_of(pids: Sequence[int]) -> dict[str, int]:
    """Sums over ``pids`` of VmRSS, VmHWM (peak RSS) and Pss, in bytes."""
    total = {"rss": 0, "hwm": 0, "pss": 0}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith(("VmRSS:", "VmHWM:")):
                        total["rss" if line[2] == "R" else "hwm"] += int(line.split()[1]) * 1024
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total["pss"] += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


MEMORY_CASES = [
    ("bridge.runtime, AWS_LAMBDA_MAX_CONCURRENCY=16", "bridge.runtime", "app", True),
    ("bridge.runtime, one invocation at a time", "bridge.runtime", "app", False),
    ("awslambdaric + Bridge, one process", "awslambdaric", "bridge", False),
    ("awslambdaric + Bridge, AWS_LAMBDA_MAX_CONCURRENCY=16", "awslambdaric", "bridge", True),
]


async def memory(rounds: int) -> dict[str, Any]:
    """A FastAPI function after ``rounds`` rounds of 16 invocations queued at once."""
    rows: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for label, runtime, wrapper, concurrent in MEMORY_CASES:
        extra = {"AWS_LAMBDA_MAX_CONCURRENCY": str(CONCURRENCY)} if concurrent else {}
        handler = f"runtime_functions.{wrapper}_fastapi_async"
        child = Child(label, plain_command(runtime, handler), _event(), **extra)
        try:
            await child.start()
            # Let every worker reach /next: 16 of them, or as many as come within a second.
            give_up, last, steady = time.monotonic() + WAIT_S, -1, time.monotonic()
            while len(child.api.waiting) < (CONCURRENCY if concurrent else 1):
                if len(child.api.waiting) != last:
                    last, steady = len(child.api.waiting), time.monotonic()
                elif last > 0 and time.monotonic() - steady > 1.0:
                    break
                if not child.alive() or time.monotonic() > give_up:
                    raise Problem(f"did not start: {child.tail()}")
                await asyncio.sleep(0.02)
            waiting = len(child.api.waiting)
            for _ in range(rounds):
                done = child.api.expect(CONCURRENCY)
                child.api.queue(CONCURRENCY)
                await child.wait(done, f"{CONCURRENCY} answers")
                child.check()
            assert child.process is not None
            pids = _tree(child.process.pid)
            rows[label] = {
                **_memory_of(pids),
                "processes": len(pids),
                "waiting": waiting,
                "max_in_flight": child.api.max_in_flight,
            }
        except Problem as exc:
            notes[label] = str(exc)
        finally:
            child.close()
    return {"rows": rows, "notes": notes, "rounds": rounds}


# ------------------------------------------------------------ streaming


STREAM_CASES = [("ASGI", "streaming_asgi"), ("WSGI", "streaming_wsgi")]


async def streaming(repeats: int) -> dict[str, Any]:
    """bridge.runtime streaming to a function URL: for every chunk, the time from
    the app's send to the chunk's arrival at the server."""
    import runtime_functions

    event = json.dumps(build_event("url", path="/stream")).encode()
    rows: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for label, attr in STREAM_CASES:
        child = Child(
            label,
            plain_command("bridge.runtime", f"runtime_functions.{attr}"),
            event,
            BRIDGE_INVOKE_MODE="RESPONSE_STREAM",
        )
        first, every = Series("first"), Series("every")
        try:
            await child.start()
            for n in range(repeats + 1):  # the first is a warm-up
                child.api.raw = []
                done = child.api.expect(1)
                child.api.queue(1)
                await child.wait(done, "a streamed answer")
                raw = b"".join(data for _, data in child.api.raw)
                arrivals, end = [], 0
                for arrived, data in child.api.raw:
                    end += len(data)
                    arrivals.append((end, arrived))
                found = [
                    (match.end(), float(match.group(1)))
                    for match in re.finditer(rb"<(\d+\.\d+)>", raw)
                ]
                body = child.api.bodies[0] if child.api.bodies else b""
                if len(found) != runtime_functions.CHUNKS or b"\0" * 8 not in body:
                    raise Problem(
                        f"not the stream expected: {(child.api.errors or [body])[0][:200]!r}"
                    )
                if not n:
                    continue
                for index, (offset, sent) in enumerate(found):
                    arrived = next(t for stop, t in arrivals if stop >= offset)
                    every.samples.append(arrived - sent)
                    if not index:
                        first.samples.append(arrived - sent)
            rows[label] = {"first": first.summary(), "every": every.summary()}
        except Problem as exc:
            notes[label] = str(exc)
        finally:
            child.close()
    return {"rows": rows, "notes": notes, "chunks": runtime_functions.CHUNKS}


# ------------------------------------------------------------ profile


#: As runtime_child.PROFILE_WARMUP: invocations before the profile counts.
PROFILE_WARMUP = 200


async def profile(app: str, count: int, out: str) -> None:
    """bridge.runtime under cProfile (every thread) for ``count`` invocations."""
    attr = app.replace("-", "_")
    child = Child(
        "bridge.runtime",
        timed_command("bridge.runtime", f"runtime_functions.app_{attr}"),
        _event(),
        BENCH_PROFILE=out,
    )
    await child.start()
    try:
        await child.run(PROFILE_WARMUP + count)
        assert child.process is not None
        child.process.send_signal(signal.SIGTERM)
        child.process.wait(timeout=WAIT_S)
    finally:
        child.close()


#: Where a thread waits (for a socket, for work): wall time, not work; left out.
WAITS = (
    "<method 'poll' of 'select.epoll' objects>",
    "<method 'get' of '_queue.SimpleQueue' objects>",
    "<method 'acquire' of '_thread.lock' objects>",
)
#: Cumulative times worth reading as a whole.
KEY_CALLS = ("_invoke", "__call__", "exchange", "run_in_executor", "_send", "loads", "dumps")


def print_profile(path: str, count: int, top: int = 25) -> None:
    import pstats

    stats = pstats.Stats(path)
    entries: list[tuple[tuple[str, int, str], tuple[Any, ...]]] = sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda item: item[1][2],
        reverse=True,
    )

    def where(key: tuple[str, int, str]) -> str:
        file, line, name = key
        file = os.path.relpath(file, ROOT) if file.startswith(ROOT) else os.path.basename(file)
        return f"`{name}` {file}:{line}"

    busy = [(k, v) for k, v in entries if k[2] not in WAITS]
    total = sum(v[2] for _, v in busy)
    print(
        f"cProfile of every thread, wall clock, {count} invocations after a warm-up; waits "
        f"for a socket or for work left out; every Python call is inflated by the profiler. "
        f"Own time in all: {total / count * 1e6:.0f} µs per invocation.\n"
    )
    print("| function | own µs/inv | cumulative µs/inv | calls/inv |")
    print("|---|---|---|---|")
    for key, (_, calls, own, cumulative, _) in busy[:top]:
        print(
            f"| {where(key)} | {own / count * 1e6:.1f} | {cumulative / count * 1e6:.1f} "
            f"| {calls / count:.2f} |"
        )
    print("\n| call | cumulative µs/inv | calls/inv |")
    print("|---|---|---|")
    for key, (_, calls, _, cumulative, _) in entries:
        wanted = key[0].startswith(ROOT) or key[2] in ("loads", "dumps")
        if key[2] in KEY_CALLS and wanted and calls:
            print(f"| {where(key)} | {cumulative / count * 1e6:.1f} | {calls / count:.2f} |")
    print()


# ------------------------------------------------------------ report


def _interval(a: list[float], b: list[float]) -> tuple[float, float, float]:
    first, second = Series("a", a), Series("b", b)
    return (paired_ratio(first, second), *paired_ratio_interval(first, second))


def _verdict(low: float, high: float, goal: float, *, above: bool) -> str:
    if (low >= goal) if above else (high < goal):
        return "met"
    if (high < goal) if above else (low >= goal):
        return "NOT met"
    return "level: the interval spans the goal"


def print_report(results: dict[str, Any]) -> None:
    if "throughput" in results:
        print("## Runtime: invocations back to back through a Runtime API on loopback\n")
        print(
            "Per invocation, response to response: median (p10-p90); invocations/s from the "
            "median; the paired ratio to awslambdaric + Bridge with its 95% interval; the "
            "invocation excluding the Runtime API exchange (*step*), and the `/next` and "
            "`/response` calls, timed inside the process (medians).\n"
        )
    for group in results.get("throughput", []):
        print(f"### {group['app']}\n")
        print(
            "| contender | per invocation | inv/s | / awslambdaric + Bridge | step | /next | "
            "/response |"
        )
        print("|---|---|---|---|---|---|---|")
        reference = group["rows"].get(REFERENCE)
        for name, row in group["rows"].items():
            ratio = ""
            if reference is not None and name != REFERENCE:
                value, low, high = _interval(row["samples"], reference["samples"])
                ratio = f"{value:.2f}x ({low:.2f}-{high:.2f})"
            step = row.get("step")
            steps = (
                f"{fmt_time(step['median'])} | {fmt_time(row['next'])} | {fmt_time(row['post'])}"
                if step
                else "n/a | n/a | n/a"
            )
            print(
                f"| {name} | {fmt_time(row['median'])} ({fmt_time(row['p10'])}-"
                f"{fmt_time(row['p90'])}) | {1 / row['median']:,.0f} | {ratio} | {steps} |"
            )
        for name, note in group["notes"].items():
            print(f"\n- {name}: {note}")
        print()
    if "coldstart" in results:
        print("## Runtime: process start to first response (median, p10-p90)\n")
        groups = results["coldstart"]
        names: list[str] = []
        for group in groups:
            names += [n for n in group["rows"] if n not in names]
        print("| contender | " + " | ".join(g["app"] for g in groups) + " |")
        print("|---|" + "---|" * len(groups))
        for name in names:
            cells = []
            for group in groups:
                row = group["rows"].get(name)
                cells.append(
                    f"{fmt_time(row['median'])} ({fmt_time(row['p10'])}-{fmt_time(row['p90'])})"
                    if row
                    else "n/a"
                )
            print(f"| {name} | " + " | ".join(cells) + " |")
        for group in groups:
            for name, note in group["notes"].items():
                print(f"\n- {group['app']}, {name}: {note}")
        print()
    if "memory" in results:
        data = results["memory"]
        print(
            f"## Runtime: memory of a FastAPI function after {data['rounds']} rounds of "
            f"{CONCURRENCY} invocations queued at once\n"
        )
        print("| case | processes | RSS (sum) | peak RSS (sum) | PSS (sum) | most in flight |")
        print("|---|---|---|---|---|---|")
        for name, row in data["rows"].items():
            print(
                f"| {name} | {row['processes']} | {fmt_bytes(row['rss'])} | "
                f"{fmt_bytes(row['hwm'])} | {fmt_bytes(row['pss'])} | {row['max_in_flight']} |"
            )
        for name, note in data["notes"].items():
            print(f"\n- {name}: {note}")
        print()
    if "streaming" in results:
        print_streaming(results["streaming"])


def print_streaming(data: dict[str, Any]) -> None:
    print(
        f"## Runtime: streamed chunks, from the app's send to the server ({data['chunks']} "
        f"chunks per response, a function URL event, `BRIDGE_INVOKE_MODE=RESPONSE_STREAM`)\n"
    )
    print("| app | first chunk: median (p10-p90) | every chunk: median (p10-p90) | most |")
    print("|---|---|---|---|")
    for label, row in data["rows"].items():
        first, every = row["first"], row["every"]
        print(
            f"| {label} | {fmt_time(first['median'])} ({fmt_time(first['p10'])}-"
            f"{fmt_time(first['p90'])}) | {fmt_time(every['median'])} ({fmt_time(every['p10'])}-"
            f"{fmt_time(every['p90'])}) | {fmt_time(max(every['samples']))} |"
        )
    for name, note in data["notes"].items():
        print(f"\n- {name}: {note}")
    print()


def targets(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for the runtime goals of issue 20."""
    rows: list[tuple[str, str, str]] = []
    for group in results.get("throughput", []):
        app, found = group["app"], group["rows"]
        ours, reference = found.get("bridge.runtime"), found.get(REFERENCE)
        if ours and reference:
            value, low, high = _interval(ours["samples"], reference["samples"])
            rows.append(
                (
                    f"{app}: bridge.runtime / awslambdaric + Bridge <= 1 (end to end)",
                    f"{value:.3f}x ({low:.3f}-{high:.3f})",
                    _verdict(low, high, 1.0, above=False),
                )
            )
        direct = found.get(DIRECT["asgi"])
        if app == "fastapi-async" and ours and ours.get("step") and direct and direct.get("step"):
            value, low, high = _interval(ours["step"]["samples"], direct["step"]["samples"])
            rows.append(
                (
                    "FastAPI: bridge.runtime's invocation excluding the exchange / "
                    "the app awaited directly <= 1.15",
                    f"{value:.2f}x ({low:.2f}-{high:.2f})",
                    _verdict(low, high, 1.15, above=False),
                )
            )
        mangum = found.get("awslambdaric + Mangum lifespan=off")
        if app == "trivial-asgi" and ours and ours.get("step") and mangum and mangum.get("step"):
            value, low, high = _interval(mangum["step"]["samples"], ours["step"]["samples"])
            rows.append(
                (
                    "trivial ASGI: Mangum lifespan=off's invocation excluding the exchange / "
                    "bridge.runtime's >= 4",
                    f"{value:.2f}x ({low:.2f}-{high:.2f})",
                    _verdict(low, high, 4.0, above=True),
                )
            )
    memory_rows = results.get("memory", {}).get("rows", {})
    many, one = memory_rows.get(MEMORY_CASES[0][0]), memory_rows.get(MEMORY_CASES[1][0])
    if many and one:
        ratio = many["pss"] / one["pss"]
        rows.append(
            (
                f"{CONCURRENCY} concurrent FastAPI invocations in one bridge.runtime process: "
                "<= 1.3x one process's memory (PSS)",
                f"{ratio:.2f}x; at most {many['max_in_flight']} in flight",
                f"not measurable yet: at most {many['max_in_flight']} in flight at a time"
                if many["max_in_flight"] < CONCURRENCY
                else ("met" if ratio <= 1.3 else "NOT met"),
            )
        )
    for label, row in results.get("streaming", {}).get("rows", {}).items():
        every = row["every"]
        rows.append(
            (
                f"{label}: a streamed chunk reaches the server within 2 ms of the app sending it "
                "(p90 of every chunk)",
                f"median {fmt_time(every['median'])}, p90 {fmt_time(every['p90'])}, "
                f"most {fmt_time(max(every['samples']))}",
                "met" if every["p90"] <= 2e-3 else "NOT met",
            )
        )
    return rows


# ------------------------------------------------------------ main


async def measure(
    sections: Sequence[str], app_names: Sequence[str], *, quick: bool
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    if "throughput" in sections:
        rounds, batch = (15, 40) if quick else (50, 100)
        results["throughput"] = []
        for app in app_names:
            results["throughput"].append(await throughput(app, rounds, batch))
            print(".", end="", file=sys.stderr, flush=True)
    if "coldstart" in sections:
        results["coldstart"] = []
        for app in app_names:
            results["coldstart"].append(await cold_start(app, 4 if quick else 12))
            print(".", end="", file=sys.stderr, flush=True)
    if "memory" in sections:
        results["memory"] = await memory(3 if quick else 10)
    if "streaming" in sections:
        results["streaming"] = await streaming(20 if quick else 100)
    print(file=sys.stderr)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds: under three minutes")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--apps", default=",".join(APPS), help="comma-separated apps")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument(
        "--json-line", action="store_true", help="print only the figures, as one JSON line"
    )
    parser.add_argument("--profile", metavar="APP", help="profile bridge.runtime serving APP")
    parser.add_argument("--count", type=int, default=5000, help="invocations to profile")
    options = parser.parse_args()
    if options.profile:
        with tempfile.TemporaryDirectory() as folder:
            out = os.path.join(folder, "runtime.prof")
            asyncio.run(profile(options.profile, options.count, out))
            print_profile(out, options.count)
        return
    started = time.perf_counter()
    results = asyncio.run(
        measure(options.only.split(","), options.apps.split(","), quick=options.quick)
    )
    if options.json:
        with open(options.json, "w") as out_file:
            json.dump(results, out_file, indent=1)
    if options.json_line:
        print(json.dumps(results))
        return
    now = datetime.datetime.now(datetime.timezone.utc)
    print(f"# bridge.runtime benchmarks, {now:%Y-%m-%d %H:%M} UTC\n")
    print(
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} at the end. "
        f"Mode: {'quick' if options.quick else 'full'}.\n"
    )
    print_report(results)
    print("## Targets\n")
    print("| target | measured | verdict |")
    print("|---|---|---|")
    for target, measured, verdict in targets(results):
        print(f"| {target} | {measured} | {verdict} |")
    print(f"\nTook {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
