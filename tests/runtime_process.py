"""A function's runtime as a child process, started the way Lambda starts it: the environment
Lambda sets, ``AWS_LAMBDA_RUNTIME_API`` pointing at the server of ``runtime_api.py``, the
function modules of ``functions/`` in ``LAMBDA_TASK_ROOT`` and the output in a log file.

:func:`running` is the usual entry (a new server and a new temporary folder);
:func:`start` is for tests that set up the server or the folder first. The process is killed
on exit, and every wait on it is bounded.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .runtime_api import NoAnswer, Posted, RuntimeAPIServer

ROOT = Path(__file__).resolve().parents[1]
#: The function modules, ``LAMBDA_TASK_ROOT`` unless a test says otherwise.
FUNCTIONS = Path(__file__).resolve().parent / "functions"
#: The limit of every wait on the process or on its answers.
WAIT_S = 20.0


@dataclass
class Function:
    """A runtime process and the Runtime API it polls; ``folder`` holds its log."""

    api: RuntimeAPIServer
    process: subprocess.Popen[bytes]
    folder: Path

    @property
    def log_path(self) -> Path:
        return self.folder / "function.log"

    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, event: Any, **options: Any) -> Posted:
        """Queue ``event`` (``options`` go to :meth:`RuntimeAPIServer.invoke`) and wait for the
        answer."""
        return self.answer(self.api.invoke(event, **options))

    def answer(self, request_id: str) -> Posted:
        """Wait for the answer to ``request_id``; if none comes, the error shows the log."""
        try:
            return self.api.answer(request_id, alive=self.alive)
        except NoAnswer as exc:
            raise NoAnswer(f"{exc}; the function's output:\n{self.log()}") from None

    def stop(self) -> int:
        """SIGTERM, and the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.exit_status()

    def exit_status(self) -> int:
        return self.process.wait(timeout=WAIT_S)

    def command_line(self) -> list[str]:
        """The process's command line now (after any ``exec``)."""
        return Path(f"/proc/{self.process.pid}/cmdline").read_bytes().decode().split("\0")[:-1]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def environment(api: RuntimeAPIServer, **environ: str) -> dict[str, str]:
    """What Lambda sets for a function polling ``api``; ``environ`` adds or overrides."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "LAMBDA_TASK_ROOT": str(FUNCTIONS),
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "AWS_LAMBDA_FUNCTION_NAME": "bridge-runtime",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "us-east-1",
        "PYTHONDEVMODE": "1",
    }
    if sys.warnoptions:
        env["PYTHONWARNINGS"] = ",".join(sys.warnoptions)
    env.update(environ)
    return env


@contextmanager
def start(
    arguments: Sequence[str | Path],
    *,
    api: RuntimeAPIServer,
    folder: Path,
    cwd: Path | None = None,
    **environ: str,
) -> Iterator[Function]:
    """Run ``arguments`` against ``api`` with :func:`environment` (plus ``environ``), its output
    in ``folder``; the working directory is ``folder`` unless ``cwd`` is given, so that only
    ``LAMBDA_TASK_ROOT`` makes the function importable."""
    log_path = folder / "function.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(part) for part in arguments],
            cwd=cwd or folder,
            env=environment(api, **environ),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Function(api, process, folder)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=WAIT_S)


@contextmanager
def running(
    arguments: Sequence[str | Path], *, cwd: Path | None = None, **environ: str
) -> Iterator[Function]:
    """:func:`start` with a new Runtime API server and a new temporary folder."""
    with (
        RuntimeAPIServer() as api,
        tempfile.TemporaryDirectory() as folder,
        start(arguments, api=api, folder=Path(folder), cwd=cwd, **environ) as function,
    ):
        yield function
