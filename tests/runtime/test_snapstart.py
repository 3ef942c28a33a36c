"""SnapStart, end to end: the real awslambdaric and ``python -m bridge.runtime`` as processes with
``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``, against the Runtime API server of
``tests/runtime_api.py`` (which serves ``/restore/next`` and records ``/restore/error``); then
``bridge.snapstart`` in this process."""

from __future__ import annotations

import json
import random
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bridge import Bridge, snapstart
from bridge.local.events import build_event
from tests.runtime_api import Posted, RuntimeAPIServer
from tests.runtime_process import FUNCTIONS, ROOT, Function, start

HANDLER = "snapstart_function.handler"
#: The first number ``random`` draws after ``random.seed(1234)``: what a copy that was not
#: reseeded after the restore answers.
NOT_RESEEDED = random.Random(1234).random()

#: How each runtime is started; "bridge.runtime, no snapshot_restore_py" hides AWS's module,
#: so that the hooks go to bridge's own registry.
RUNTIMES = {
    "awslambdaric": ["-m", "awslambdaric", HANDLER],
    "bridge.runtime": ["-m", "bridge.runtime", HANDLER],
    "bridge.runtime, no snapshot_restore_py": ["-m", "bridge.runtime", HANDLER],
}
BEFORE = ["before direct", "before 2", "before 1"]
AFTER = ["after 1", "after direct", "after 2"]


def expected(runtime: str, calls: list[str]) -> list[str]:
    """``calls`` without the hooks registered directly with snapshot_restore_py, when hidden."""
    if "no snapshot_restore_py" in runtime:
        return [c for c in calls if "direct" not in c]
    return calls


def invoke(function: Function) -> dict[str, Any]:
    """A GET of ``/`` through ``function``: the body of its 200 answer."""
    posted = function.invoke(build_event("http", method="GET", path="/"))
    assert posted.kind == "response", function.log()
    result = posted.json()
    assert result["statusCode"] == 200, function.log()
    answer: dict[str, Any] = json.loads(result["body"])
    return answer


def trace(function: Function) -> list[str]:
    """What the function's hooks wrote so far (``snapstart_function.py``)."""
    return (function.folder / "trace.txt").read_text().splitlines()


@contextmanager
def running(
    runtime: str,
    *,
    init_type: str = "snap-start",
    hold_restore: bool = False,
    restore_status: int = 200,
    **environ: str,
) -> Iterator[Function]:
    with RuntimeAPIServer() as api, tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        pythonpath = str(ROOT)
        if "no snapshot_restore_py" in runtime:
            hidden = folder / "hidden"
            hidden.mkdir()
            (hidden / "snapshot_restore_py.py").write_text("raise ImportError('hidden')\n")
            pythonpath = f"{hidden}:{pythonpath}"
        trace_path = folder / "trace.txt"
        trace_path.touch()
        api.state.restore_status = restore_status
        if hold_restore:
            api.state.restore_open.clear()
        with start(
            [sys.executable, *RUNTIMES[runtime]],
            api=api,
            folder=folder,
            cwd=FUNCTIONS,
            PYTHONPATH=pythonpath,
            _HANDLER=HANDLER,
            AWS_LAMBDA_FUNCTION_VERSION="1",
            AWS_LAMBDA_INITIALIZATION_TYPE=init_type,
            SNAPSTART_TRACE=str(trace_path),
            **environ,
        ) as function:
            yield function


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_hooks_run_in_order_around_the_restore(runtime: str) -> None:
    with running(runtime, hold_restore=True) as function:
        # The snapshot is being taken: the before-snapshot hooks have run, last registered
        # first, and no after-restore hook yet.
        function.api.wait_for_restore(alive=function.alive)
        assert trace(function) == expected(runtime, BEFORE), function.log()
        function.api.state.restore_open.set()
        answer = invoke(function)
        assert answer["calls"] == expected(runtime, BEFORE + AFTER)
        assert trace(function) == expected(runtime, BEFORE + AFTER)
        assert function.api.state.restores == 1
        # The hooks ran once, not once per invocation.
        assert invoke(function)["calls"] == expected(runtime, BEFORE + AFTER)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_random_is_reseeded_in_each_restored_copy(runtime: str) -> None:
    drawn = []
    for _ in range(2):
        with running(runtime) as function:
            drawn.append(invoke(function)["random"])
    assert NOT_RESEEDED not in drawn
    assert drawn[0] != drawn[1]


@pytest.mark.parametrize("runtime", ["awslambdaric", "bridge.runtime"])
def test_without_snapstart_nothing_runs_and_random_is_left_alone(runtime: str) -> None:
    with running(runtime, init_type="on-demand") as function:
        answer = invoke(function)
        assert answer == {"calls": [], "random": NOT_RESEEDED}
        assert function.api.state.restores == 0
        assert not [s for s in function.api.state.seen if "/restore/" in s.path]


def error_of(posted: Posted) -> dict[str, Any]:
    error: dict[str, Any] = posted.json()
    return error


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_failing_after_restore_hook_is_a_restore_error(runtime: str) -> None:
    with running(runtime, SNAPSTART_FAIL="after") as function:
        posted = function.api.restore_error(alive=function.alive)
        assert posted.headers["lambda-runtime-function-error-type"] == "Runtime.AfterRestoreError"
        assert "after: vault unreachable" in error_of(posted)["errorMessage"]
        assert function.exit_status() != 0
        # The hooks registered before the failing one ran; no invocation was asked for.
        assert trace(function) == expected(runtime, BEFORE + AFTER)
        assert not [s for s in function.api.state.seen if s.path.endswith("/invocation/next")]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_failing_before_snapshot_hook_is_an_init_error(runtime: str) -> None:
    with running(runtime, SNAPSTART_FAIL="before") as function:
        posted = function.api.init_error(alive=function.alive)
        assert posted.headers["lambda-runtime-function-error-type"] == (
            "Runtime.BeforeSnapshotError"
        )
        assert "before: vault unreachable" in error_of(posted)["errorMessage"]
        assert function.exit_status() != 0
        assert function.api.state.restores == 0
        # The failing hook was registered last, so it ran first and stopped the others.
        assert trace(function) == []


def test_bridge_runtime_stops_when_restore_next_fails() -> None:
    with running("bridge.runtime", restore_status=500) as function:
        assert function.exit_status() == 1
        assert "SnapStart restore failed: GET /restore/next answered 500" in function.log()
        assert trace(function) == BEFORE


# --- bridge.snapstart in this process ---------------------------------------------------------


@pytest.fixture
def registries(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[Any], list[Any]]]:
    """AWS's registry, emptied for the test and restored after."""
    import snapshot_restore_py  # type: ignore[import-untyped]

    before, after = (
        snapshot_restore_py.get_before_snapshot(),
        snapshot_restore_py.get_after_restore(),
    )
    saved = list(before), list(after)
    before.clear()
    after.clear()
    yield before, after
    before[:] = saved[0]
    after[:] = saved[1]


def test_hooks_go_to_snapshot_restore_py_behind_the_reseed(
    registries: tuple[list[Any], list[Any]],
) -> None:
    before, after = registries

    def hook() -> None: ...

    assert snapstart.before_snapshot(hook) is hook
    assert snapstart.after_restore(hook, 1, key="v") is hook
    assert before == [(hook, (), {})]
    assert after == [(snapstart.reseed_random, (), {}), (hook, (1,), {"key": "v"})]


def test_the_runners_follow_awslambdarics_order_and_name_the_failing_hook(
    registries: tuple[list[Any], list[Any]],
) -> None:
    calls: list[str] = []
    for name in ("a", "b"):
        snapstart.before_snapshot(calls.append, f"before {name}")
        snapstart.after_restore(calls.append, f"after {name}")
    snapstart.run_before_snapshot()
    snapstart.run_after_restore()
    assert calls == ["before b", "before a", "after a", "after b"]

    def broken() -> None:
        raise KeyError("DATABASE_URL")

    snapstart.after_restore(broken)
    with pytest.raises(snapstart.SnapStartHookError) as caught:
        snapstart.run_after_restore()
    assert str(caught.value) == (
        "The after-restore hook tests.runtime.test_snapstart.test_the_runners_follow_awslambdarics"
        "_order_and_name_the_failing_hook.<locals>.broken failed: KeyError: 'DATABASE_URL'"
    )
    assert isinstance(caught.value.__cause__, KeyError)


def test_run_after_restore_reseeds_random(registries: tuple[list[Any], list[Any]]) -> None:
    state = random.getstate()
    try:
        random.seed(1234)
        snapstart.run_after_restore()
        assert random.random() != NOT_RESEEDED
    finally:
        random.setstate(state)


def test_bridge_registers_the_reseed_only_under_snapstart(
    registries: tuple[list[Any], list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, after = registries
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    Bridge(lambda environ, start_response: [])
    assert after == []
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    Bridge(lambda environ, start_response: [])
    Bridge(lambda environ, start_response: [])
    assert after == [(snapstart.reseed_random, (), {})]


def test_a_coroutine_function_or_a_non_callable_is_refused(
    registries: tuple[list[Any], list[Any]],
) -> None:
    async def reconnect() -> None: ...

    with pytest.raises(TypeError, match="takes a plain function, got the coroutine function"):
        snapstart.after_restore(reconnect)
    with pytest.raises(TypeError, match=r"before_snapshot\(\) takes a function to call, got 42"):
        snapstart.before_snapshot(42)  # type: ignore[type-var]
    assert registries == ([], [])
