"""Lifespan runs once per process; state reaches every request."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bridge import Bridge, LifespanError
from bridge.local.events import build_event
from tests.apps import read_body
from tests.conftest import HandlerFactory


class CountingApp:
    """Counts lifespan events; requests see the lifespan state."""

    def __init__(self, *, fail_startup: str | None = None, fail_shutdown: bool = False) -> None:
        self.startups = 0
        self.shutdowns = 0
        self.fail_startup = fail_startup
        self.fail_shutdown = fail_shutdown
        self.request_states: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.startups += 1
                    if self.fail_startup == "message":
                        await send({"type": "lifespan.startup.failed", "message": "no database"})
                        return
                    if self.fail_startup == "raise":
                        raise ConnectionError("database unreachable")
                    scope["state"]["pool"] = ["connection"]
                    await send({"type": "lifespan.startup.complete"})
                else:
                    self.shutdowns += 1
                    if self.fail_shutdown:
                        await send({"type": "lifespan.shutdown.failed", "message": "stuck"})
                    else:
                        await send({"type": "lifespan.shutdown.complete"})
                    return
        await read_body(receive)
        state = scope.setdefault("state", {})
        self.request_states.append(state)
        state["touched"] = True
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.mark.parametrize("mode", ["auto", "on"])
def test_startup_runs_once_before_the_first_request(
    make_handler: HandlerFactory, mode: str
) -> None:
    app = CountingApp()
    handler = make_handler(app, lifespan=mode)
    assert app.startups == 1
    for _ in range(5):
        handler(build_event("http"))
    assert (app.startups, app.shutdowns) == (1, 0)
    handler.close()
    handler.close()
    assert app.shutdowns == 1


def test_state_is_a_shallow_copy_per_request(make_handler: HandlerFactory) -> None:
    app = CountingApp()
    handler = make_handler(app)
    handler(build_event("http"))
    handler(build_event("http"))
    first, second = app.request_states
    assert first is not second
    assert first["pool"] is second["pool"] == ["connection"]
    assert first["touched"]
    assert second["touched"]


def test_lifespan_off_never_calls_the_app_for_lifespan(make_handler: HandlerFactory) -> None:
    app = CountingApp()
    make_handler(app, lifespan="off")(build_event("http"))
    assert app.startups == 0
    assert app.request_states == [{"touched": True}]


@pytest.mark.parametrize("mode", ["auto", "on"])
def test_startup_failed_message_fails_loudly(mode: Any) -> None:
    with pytest.raises(LifespanError, match="Lifespan startup failed: no database"):
        Bridge(CountingApp(fail_startup="message"), lifespan=mode)


def test_startup_exception_in_on_mode_fails_loudly() -> None:
    with pytest.raises(LifespanError) as info:
        Bridge(CountingApp(fail_startup="raise"), lifespan="on")
    assert "ConnectionError: database unreachable" in str(info.value)
    assert "lifespan='off'" in str(info.value)


async def http_only(scope: Any, receive: Any, send: Any) -> None:
    assert scope["type"] == "http", "this app only speaks HTTP"
    await read_body(receive)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"fine"})


def test_app_without_lifespan_just_works_in_auto_mode(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="bridge.lifespan")
    handler = make_handler(http_only)
    assert handler(build_event("http"))["statusCode"] == 200
    assert "does not support the lifespan protocol" in caplog.text


def test_app_without_lifespan_fails_in_on_mode() -> None:
    with pytest.raises(LifespanError, match=r"before sending 'lifespan\.startup\.complete'"):
        Bridge(http_only, lifespan="on")


def test_shutdown_failure_is_logged(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = CountingApp(fail_shutdown=True)
    make_handler(app).close()
    assert "Lifespan shutdown failed: stuck" in caplog.text


def test_two_handlers_side_by_side(make_handler: HandlerFactory) -> None:
    first, second = CountingApp(), CountingApp()
    one, two = make_handler(first), make_handler(second)
    one(build_event("http"))
    two(build_event("rest"))
    one(build_event("alb"))
    assert (first.startups, second.startups) == (1, 1)
    assert (len(first.request_states), len(second.request_states)) == (2, 1)
    two.close()
    assert (first.shutdowns, second.shutdowns) == (0, 1)


SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    from bridge import Bridge
    from bridge.local.events import build_event

    log = open(sys.argv[1], "a")

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                log.write(message["type"] + "\\n"); log.flush()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    mode = sys.argv[2]
    if mode == "chain":
        def previous(signum, frame):
            log.write("previous handler\\n"); log.flush()
            sys.exit(3)
        signal.signal(signal.SIGTERM, previous)
    handler = Bridge(app)
    handler(build_event("http"))
    log.write("served\\n"); log.flush()
    if mode in ("sigterm", "chain"):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        log.write("not terminated\\n")
    """
)


def run_script(tmp_path: Path, mode: str) -> tuple[int, list[str]]:
    script = tmp_path / "handler_script.py"
    script.write_text(SCRIPT)
    log = tmp_path / "log.txt"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    process = subprocess.run(
        [sys.executable, str(script), str(log), mode], env=env, timeout=30, check=False
    )
    return process.returncode, log.read_text().splitlines()


def test_shutdown_runs_at_interpreter_exit(tmp_path: Path) -> None:
    code, lines = run_script(tmp_path, "exit")
    assert code == 0
    assert lines == ["lifespan.startup", "served", "lifespan.shutdown"]


def test_sigterm_runs_shutdown_then_terminates(tmp_path: Path) -> None:
    code, lines = run_script(tmp_path, "sigterm")
    assert code == -signal.SIGTERM
    assert lines == ["lifespan.startup", "served", "lifespan.shutdown"]


def test_sigterm_chains_to_the_previous_handler(tmp_path: Path) -> None:
    code, lines = run_script(tmp_path, "chain")
    assert code == 3
    assert lines == ["lifespan.startup", "served", "lifespan.shutdown", "previous handler"]
