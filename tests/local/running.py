"""Run ``python -m bridge`` as a user would: a subprocess in the repository's root folder."""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bridge

ROOT = Path(bridge.__file__).resolve().parent.parent
APPS = "tests/local/apps.py"
STARTUP_LIMIT_S = 30.0


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child: this checkout importable, the same warning filters."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if sys.warnoptions:
        env["PYTHONWARNINGS"] = ",".join(sys.warnoptions)
    env.update(extra)
    return env


def main_status(argv: list[str]) -> int:
    """``main(argv)`` in this process: its exit status, returned or raised by argparse."""
    from bridge.local.cli import main

    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def run_cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """``python -m bridge ARGS`` to completion, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        cwd=ROOT,
        env=child_env(),
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


#: asyncio's debug-mode report of a slow step (PYTHONDEVMODE turns debug mode on).
_SLOW_STEP = re.compile(
    rb"^(?:[^\n]* WARNING asyncio: )?Executing <[^\n]*> took \d+\.\d+ seconds\n", re.MULTILINE
)


def own_stderr(done: subprocess.CompletedProcess[bytes]) -> bytes:
    """What a child wrote to stderr, less asyncio's reports of a step over
    100 ms: under PYTHONDEVMODE a loaded machine can produce one on a first
    request, and they come from the test run's debug mode, not from bridge."""
    return _SLOW_STEP.sub(b"", done.stderr)


@dataclass
class Server:
    """A running ``python -m bridge serve``."""

    url: str
    banner: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """What it wrote to stderr so far."""
        return self.log_path.read_text()


@contextmanager
def serving(app: str, *args: str) -> Iterator[Server]:
    """Start ``python -m bridge serve APP --port 0 ARGS``, wait for its banner, stop it after."""
    with tempfile.TemporaryDirectory() as folder:
        log_path = Path(folder) / "stderr.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "bridge", "serve", app, "--port", "0", *args],
                cwd=ROOT,
                env=child_env(),
                stdout=subprocess.PIPE,
                stderr=log,
            )
        try:
            banner = _first_line(process, log_path)
            match = re.search(r"http://\S+:\d+", banner)
            assert match, f"no URL in the banner {banner!r}"
            yield Server(match.group(0), banner, process, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            assert process.stdout is not None
            process.stdout.close()


def stop(server: Server) -> int:
    """Stop the server as Ctrl-C would and return its exit status."""
    server.process.send_signal(2)
    return server.process.wait(timeout=10)


def _first_line(process: subprocess.Popen[bytes], log_path: Path) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(STARTUP_LIMIT_S):
            raise AssertionError(f"no banner within {STARTUP_LIMIT_S} s: {log_path.read_text()}")
    line = process.stdout.readline().decode()
    if not line:
        process.wait(timeout=10)
        raise AssertionError(
            f"serve exited with {process.returncode} before serving: {log_path.read_text()}"
        )
    return line
