"""``python -m bridge serve --reload``: serve from a child process, restarted on code change.

The parent binds the listening socket once and hands it to each child (``--inherit-socket``),
so the port stays the same and requests made during a restart wait in the socket's backlog
instead of being refused. It polls the modification times of the ``*.py`` files under the
watched folders; when one changes, appears or disappears it stops the child (SIGTERM, as
Ctrl-C would) and starts a new one. A child that fails to start (a syntax error just saved) is
started again on the next change. Polling needs nothing but the standard library and works
with either HTTP server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import FrameType

from bridge._log import get_logger
from bridge.local.server import stop_signals

__all__ = ["POLL_INTERVAL_S", "Reloader", "child_arguments", "snapshot"]

logger = get_logger("bridge.local")

#: How often the watched files are looked at.
POLL_INTERVAL_S = 0.5
#: How long a child may take to stop before it is killed.
STOP_LIMIT_S = 10.0
#: Folders never watched: environments, caches, version control.
_SKIPPED = frozenset({"__pycache__", "node_modules", "site-packages", "venv", "env", "build"})

Snapshot = dict[str, tuple[int, int]]


def snapshot(folders: Iterable[Path]) -> Snapshot:
    """``path -> (mtime_ns, size)`` of every ``*.py`` file under ``folders``."""
    found: Snapshot = {}
    for folder in folders:
        for path in _python_files(folder):
            try:
                info = os.stat(path)
            except OSError:  # removed meanwhile
                continue
            found[path] = (info.st_mtime_ns, info.st_size)
    return found


def _python_files(folder: Path) -> Iterator[str]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED]
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(root, name)


def _changed(before: Snapshot, after: Snapshot) -> str | None:
    """One file that changed, appeared or disappeared, if any."""
    for path, stamp in after.items():
        if before.get(path) != stamp:
            return path
    return next((path for path in before if path not in after), None)


class Reloader:
    """Runs ``python -m bridge serve ARGS --inherit-socket FD`` and restarts it on change."""

    def __init__(self, sock: socket.socket, child_args: Sequence[str], folders: Sequence[Path]):
        self.sock = sock
        self.child_args = list(child_args)
        self.folders = list(folders)
        self._stop = threading.Event()
        self._child: subprocess.Popen[bytes] | None = None
        self._exit_reported = False

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM; 0 then."""
        with stop_signals(self._on_signal):
            try:
                logger.info(
                    "Reloading when a .py file under %s changes",
                    ", ".join(str(f) for f in self.folders),
                )
                files = snapshot(self.folders)
                self._start()
                while not self._stop.wait(POLL_INTERVAL_S):
                    self._report_exit()
                    now = snapshot(self.folders)
                    path = _changed(files, now)
                    if path is None:
                        continue
                    files = now
                    logger.info("%s changed: restarting", path)
                    self._end()
                    self._start()
            finally:
                self._end()
        return 0

    def _report_exit(self) -> None:
        """Say once that the child stopped by itself (the app failed to load, say)."""
        child = self._child
        if child is not None and child.poll() is not None and not self._exit_reported:
            self._exit_reported = True
            logger.error(
                "The server exited with status %d; it restarts when a watched file changes",
                child.returncode,
            )

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()

    def _start(self) -> None:
        self._exit_reported = False
        fd = self.sock.fileno()
        self._child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bridge",
                "serve",
                *self.child_args,
                "--inherit-socket",
                str(fd),
            ],
            pass_fds=(fd,),
        )

    def _end(self) -> None:
        child, self._child = self._child, None
        if child is None or child.poll() is not None:
            return
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(STOP_LIMIT_S)
        except subprocess.TimeoutExpired:
            logger.warning("The server did not stop within %g s: killed", STOP_LIMIT_S)
            child.kill()
            child.wait()


def child_arguments(argv: Sequence[str]) -> list[str]:
    """The arguments of ``serve`` without ``--reload`` (or an abbreviation of it)."""
    return [a for a in argv if not (a.startswith("--r") and "--reload".startswith(a))]
