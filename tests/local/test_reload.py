"""``python -m bridge serve --reload``: a temporary project, its app file edited while served."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bridge.local.reload import _changed, child_arguments, snapshot

from .running import serving

#: Hang guard for a restart to show.
RESTART_LIMIT_S = 30.0

APP = """\
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [{answer!r}]
"""


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until it holds; fail after RESTART_LIMIT_S."""
    deadline = time.monotonic() + RESTART_LIMIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {RESTART_LIMIT_S} s: {what}")
        time.sleep(0.05)


def answer(http: httpx.Client) -> bytes:
    try:
        return http.get("/").content
    except httpx.TransportError:  # the connection of a stopping child
        return b""


@pytest.mark.parametrize("server", ["uvicorn", "stdlib"])
def test_an_edited_app_file_is_served_after_a_restart(tmp_path: Path, server: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    app_file = project / "app.py"
    app_file.write_text(APP.format(answer=b"one"))
    with (
        serving(f"{app_file}:app", "--reload", "--server", server) as running,
        httpx.Client(base_url=running.url, timeout=RESTART_LIMIT_S) as http,
    ):
        assert http.get("/").content == b"one"
        app_file.write_text(APP.format(answer=b"second"))
        wait_until(lambda: answer(http) == b"second", "the edited answer")
        # A file that fails to import: the server says so, and comes back on the next edit.
        app_file.write_text("def app(:\n")
        wait_until(
            lambda: "exited with status 1; it restarts when" in running.log(),
            "the import failure in the log",
        )
        assert "SyntaxError" in running.log()
        app_file.write_text(APP.format(answer=b"third"))
        wait_until(lambda: answer(http) == b"third", "the fixed answer")
        assert "app.py changed: restarting" in running.log()
    assert running.process.returncode == 0


def test_snapshot_sees_python_files_only_outside_skipped_folders(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    for skipped in (".venv", "__pycache__", "node_modules"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "b.py").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "c.py").write_text("")
    assert sorted(Path(p).relative_to(tmp_path).as_posix() for p in snapshot([tmp_path])) == [
        "a.py",
        "pkg/c.py",
    ]


def test_a_change_a_new_file_and_a_removed_file_are_changes() -> None:
    before = {"a.py": (1, 10), "b.py": (1, 10)}
    assert _changed(before, dict(before)) is None
    assert _changed(before, {**before, "a.py": (2, 10)}) == "a.py"
    assert _changed(before, {**before, "c.py": (1, 1)}) == "c.py"
    assert _changed(before, {"a.py": (1, 10)}) == "b.py"


def test_the_child_gets_every_argument_but_reload() -> None:
    argv = ["app.py:app", "--reload", "--port", "0", "--rel", "--stage", "prod"]
    assert child_arguments(argv) == ["app.py:app", "--port", "0", "--stage", "prod"]
