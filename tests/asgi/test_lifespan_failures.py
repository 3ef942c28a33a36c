"""Every way lifespan startup and shutdown can fail, in each mode, and SIGTERM
arriving in the middle of an invocation."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from bridge import Bridge, LifespanError
from bridge.asgi import lifespan as lifespan_module
from bridge.asgi.loop import get_runner
from bridge.local.events import build_event
from tests.apps import read_body


class FailingLifespan:
    """Fails its startup or its shutdown in the way it is told."""

    def __init__(self, *, startup: str = "ok", shutdown: str = "ok") -> None:
        self.startup = startup
        self.shutdown = shutdown
        self.requests = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        self.requests += 1
        await read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def lifespan(self, receive: Any, send: Any) -> None:
        if self.startup == "raise-before-receive":
            raise ConnectionError("database unreachable")
        await receive()
        if self.startup == "failed":
            await send({"type": "lifespan.startup.failed", "message": "no database"})
            return
        if self.startup == "raise":
            raise ConnectionError("database unreachable")
        if self.startup == "return":
            return
        if self.startup == "wrong-message":
            await send({"type": "lifespan.shutdown.complete"})
        await send({"type": "lifespan.startup.complete"})
        await receive()
        if self.shutdown == "failed":
            await send({"type": "lifespan.shutdown.failed", "message": "flush failed"})
        elif self.shutdown == "raise":
            raise RuntimeError("flush failed")
        elif self.shutdown == "return":
            return
        else:
            await send({"type": "lifespan.shutdown.complete"})


def leftover_tasks() -> set[asyncio.Task[Any]]:
    """Lifespan tasks still on the process loop (other handlers' included)."""
    return {t for t in asyncio.all_tasks(get_runner().loop) if not t.done()}


#: (startup failure, mode) -> "error" (Bridge() raises LifespanError) or
#: "serve" (requests are served without lifespan, and the log says why).
STARTUP_OUTCOMES = {
    ("failed", "on"): "error",
    ("failed", "auto"): "error",
    ("raise", "on"): "error",
    ("raise", "auto"): "serve",
    ("raise-before-receive", "on"): "error",
    ("raise-before-receive", "auto"): "serve",
    ("return", "on"): "error",
    ("return", "auto"): "serve",
}


@pytest.mark.parametrize(("failure", "mode"), list(STARTUP_OUTCOMES))
def test_startup_failure(failure: str, mode: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="bridge.lifespan")
    app = FailingLifespan(startup=failure)
    if STARTUP_OUTCOMES[failure, mode] == "error":
        with pytest.raises(LifespanError, match="Lifespan startup failed"):
            Bridge(app, lifespan=mode)
    else:
        handler = Bridge(app, lifespan=mode)
        try:
            assert handler(build_event("http"))["statusCode"] == 200
            assert "does not support the lifespan protocol" in caplog.text
            assert "database unreachable" in caplog.text or "returned at once" in caplog.text
        finally:
            handler.close()
    assert not leftover_tasks()


@pytest.mark.parametrize("mode", ["on", "auto"])
def test_startup_protocol_violation_is_an_error(mode: Any) -> None:
    with pytest.raises(LifespanError):
        Bridge(FailingLifespan(startup="wrong-message"), lifespan=mode)
    assert not leftover_tasks()


class SlowStartup:
    """Completes (or fails) its startup after ``delay`` seconds."""

    def __init__(self, delay: float, outcome: str = "complete") -> None:
        self.delay = delay
        self.outcome = outcome

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await asyncio.sleep(self.delay)
            await send({"type": f"lifespan.startup.{self.outcome}"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _waiting_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "bridge.lifespan" and r.levelname == "WARNING"
    ]


@pytest.mark.parametrize("outcome", ["complete", "failed"])
def test_a_slow_startup_is_reported_while_it_is_waited_for(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, outcome: str
) -> None:
    """A startup that takes longer than the patience logs a WARNING for each
    period it is still running, and is still waited for to its end."""
    monkeypatch.setattr(lifespan_module, "STARTUP_PATIENCE_S", 0.05)
    app = SlowStartup(0.5, outcome)
    if outcome == "failed":
        with pytest.raises(LifespanError):
            Bridge(app, lifespan="on")
    else:
        handler = Bridge(app, lifespan="on")
        assert handler(build_event("http"))["statusCode"] == 200
        handler.close()
    # Timers never fire early, but a busy machine may fire them late: about
    # ten WARNINGs, and at least two unless the loop stalled for 0.4 s.
    warnings = _waiting_warnings(caplog)
    assert 2 <= len(warnings) <= 10
    for number, message in enumerate(warnings, 1):
        assert f"has not completed after {0.05 * number:g} s" in message
    assert "'lifespan.startup.complete'" in warnings[0]
    assert "lifespan='off'" in warnings[0]
    assert not leftover_tasks()


def test_a_prompt_startup_logs_no_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(lifespan_module, "STARTUP_PATIENCE_S", 0.5)
    handler = Bridge(SlowStartup(0.0), lifespan="on")
    handler.close()
    assert _waiting_warnings(caplog) == []
    assert not leftover_tasks()


@pytest.mark.parametrize("mode", ["on", "auto"])
@pytest.mark.parametrize(
    ("failure", "logged"),
    [
        ("failed", "Lifespan shutdown failed: flush failed"),
        ("raise", "Lifespan shutdown failed: RuntimeError: flush failed"),
        ("return", ""),
    ],
)
def test_shutdown_failure_is_logged_never_raised(
    mode: Any, failure: str, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = FailingLifespan(shutdown=failure)
    handler = Bridge(app, lifespan=mode)
    assert handler(build_event("http"))["statusCode"] == 200
    handler.close()  # does not raise
    handler.close()  # and runs once
    assert logged in caplog.text
    assert not leftover_tasks()


def test_lifespan_off_never_runs_a_failing_lifespan() -> None:
    app = FailingLifespan(startup="raise", shutdown="raise")
    handler = Bridge(app, lifespan="off")
    assert handler(build_event("http"))["statusCode"] == 200
    handler.close()
    assert app.requests == 1


SIGTERM_SCRIPT = textwrap.dedent(
    """
    import asyncio, os, signal, sys, time
    from bridge import Bridge
    from bridge.local.events import build_event

    log = open(sys.argv[1], "a")

    def note(line):
        log.write(line + "\\n"); log.flush()

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                note(message["type"])
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        await receive()
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0.05)  # the request goes on after the signal
        note("request finished")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    handler = Bridge(app)
    handler(build_event("http"))
    note("response returned")
    time.sleep(5)
    note("not terminated")
    """
)


def test_sigterm_during_an_invocation(tmp_path: Path) -> None:
    """The request is not interrupted; lifespan shutdown runs once it has
    finished, then the default action ends the process (before the handler
    returns: Lambda itself sends SIGTERM only between invocations)."""
    script = tmp_path / "sigterm_during.py"
    script.write_text(SIGTERM_SCRIPT)
    log = tmp_path / "log.txt"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    process = subprocess.run(
        [sys.executable, str(script), str(log)], env=env, timeout=30, check=False
    )
    assert process.returncode == -signal.SIGTERM
    assert log.read_text().splitlines() == [
        "lifespan.startup",
        "request finished",
        "lifespan.shutdown",
    ]


async def answers_every_scope_with_http(scope: Any, receive: Any, send: Any) -> None:
    """A minimal app that never looks at the scope type: lifespan included,
    it answers with an HTTP response."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"hello"})


def test_auto_serves_an_app_that_answers_lifespan_with_http(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="bridge.lifespan")
    handler = Bridge(answers_every_scope_with_http)
    try:
        response = handler(build_event("http"))
        assert (response["statusCode"], response["body"]) == (200, "hello")
        lines = [r.getMessage() for r in caplog.records if r.name == "bridge.lifespan"]
        assert any(
            "does not support the lifespan protocol" in line and "'http.response.start'" in line
            for line in lines
        ), lines
    finally:
        handler.close()
    assert not leftover_tasks()


def test_on_still_fails_for_an_app_that_answers_lifespan_with_http() -> None:
    with pytest.raises(LifespanError, match=r"'http\.response\.start'"):
        Bridge(answers_every_scope_with_http, lifespan="on")
    assert not leftover_tasks()


# ------------------------------------------- a shutdown that never completes


HANGING_SHUTDOWN_APP = textwrap.dedent(
    """
    import asyncio, os, sys

    STUBBORN = os.environ.get("STUBBORN") == "1"

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            sys.stderr.write("shutdown started\\n")
            while True:  # never completes; a stubborn one ignores cancellation
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    if not STUBBORN:
                        raise
            return
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"served"})
    """
)

HANGING_SHUTDOWN_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    from bridge import Bridge
    from bridge.local.events import build_event
    from hanging_app import app

    if sys.argv[1] == "chain":
        def previous(signum, frame):
            sys.stderr.write("previous handler\\n")
            sys.exit(3)
        signal.signal(signal.SIGTERM, previous)
    handler = Bridge(app)
    handler(build_event("http"))
    sys.stderr.write("served\\n")
    if sys.argv[1] in ("chain", "sigterm"):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(20)
        sys.stderr.write("not terminated\\n")
    """
)


def _run_hanging(tmp_path: Path, args: list[str], stubborn: bool) -> tuple[int, str, float]:
    (tmp_path / "hanging_app.py").write_text(HANGING_SHUTDOWN_APP)
    (tmp_path / "hanging_script.py").write_text(HANGING_SHUTDOWN_SCRIPT)
    root = str(Path(__file__).parents[2])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([root, str(tmp_path)]),
        "STUBBORN": "1" if stubborn else "0",
    }
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return process.returncode, process.stderr, time.monotonic() - started


@pytest.mark.parametrize("stubborn", [False, True], ids=["cancellable", "stubborn"])
@pytest.mark.parametrize(("how", "code"), [("exit", 0), ("sigterm", -signal.SIGTERM), ("chain", 3)])
def test_a_shutdown_that_never_completes_does_not_keep_the_process_alive(
    tmp_path: Path, how: str, code: int, stubborn: bool
) -> None:
    status, err, elapsed = _run_hanging(tmp_path, ["hanging_script.py", how], stubborn)
    assert status == code, err
    assert "served" in err
    assert "Lifespan shutdown has not completed after 0.5 s" in err
    assert "not terminated" not in err
    assert ("previous handler" in err) is (how == "chain")
    # The bound (0.5 s, twice for an app that also ignores its cancellation)
    # and interpreter start, with room for a loaded machine; far below 20 s.
    assert elapsed < 15, elapsed


def test_bridge_invoke_exits_when_shutdown_never_completes(tmp_path: Path) -> None:
    status, err, elapsed = _run_hanging(
        tmp_path, ["-m", "bridge", "invoke", "hanging_app:app"], stubborn=True
    )
    assert status == 0, err
    assert "Lifespan shutdown has not completed" in err
    assert elapsed < 15, elapsed
