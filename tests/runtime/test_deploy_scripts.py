"""The scripts that start ``bridge.runtime`` on Lambda, run as Lambda runs them, against the
Runtime API server of ``tests/runtime_api.py``: the exec wrapper bridge ships
(``AWS_LAMBDA_EXEC_WRAPPER`` on the managed Python runtimes) and the ``bootstrap`` of the
``provided.al2023`` template.

Each serves the app of ``deploy/runtime/app`` from a folder laid out as the function's zip:
``app.py`` and the ``bridge`` package side by side in ``LAMBDA_TASK_ROOT``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bridge.local.events import build_event
from tests.runtime_api import RuntimeAPIServer
from tests.runtime_process import ROOT, WAIT_S, Function, start

WRAPPER = ROOT / "bridge" / "runtime" / "exec-wrapper"
APP = ROOT / "deploy" / "runtime" / "app"
#: The folder of the Python running the tests: its python3 has FastAPI.
PYTHON_BIN = str(Path(sys.executable).parent)


def get(function: Function, path: str, query: str = "") -> Any:
    request_id = function.api.invoke(build_event("url", method="GET", path=path, query=query))
    posted = function.answer(request_id)
    assert posted.kind == "response", function.log()
    result = posted.json()
    assert result["statusCode"] == 200, result
    return json.loads(result["body"])


@contextmanager
def started(
    command: Sequence[str | Path], *, bridge_in_task_root: bool, **environ: str
) -> Iterator[Function]:
    with RuntimeAPIServer() as api, tempfile.TemporaryDirectory() as folder:
        task_root = Path(folder) / "task"
        task_root.mkdir()
        shutil.copy(APP / "app.py", task_root)
        if bridge_in_task_root:
            (task_root / "bridge").symlink_to(ROOT / "bridge", target_is_directory=True)
        with start(
            [str(part).replace("{task}", str(task_root)) for part in command],
            api=api,
            folder=Path(folder),
            cwd=Path(folder),  # Lambda starts in /var/task; the scripts must not depend on it
            PATH=f"{PYTHON_BIN}:/usr/bin:/bin",
            PYTHONPATH="/var/runtime",  # what the managed runtime sets
            LAMBDA_TASK_ROOT=str(task_root),
            _HANDLER="app.app",
            **environ,
        ) as function:
            yield function


def test_the_exec_wrapper_runs_bridge_runtime_with_the_runtimes_python() -> None:
    # As the managed runtime: $AWS_LAMBDA_EXEC_WRAPPER <its python> <its bootstrap.py>.
    command: list[str | Path] = [WRAPPER, sys.executable, "/var/runtime/bootstrap.py"]
    with started(command, bridge_in_task_root=False) as function:
        assert get(function, "/", "name=Lambda")["message"] == "Hello, Lambda!"
        # The wrapper replaced itself with the runtime's Python running bridge.runtime.
        assert function.command_line() == [sys.executable, "-m", "bridge.runtime"]


def test_the_exec_wrapper_where_the_zip_has_bridge_at_its_root() -> None:
    command = ["{task}/bridge/runtime/exec-wrapper", sys.executable, "/var/runtime/bootstrap.py"]
    with started(
        command, bridge_in_task_root=True, AWS_LAMBDA_INITIALIZATION_TYPE="snap-start"
    ) as function:
        assert get(function, "/")["message"] == "Hello, world!"
        assert function.api.state.restores == 1


def test_the_exec_wrapper_falls_back_to_python3_on_path() -> None:
    command: list[str | Path] = [
        WRAPPER,
        "/var/runtime/bootstrap",
    ]  # a first argument that is not a Python
    with started(command, bridge_in_task_root=False) as function:
        assert get(function, "/")["message"] == "Hello, world!"
        assert function.command_line()[1:] == ["-m", "bridge.runtime"]


def test_the_exec_wrapper_without_a_python_says_so() -> None:
    done = subprocess.run(
        [str(WRAPPER), "/var/runtime/bootstrap"],
        env={"PATH": "/nonexistent"},
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    assert done.returncode == 127
    assert "expected the runtime's Python as the first argument" in done.stderr


def test_the_provided_al2023_bootstrap_serves_the_app() -> None:
    # Lambda runs /var/task/bootstrap with no arguments; python3 comes from PATH (a layer's
    # /opt/bin on Lambda).
    command = [APP / "bootstrap"]
    with started(command, bridge_in_task_root=True) as function:
        assert get(function, "/", "name=al2023")["message"] == "Hello, al2023!"
        assert function.command_line()[1:] == ["-m", "bridge.runtime"]
