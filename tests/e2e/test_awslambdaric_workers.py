"""End to end through awslambdaric's multi-process mode (Lambda Managed Instances).

With ``AWS_LAMBDA_MAX_CONCURRENCY=N`` AWS's runtime interface client forks N worker processes;
each imports the function module (so builds its own ``Bridge`` and runs its own lifespan) and
polls the Runtime API for one invocation at a time. Each test runs
``python -m awslambdaric MODULE.handler`` that way against the Runtime API server of
``tests/runtime_api.py``, holds four invocations in flight at once (each waits on a rendezvous
with the test over a loopback socket, released only once all four have arrived) and checks what
each worker answered, then ends the workers with SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any

from bridge.local.events import build_event
from tests import runtime_process
from tests.runtime_api import NoAnswer
from tests.runtime_process import FUNCTIONS, WAIT_S, Function

WORKERS = 4


def running(
    handler: str, launcher: Sequence[str] = ("-m", "awslambdaric")
) -> AbstractContextManager[Function]:
    """``python -m awslambdaric HANDLER`` with ``WORKERS`` worker processes, in the environment
    of a Managed Instance: Managed Instances run Python 3.13 and later, whose managed runtime
    sets ``AWS_EXECUTION_ENV`` so that awslambdaric polls ``/next`` from a thread (the main
    thread stays free to handle signals)."""
    return runtime_process.running(
        [sys.executable, *launcher, handler],
        cwd=FUNCTIONS,
        _HANDLER=handler,
        AWS_LAMBDA_MAX_CONCURRENCY=str(WORKERS),
        AWS_EXECUTION_ENV="AWS_Lambda_python3.13",
    )


def meet(function: Function) -> dict[str, dict[str, Any]]:
    """Queue ``WORKERS`` invocations of ``GET /meet``, wait until all of them are in flight at
    once (each has connected to the rendezvous and said its process id), release them, and
    return each answer's body by request id."""
    with socket.create_server(("127.0.0.1", 0)) as rendezvous, ExitStack() as stack:
        rendezvous.settimeout(WAIT_S)
        port = rendezvous.getsockname()[1]
        event = build_event("http", path="/meet", query=f"port={port}")
        request_ids = [function.api.invoke(event) for _ in range(WORKERS)]
        waiting = []
        for count in range(WORKERS):
            try:
                connection = stack.enter_context(rendezvous.accept()[0])
            except TimeoutError:
                raise NoAnswer(
                    f"only {count} of {WORKERS} invocations in flight after {WAIT_S} s; "
                    f"the function's output:\n{function.log()}"
                ) from None
            connection.settimeout(WAIT_S)
            waiting.append((connection, int(connection.makefile("rb").readline())))
        assert len({pid for _, pid in waiting}) == WORKERS  # four processes at once
        for connection, _ in waiting:
            connection.sendall(b"!")
    answers = {}
    for request_id in request_ids:
        posted = function.answer(request_id)
        assert posted.kind == "response", function.log()
        result = posted.json()
        assert result["statusCode"] == 200, result
        answers[request_id] = json.loads(result["body"])
    return answers


def parent_of(pid: int) -> int:
    """The parent process of ``pid`` (from ``/proc``)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rpartition(")")[2].split()[1])


def stop_workers(function: Function, pids: list[int]) -> int:
    """SIGTERM to each worker once all are back waiting for ``/next``; the runtime's exit
    status (awslambdaric's parent returns once it has joined every worker)."""
    function.api.wait_for_next(2 * WORKERS, alive=function.alive)
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    return function.exit_status()


def lines(log: str, prefix: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith(prefix)]


def test_fastapi_workers_each_run_their_own_lifespan_and_loop() -> None:
    with running("lmi_fastapi.handler") as function:
        answers = meet(function)
        pids = sorted(answer["pid"] for answer in answers.values())
        assert len(set(pids)) == WORKERS
        for request_id, answer in answers.items():
            assert answer == {
                "released": True,
                "request_id": request_id,
                "pid": answer["pid"],
                # Lifespan startup ran once, in this worker, on the loop serving the request.
                "startup_pid": answer["pid"],
                "startups": 1,
                "lifespan_loop": True,
                "loop_pid": answer["pid"],
            }
            assert parent_of(answer["pid"]) == function.process.pid
        startups = lines(function.log(), "lifespan startup")
        assert sorted(startups) == sorted(
            f"lifespan startup pid={pid} loop_pid={pid}" for pid in pids
        )


def test_sigterm_ends_each_fastapi_worker_after_its_lifespan_shutdown() -> None:
    with running("lmi_fastapi.handler") as function:
        pids = [answer["pid"] for answer in meet(function).values()]
        assert stop_workers(function, pids) == 0
        shutdowns = lines(function.log(), "lifespan shutdown")
        assert sorted(shutdowns) == sorted(f"lifespan shutdown pid={pid}" for pid in pids)


def test_flask_workers_answer_four_invocations_at_once_and_end_on_sigterm() -> None:
    with running("lmi_flask.handler") as function:
        answers = meet(function)
        pids = [answer["pid"] for answer in answers.values()]
        assert len(set(pids)) == WORKERS
        for request_id, answer in answers.items():
            assert answer == {"released": True, "request_id": request_id, "pid": answer["pid"]}
            assert parent_of(answer["pid"]) == function.process.pid
        assert stop_workers(function, pids) == 0


def test_workers_forked_from_a_process_that_ran_bridge_loop_get_their_own() -> None:
    """A parent that has run bridge's event loop before the fork (``lmi_preload.py`` marks
    it with its process id): each worker runs lifespan and requests on a loop of its own,
    never on its copy of the parent's (whose selector it would share with its siblings)."""
    with running("lmi_fastapi.handler", launcher=["lmi_preload.py"]) as function:
        answers = meet(function)
        parent = function.process.pid
        assert lines(function.log(), "parent loop") == [f"parent loop pid={parent}"]
        for answer in answers.values():
            assert answer["pid"] != parent
            assert (answer["loop_pid"], answer["startup_pid"]) == (answer["pid"], answer["pid"])
            assert answer["lifespan_loop"] is True
        assert "unclosed event loop" not in function.log()
        pids = [answer["pid"] for answer in answers.values()]
        assert stop_workers(function, pids) == 0
