"""Real servers for the WebSocket tests, started on loopback with ephemeral ports.

Each server's binary must be installed (Debian packages in .ci/apt-packages.txt).
Outside CI a missing binary skips the tests that need it; in CI (``CI`` set) it
fails them, so a broken CI image cannot pass by skipping.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

START_TIMEOUT = 30.0


def require_binary(name: str, package: str, search: tuple[str, ...] = ()) -> str:
    """The path of a server binary; skip (or, in CI, fail) when it is not installed."""
    found = shutil.which(name)
    if found is None:
        for pattern in search:
            matches = sorted(glob.glob(pattern))
            if matches:
                found = matches[-1]
                break
    if found is not None:
        return found
    message = f"{name} is not installed: apt-get install {package}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must have it: list {package} in .ci/apt-packages.txt)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def closed_port() -> int:
    """A loopback port with nothing listening (for unreachable-server tests)."""
    return free_port()


def _wait_until(ready: Any, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()}")
        if ready():
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start:\n{log.read_text()}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway ``redis-server``; yields its URL."""
    binary = require_binary("redis-server", "redis-server")
    import redis

    with tempfile.TemporaryDirectory(prefix="bridge-redis-") as workdir:
        log = Path(workdir, "redis.log")
        port = free_port()
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", workdir, "--logfile", str(log)]
        with log.open("wb") as out:
            process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        url = f"redis://127.0.0.1:{port}/0"

        def ready() -> bool:
            client = redis.Redis.from_url(url, socket_connect_timeout=1)
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False
            finally:
                client.close()

        try:
            log.touch()
            _wait_until(ready, process, log, "redis-server")
            yield url
        finally:
            _stop(process)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster; yields its URL.

    PostgreSQL refuses to run as root, so when the tests run as root the
    cluster belongs to the ``postgres`` system user and runs as that user.
    """
    search = ("/usr/lib/postgresql/*/bin/{}",)
    initdb = require_binary("initdb", "postgresql", tuple(p.format("initdb") for p in search))
    postgres = str(Path(initdb).with_name("postgres"))
    import psycopg

    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:
        run_as = {"user": "postgres", "group": "postgres"}
    workdir = tempfile.mkdtemp(prefix="bridge-pg-")
    process: subprocess.Popen[bytes] | None = None
    try:
        if run_as:
            shutil.chown(workdir, "postgres", "postgres")
        data = Path(workdir, "data")
        log = Path(workdir, "postgres.log")
        with log.open("wb") as out:
            if run_as:
                shutil.chown(log, "postgres", "postgres")
            subprocess.run(
                [initdb, "-D", str(data), "-A", "trust", "-U", "bridge", "-E", "UTF8", "--no-sync"],
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                **run_as,
            )
            port = free_port()
            args = [postgres, "-D", str(data), "-p", str(port), "-k", workdir]
            args += ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
            process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, **run_as)
        url = f"postgresql://bridge@127.0.0.1:{port}/postgres"

        def ready() -> bool:
            try:
                psycopg.connect(url, connect_timeout=1).close()
            except psycopg.OperationalError:
                return False
            return True

        _wait_until(ready, process, log, "postgres")
        yield url
    finally:
        if process is not None:
            _stop(process, signal.SIGINT)  # fast shutdown
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto in server mode (DynamoDB, Management API); yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        if server._server is not None:
            server._server.server_close()


# ------------------------------------------------- a Management API that records


@dataclass
class Call:
    method: str
    path: str
    connection_id: str
    body: bytes


@dataclass
class ManagementStub:
    """A local Management API: records every call; answers 410 for ``gone``
    connections and 403 for ``forbidden`` ones, as API Gateway does."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    forbidden: set[str] = field(default_factory=set)

    def posts(self, connection_id: str) -> list[bytes]:
        return [
            c.body for c in self.calls if c.method == "POST" and c.connection_id == connection_id
        ]

    def deletes(self) -> list[str]:
        return [c.connection_id for c in self.calls if c.method == "DELETE"]


@contextlib.contextmanager
def management_stub() -> Iterator[ManagementStub]:
    stub = ManagementStub()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            _, _, raw_id = self.path.partition("/@connections/")
            connection_id = unquote(raw_id)
            with lock:
                stub.calls.append(Call(self.command, self.path, connection_id, body))
            if connection_id in stub.gone:
                self._error(410, "GoneException")
            elif connection_id in stub.forbidden:
                self._error(403, "ForbiddenException")
            else:
                self._send(200, b"{}", {})

        def _error(self, status: int, code: str) -> None:
            payload = json.dumps({"message": f"{code} from the test stub"}).encode()
            self._send(status, payload, {"x-amzn-ErrorType": code})

        def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_POST = do_DELETE = do_GET = _answer

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="management-stub", daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
