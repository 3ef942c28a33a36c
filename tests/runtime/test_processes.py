"""End to end: ``BRIDGE_WSGI_WORKERS=processes``, a WSGI app that is not thread-safe
(``tests/functions/unsafe_flask.py``) served by ``python -m bridge.runtime`` from
``AWS_LAMBDA_MAX_CONCURRENCY`` worker processes, against the Runtime API server of the tests."""

from __future__ import annotations

import json
import mmap
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from bridge import Bridge
from bridge.errors import ConfigurationError
from bridge.runtime.link import (
    SLOT_SIZE,
    WORKER_FD_ENV,
    MessageReader,
    WorkerLink,
    encode,
    put_request_id,
    request_id_in,
    workers_setting,
)
from bridge.runtime.main import SHUTDOWN_TIMEOUT_S
from bridge.runtime.processes import STOP_WAIT_S, Supervisor
from tests.apps import echo_app, wsgi_echo_app
from tests.runtime_api import TRACE_ID, Posted, RuntimeAPIServer
from tests.runtime_process import FUNCTIONS, ROOT, WAIT_S, Function

from .test_process import body_of, get, running
from .test_streaming import listener, split, streamed_item_by_item, url


def processes(handler: str, workers: int, **environ: str) -> AbstractContextManager[Function]:
    """``handler`` served by ``workers`` worker processes."""
    return running(
        handler,
        AWS_LAMBDA_MAX_CONCURRENCY=str(workers),
        BRIDGE_WSGI_WORKERS="processes",
        **environ,
    )


def children(pid: int) -> set[int]:
    """The processes whose parent is ``pid``."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # it ended meanwhile
            continue
        # "pid (command) state ppid ...": the command may hold spaces and parentheses.
        if int(text.rpartition(")")[2].split()[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def ended(pid: int) -> bool:
    """Wait (at most :data:`WAIT_S`) for process ``pid`` to end; whether it did."""
    try:
        descriptor = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([descriptor], [], [], WAIT_S)[0])
    finally:
        os.close(descriptor)


def payload(posted: Posted) -> dict[str, Any]:
    assert posted.kind == "response"
    assert posted.json()["statusCode"] == 200
    result: dict[str, Any] = json.loads(body_of(posted))
    return result


@contextmanager
def meeting(function: Function, count: int) -> Iterator[tuple[list[str], list[int]]]:
    """``count`` invocations of ``/meet`` all in flight at once: their request ids and the
    process ids they reported, in the order they connected. They are released on exit."""
    with listener() as (server, port):
        ids = [function.api.invoke(get("/meet", query=f"port={port}")) for _ in range(count)]
        held = [server.accept()[0] for _ in range(count)]
        try:
            pids = []
            for connection in held:
                connection.settimeout(WAIT_S)
                pids.append(int(connection.makefile("rb").readline()))
            yield ids, pids
            for connection in held:
                connection.sendall(b"!")
        finally:
            for connection in held:
                connection.close()


def test_invocations_in_flight_at_once_run_in_as_many_processes() -> None:
    with processes("unsafe_flask.app", 3) as function:
        with meeting(function, 3) as (ids, pids):
            # All three are in the app at the same time, each in a process of its own.
            assert len(set(pids)) == 3
            assert set(pids) <= children(function.process.pid)
        answers = {request_id: payload(function.answer(request_id)) for request_id in ids}
        for request_id, answer in answers.items():
            assert answer["request_id"] == request_id
            assert answer["released"] is True
            # The module global held this request's id from start to end: not shared.
            assert answer["alone"] is True
            # One invocation at a time per process: the trace id goes to the environment.
            assert answer["trace_env"] == TRACE_ID
        assert {answer["pid"] for answer in answers.values()} == set(pids)
        # Each worker polls on its own connection.
        assert len({s.port for s in function.api.state.seen if s.path.endswith("/next")}) >= 3
        assert function.stop() == 0
        assert function.log() == ""


def test_the_same_app_on_threads_shares_the_global() -> None:
    # The app above is truly not thread-safe: with the default, threads, the second request
    # overwrites the first one's state.
    with running("unsafe_flask.app", AWS_LAMBDA_MAX_CONCURRENCY="2") as function:
        with meeting(function, 2) as (ids, pids):
            assert pids == [function.process.pid] * 2
        alone = sorted(payload(function.answer(request_id))["alone"] for request_id in ids)
        assert alone == [False, True]
        assert function.stop() == 0


def test_without_max_concurrency_the_setting_changes_nothing() -> None:
    with running("unsafe_flask.app", BRIDGE_WSGI_WORKERS="processes") as function:
        assert payload(function.invoke(get("/pid")))["pid"] == function.process.pid
        assert children(function.process.pid) == set()
        assert function.stop() == 0


def test_sigterm_ends_every_worker() -> None:
    with processes("unsafe_flask.app", 3) as function:
        function.api.wait_for_next(3, alive=function.alive)
        workers = children(function.process.pid)
        assert len(workers) == 3
        assert function.stop() == 0
        assert all(ended(pid) for pid in workers)
        assert function.log() == ""


def test_sigterm_lets_the_invocation_in_flight_post_its_answer() -> None:
    with processes("unsafe_flask.app", 2) as function:
        with meeting(function, 1) as (ids, _):
            function.process.send_signal(signal.SIGTERM)
        assert payload(function.answer(ids[0]))["released"] is True
        assert function.exit_status() == 0
        assert function.log() == ""  # every worker stopped on its own: none was killed


def test_sigterm_with_an_invocation_stuck_exits_within_the_budget() -> None:
    with processes("unsafe_flask.app", 2) as function, meeting(function, 1):
        workers = children(function.process.pid)
        function.process.send_signal(signal.SIGTERM)
        assert function.exit_status() == 0
        assert "1 invocation(s) still running after 1.5 s" in function.log()
        assert all(ended(pid) for pid in workers)


def test_workers_stop_when_their_supervisor_is_killed() -> None:
    with processes("unsafe_flask.app", 2) as function:
        function.api.wait_for_next(2, alive=function.alive)
        workers = children(function.process.pid)
        assert len(workers) == 2
        function.process.kill()
        assert function.exit_status() == -signal.SIGKILL
        assert all(ended(pid) for pid in workers)
        assert function.log() == ""


def test_a_worker_that_dies_during_an_invocation_fails_it_and_is_replaced() -> None:
    with processes("unsafe_flask.app", 2) as function:
        function.api.wait_for_next(2, alive=function.alive)
        first = children(function.process.pid)
        posted = function.invoke(get("/crash"))
        assert posted.kind == "error"
        assert posted.headers["lambda-runtime-function-error-type"] == "Runtime.ExitError"
        error = posted.json()
        assert error["errorType"] == "Runtime.ExitError"
        assert "killed by SIGKILL" in error["errorMessage"]
        # Two invocations at once again: the survivor and the worker that took the place of
        # the one that died.
        with meeting(function, 2) as (ids, pids):
            assert len(set(pids)) == 2
            assert len(set(pids) & first) == 1
        assert all(payload(function.answer(request_id))["alone"] for request_id in ids)
        assert function.stop() == 0
        log = function.log()
        assert f"exited (killed by SIGKILL) during invocation {posted.request_id}" in log
        assert "a new worker process takes its place" in log


def test_a_worker_that_dies_while_it_waits_stops_the_runtime() -> None:
    with processes("unsafe_flask.app", 2) as function:
        function.api.wait_for_next(2, alive=function.alive)
        workers = children(function.process.pid)
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        assert function.exit_status() == 1
        assert (
            f"(pid {victim}) exited (killed by SIGKILL) while it waited for an invocation; "
            "the runtime stops." in function.log()
        )
        assert all(ended(pid) for pid in workers)


def test_an_import_failure_is_one_init_error() -> None:
    with processes("broken_function.app", 3) as function:
        function.api.init_error(alive=function.alive)
        assert function.exit_status() == 1
        errors = [p for p in function.api.state.posted if p.kind == "init-error"]
        assert len(errors) == 1
        assert errors[0].json()["errorType"] == "RuntimeError"
        assert errors[0].json()["errorMessage"] == "DATABASE_URL is not set"
        assert not [s for s in function.api.state.seen if s.path.endswith("/next")]


def test_an_asgi_app_is_an_init_error_that_says_what_to_do() -> None:
    with processes("fastapi_function.handler", 2) as function:
        function.api.init_error(alive=function.alive)
        assert function.exit_status() == 1
        errors = [p for p in function.api.state.posted if p.kind == "init-error"]
        assert len(errors) == 1
        error = errors[0].json()
        assert error["errorType"] == "ConfigurationError"
        assert "is an ASGI app" in error["errorMessage"]
        assert "unset BRIDGE_WSGI_WORKERS" in error["errorMessage"]


def test_a_worker_streams_item_by_item() -> None:
    with processes("flask_function.app", 2, BRIDGE_INVOKE_MODE="RESPONSE_STREAM") as function:
        _, posted = streamed_item_by_item(function)
        assert posted.trailers == {}
        assert function.stop() == 0


@pytest.mark.parametrize("mode", ["BUFFERED", "RESPONSE_STREAM"])
def test_a_workers_iterable_is_closed_after_the_response_is_posted(mode: str) -> None:
    with (
        processes("flask_function.app", 2, BRIDGE_INVOKE_MODE=mode) as function,
        listener() as (server, port),
    ):
        request_id = function.api.invoke(url("/after", f"port={port}"))
        held, _ = server.accept()  # close() is running
        with held:
            held.settimeout(WAIT_S)
            posted = function.answer(request_id)
            body = split(posted)[1] if mode == "RESPONSE_STREAM" else body_of(posted)
            assert body == b"answered before close()"
            held.sendall(b"!")
            assert held.recv(4) == b"done"
        assert function.stop() == 0


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BRIDGE_WSGI_WORKERS": "forks"}, "BRIDGE_WSGI_WORKERS must be 'threads'"),
        (
            {"BRIDGE_WSGI_WORKERS": "processes", "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"},
            "BRIDGE_WSGI_WORKERS=processes does not support SnapStart",
        ),
    ],
)
def test_a_bad_setting_exits_2_and_says_why(environ: dict[str, str], message: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bridge.runtime", "unsafe_flask.app"],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9",
            "AWS_LAMBDA_MAX_CONCURRENCY": "2",
            **environ,
        },
        capture_output=True,
        timeout=WAIT_S,
        check=False,
    )
    assert completed.returncode == 2
    assert message in completed.stderr.decode()
    assert b"Traceback" not in completed.stderr


@pytest.mark.parametrize("value", [None, "", "threads", " processes "])
def test_the_workers_setting(value: str | None) -> None:
    assert workers_setting(value) == (value or "threads").strip()


def test_messages_split_anywhere_are_read_whole() -> None:
    data = encode("ready") + encode("init-error", '{"errorType": "E"}') + encode("go")
    reader = MessageReader()
    messages = [message for byte in range(len(data)) for message in reader.feed(data[byte:][:1])]
    assert messages == [("ready", ""), ("init-error", '{"errorType": "E"}'), ("go", "")]


def test_a_line_without_end_is_refused() -> None:
    with pytest.raises(ValueError, match="lines of at most"):
        MessageReader().feed(b"x" * (2 << 20))


def test_the_slot_holds_the_request_id_until_the_next_one() -> None:
    slot = bytearray(SLOT_SIZE)
    assert request_id_in(slot) is None
    put_request_id(slot, "8476a536-e9f4-11e8-9739-000000000042")
    assert request_id_in(slot) == "8476a536-e9f4-11e8-9739-000000000042"
    put_request_id(slot, "b")
    assert request_id_in(slot) == "b"
    put_request_id(slot, "")
    assert request_id_in(slot) is None
    put_request_id(slot, "x" * SLOT_SIZE)  # too long to record
    assert request_id_in(slot) is None


# -- The supervisor in this process, where coverage sees it ---------------------------------------


def supervise(
    handler: str, drive: Callable[[RuntimeAPIServer], None], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, RuntimeAPIServer]:
    """Run a supervisor of two workers on this thread while ``drive(api)`` runs on another;
    its exit status (``drive`` ends it with SIGTERM to this process, or it ends by itself)."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(FUNCTIONS))
    with RuntimeAPIServer() as api:
        errors: list[BaseException] = []

        def driver() -> None:
            try:
                drive(api)
            except BaseException as exc:
                errors.append(exc)
                os.kill(os.getpid(), signal.SIGTERM)

        thread = threading.Thread(target=driver, name="driver")
        thread.start()
        try:
            status = Supervisor(api.address, handler, 2).run()
        finally:
            thread.join(timeout=WAIT_S)
        if errors:
            raise errors[0]
        return status, api


def alive() -> bool:
    return True


def test_a_supervisor_replaces_a_worker_lost_mid_invocation_and_stops_on_sigterm(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pids: list[int] = []

    def drive(api: RuntimeAPIServer) -> None:
        api.wait_for_next(2, alive=alive)
        pids.extend(children(os.getpid()))
        crashed = api.answer(api.invoke(get("/crash")), alive=alive)
        assert crashed.json()["errorType"] == "Runtime.ExitError", crashed
        with listener() as (server, port):
            ids = [api.invoke(get("/meet", query=f"port={port}")) for _ in range(2)]
            held = [server.accept()[0] for _ in range(2)]
            for connection in held:
                with connection:
                    connection.sendall(b"!")
        pids.extend(payload(api.answer(request_id, alive=alive))["pid"] for request_id in ids)
        os.kill(os.getpid(), signal.SIGTERM)

    status, _ = supervise("unsafe_flask.app", drive, monkeypatch)
    assert status == 0
    assert len(set(pids)) == 3  # the two first workers and the one that replaced the lost one
    assert all(ended(pid) for pid in pids)
    assert "a new worker process takes its place" in caplog.text


def test_a_supervisor_posts_one_init_error(monkeypatch: pytest.MonkeyPatch) -> None:
    status, api = supervise("broken_function.app", lambda api: None, monkeypatch)
    assert status == 1
    errors = [p for p in api.state.posted if p.kind == "init-error"]
    assert [error.json()["errorType"] for error in errors] == ["RuntimeError"]


def test_a_supervisor_stops_when_a_waiting_worker_is_lost(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def drive(api: RuntimeAPIServer) -> None:
        api.wait_for_next(2, alive=alive)
        os.kill(min(children(os.getpid())), signal.SIGKILL)

    status, _ = supervise("unsafe_flask.app", drive, monkeypatch)
    assert status == 1
    assert "while it waited for an invocation; the runtime stops" in caplog.text


# -- A worker's side of the line -----------------------------------------------------------------


@contextmanager
def worker_link() -> Iterator[tuple[WorkerLink, socket.socket, mmap.mmap]]:
    """A worker's link, the supervisor's end of its line, and its slot."""
    ours, theirs = socket.socketpair()
    slot = mmap.mmap(-1, SLOT_SIZE)
    link = WorkerLink(theirs, slot)
    with ours:
        ours.settimeout(WAIT_S)
        yield link, ours, slot
    link.close()


def test_a_worker_goes_on_at_go_and_records_its_invocations() -> None:
    with worker_link() as (link, supervisor, slot):
        supervisor.sendall(encode("go"))
        assert link.ready() is True
        assert supervisor.recv(64) == b"ready\n"
        link.begin("8476a536-e9f4-11e8-9739-000000000001")
        assert request_id_in(slot) == "8476a536-e9f4-11e8-9739-000000000001"
        link.end()
        assert request_id_in(slot) is None


def test_a_worker_stops_when_the_line_closes_before_go() -> None:
    with worker_link() as (link, supervisor, _):
        supervisor.close()
        assert link.ready() is False


def test_a_worker_hands_its_init_error_to_the_supervisor() -> None:
    with worker_link() as (link, supervisor, _):
        error = {"errorMessage": "two\nlines", "errorType": "RuntimeError", "stackTrace": []}
        assert link.init_failed(error) is True
        (message,) = MessageReader().feed(supervisor.recv(4096))
        assert message[0] == "init-error"
        assert json.loads(message[1]) == error


def test_a_worker_hears_its_supervisor_go() -> None:
    with worker_link() as (link, supervisor, _):
        lost = threading.Event()
        link.watch(lost.set)
        assert not lost.is_set()
        supervisor.close()
        assert lost.wait(WAIT_S)


def test_a_worker_refuses_an_asgi_app() -> None:
    with worker_link() as (link, _, _):
        link.check(Bridge(wsgi_echo_app))  # a WSGI app: fine
        with pytest.raises(ConfigurationError, match="unset BRIDGE_WSGI_WORKERS"):
            link.check(Bridge(echo_app, lifespan="off"))


def test_a_link_is_found_in_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WORKER_FD_ENV, raising=False)
    assert WorkerLink.from_environ() is None
    ours, theirs = socket.socketpair()
    with ours, tempfile.TemporaryFile() as shared:
        shared.truncate(SLOT_SIZE)
        monkeypatch.setenv(WORKER_FD_ENV, f"{theirs.detach()},{os.dup(shared.fileno())}")
        link = WorkerLink.from_environ()
        assert link is not None
        assert WORKER_FD_ENV not in os.environ  # not passed on to the app's own processes
        link.close()


@pytest.mark.parametrize("value", ["", "7", "a,b", "7,"])
def test_a_bad_link_setting_is_named(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKER_FD_ENV, value)
    with pytest.raises(ValueError, match="do not set it yourself"):
        WorkerLink.from_environ()


def test_workers_are_given_their_own_shutdown_budget_and_a_second_to_exit() -> None:
    assert STOP_WAIT_S >= SHUTDOWN_TIMEOUT_S + 1.0
