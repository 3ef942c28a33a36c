"""One event loop per process, reused, and never installed as the current one."""

from __future__ import annotations

import asyncio
import gc
import http.server
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge import LoopError
from bridge.asgi.loop import LoopRunner
from bridge.local.events import build_event
from tests.apps import read_body
from tests.conftest import HandlerFactory


class LoopRecorder:
    def __init__(self) -> None:
        self.loops: list[asyncio.AbstractEventLoop] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.loops.append(asyncio.get_running_loop())
        await read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def test_every_invocation_and_handler_uses_the_same_loop(make_handler: HandlerFactory) -> None:
    app = LoopRecorder()
    first, second = make_handler(app, lifespan="off"), make_handler(app, lifespan="off")
    for _ in range(3):
        first(build_event("http"))
        second(build_event("alb"))
    assert len({id(loop) for loop in app.loops}) == 1


def test_the_threads_current_loop_is_left_alone(make_handler: HandlerFactory) -> None:
    mine = asyncio.new_event_loop()
    asyncio.set_event_loop(mine)
    try:
        app = LoopRecorder()
        make_handler(app, lifespan="off")(build_event("http"))
        assert app.loops[0] is not mine
        assert asyncio.get_event_loop() is mine
    finally:
        asyncio.set_event_loop(None)
        mine.close()


def test_asyncio_run_elsewhere_does_not_break_the_next_invocation(
    make_handler: HandlerFactory,
) -> None:
    app = LoopRecorder()
    handler = make_handler(app, lifespan="off")
    handler(build_event("http"))

    async def unrelated() -> int:
        await asyncio.sleep(0)
        return 7

    assert asyncio.run(unrelated()) == 7
    assert handler(build_event("http"))["statusCode"] == 200
    assert app.loops[0] is app.loops[1]


def test_calling_from_inside_a_running_loop_is_explained(make_handler: HandlerFactory) -> None:
    handler = make_handler(LoopRecorder(), lifespan="off")

    async def misuse() -> None:
        handler(build_event("http"))

    with pytest.raises(LoopError, match=r"asyncio.to_thread\(handler, event, context\)"):
        asyncio.run(misuse())


def test_calling_from_a_worker_thread_inside_async_code_works(
    make_handler: HandlerFactory,
) -> None:
    handler = make_handler(LoopRecorder(), lifespan="off")

    async def proper() -> dict[str, Any]:
        return await asyncio.to_thread(handler, build_event("http"), None)

    assert asyncio.run(proper())["statusCode"] == 200


class _Hello(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = f"hello {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def upstream() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_async_client_created_at_startup_keeps_working(
    make_handler: HandlerFactory, upstream: str
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    scope["state"]["client"] = httpx.AsyncClient(base_url=upstream)
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await scope["state"]["client"].aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await read_body(receive)
        reply = await scope["state"]["client"].get(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": reply.content})

    handler = make_handler(app, lifespan="on")
    bodies = [handler(build_event("http", path=f"/call{i}"))["body"] for i in range(3)]
    assert bodies == ["aGVsbG8gL2NhbGww", "aGVsbG8gL2NhbGwx", "aGVsbG8gL2NhbGwy"]


# ------------------------------------------------- LoopRunner.run, directly
#
# run() takes one loop iteration for a coroutine that finishes in its first
# step and hands anything still pending to run_until_complete(): each path,
# and every way out of them, on a private runner.


@pytest.fixture
def runner() -> Iterator[LoopRunner]:
    runner = LoopRunner()
    errors: list[dict[str, Any]] = []
    runner.loop.set_exception_handler(lambda loop, context: errors.append(context))
    yield runner
    runner.close()
    gc.collect()
    assert errors == []  # nothing "never retrieved", no task destroyed pending


async def _immediate() -> str:
    return "done"


async def _sleeps(steps: int) -> int:
    for _ in range(steps):
        await asyncio.sleep(0)
    await asyncio.sleep(0.001)  # a real timer: the loop has to block on it
    return steps


def test_a_coroutine_that_never_suspends(runner: LoopRunner) -> None:
    assert runner.run(_immediate()) == "done"
    assert runner.run(_immediate()) == "done"


def test_a_coroutine_that_needs_many_iterations(runner: LoopRunner) -> None:
    assert runner.run(_sleeps(5)) == 5
    # The stop requested for the first iteration is not left behind.
    assert runner.run(_sleeps(3)) == 3
    assert runner.run(_immediate()) == "done"


def test_a_coroutine_that_awaits_another_task(runner: LoopRunner) -> None:
    async def parent() -> list[int]:
        return list(await asyncio.gather(_sleeps(1), _sleeps(2)))

    assert runner.run(parent()) == [1, 2]


@pytest.mark.parametrize("coro", [_immediate, lambda: _sleeps(2)])
def test_an_exception_propagates(runner: LoopRunner, coro: Any) -> None:
    async def failing() -> None:
        await coro()
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        runner.run(failing())
    assert runner.run(_immediate()) == "done"


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("steps", [0, 2])
def test_a_base_exception_propagates(
    runner: LoopRunner, exc_type: type[BaseException], steps: int
) -> None:
    async def interrupted() -> None:
        await _sleeps(steps) if steps else None
        raise exc_type()

    with pytest.raises(exc_type):
        runner.run(interrupted())
    assert not runner.is_running_here
    assert runner.run(_sleeps(1)) == 1


def test_cancellation_propagates(runner: LoopRunner) -> None:
    async def cancelled() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(0)

    with pytest.raises(asyncio.CancelledError):
        runner.run(cancelled())
    assert runner.run(_immediate()) == "done"


def test_is_running_here_covers_the_whole_run(runner: LoopRunner) -> None:
    seen: list[bool] = []

    async def look() -> None:
        seen.append(runner.is_running_here)
        await asyncio.sleep(0)
        seen.append(runner.is_running_here)

    assert not runner.is_running_here
    runner.run(look())
    assert seen == [True, True]
    assert not runner.is_running_here


def test_callbacks_after_run_see_it_finished(runner: LoopRunner) -> None:
    """As the SIGTERM handler does: the callback may run the loop again."""
    seen: list[object] = []

    def after() -> None:
        seen.append(runner.is_running_here)
        seen.append(runner.run(_sleeps(1)))

    async def ask() -> None:
        runner.call_after_run(after)

    runner.run(ask())
    assert seen == [False, 1]


def test_a_background_task_finishes_on_later_runs(runner: LoopRunner) -> None:
    done: list[str] = []
    tasks: set[asyncio.Task[None]] = set()

    async def later() -> None:
        await asyncio.sleep(0)
        done.append("background")

    async def spawn() -> None:
        task = asyncio.get_running_loop().create_task(later())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    runner.run(spawn())
    runner.run(_sleeps(2))
    assert done == ["background"]
    assert not tasks


# ------------------------------------------------- calls from several threads


class Sleeper:
    """Answers after a short sleep on the loop, so that calls overlap."""

    def __init__(self) -> None:
        self.served = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await read_body(receive)
        await asyncio.sleep(0.01)
        self.served += 1
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": scope["path"].encode()})


def _call_from_threads(handlers: list[Any], calls_per_thread: int = 5) -> list[Any]:
    """Call each handler from its own thread at once; what each call gave."""
    results: list[Any] = []
    barrier = threading.Barrier(len(handlers))

    def work(number: int, handler: Any) -> None:
        barrier.wait(timeout=30)
        for call in range(calls_per_thread):
            path = f"/{number}/{call}"
            try:
                response = handler(build_event("http", path=path), None)
                results.append((path, response["statusCode"], response["body"]))
            except BaseException as exc:  # recorded: the assertion shows it
                results.append((path, "raised", repr(exc)))

    threads = [
        threading.Thread(target=work, args=(number, handler), daemon=True)
        for number, handler in enumerate(handlers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def _served_all(results: list[Any], threads: int, calls: int = 5) -> None:
    expected = {(f"/{n}/{c}", 200, f"/{n}/{c}") for n in range(threads) for c in range(calls)}
    assert sorted(results) == sorted(expected)


def test_one_handler_called_from_several_threads_serves_every_call(
    make_handler: HandlerFactory,
) -> None:
    app = Sleeper()
    handler = make_handler(app, lifespan="off")
    _served_all(_call_from_threads([handler] * 4), 4)
    assert app.served == 20


def test_two_handlers_on_two_threads_serve_every_call(make_handler: HandlerFactory) -> None:
    first, second = make_handler(Sleeper()), make_handler(Sleeper())
    _served_all(_call_from_threads([first, second]), 2)


def test_a_deadline_still_applies_to_calls_from_several_threads(
    make_handler: HandlerFactory,
) -> None:
    """Each call is watched against its own deadline, whichever thread made it."""

    class Context:
        aws_request_id = "threads"

        def __init__(self, remaining_ms: int) -> None:
            self.remaining_ms = remaining_ms

        def get_remaining_time_in_millis(self) -> int:
            return self.remaining_ms

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await read_body(receive)
        await asyncio.sleep(3600 if scope["path"] == "/hang" else 0.01)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    handler = make_handler(app, lifespan="off", timeout_margin_ms=0)
    statuses: dict[str, int] = {}

    def call(path: str, remaining_ms: int) -> None:
        response = handler(build_event("http", path=path), Context(remaining_ms))
        statuses[path] = response["statusCode"]

    threads = [
        threading.Thread(target=call, args=("/hang", 100), daemon=True),
        threading.Thread(target=call, args=("/fine", 60_000), daemon=True),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == {"/hang": 504, "/fine": 200}


FORK_SCRIPT = textwrap.dedent(
    """
    import asyncio, gc, os
    from pathlib import Path
    from bridge.asgi.loop import get_runner

    def watched():  # the descriptors registered with this process's epoll instances
        found = []
        for fd in os.listdir("/proc/self/fdinfo"):
            try:
                info = Path("/proc/self/fdinfo", fd).read_text()
            except FileNotFoundError:  # the listing's own descriptor, closed since
                continue
            found += [line.split()[1] for line in info.splitlines() if line.startswith("tfd:")]
        return sorted(found)

    runner = get_runner()
    async def first_run_in():  # the process that first ran the loop
        loop = asyncio.get_running_loop()
        loop.__dict__.setdefault("first_run_in", os.getpid())
        return loop.first_run_in
    runner.run(first_run_in())
    before = watched()
    child = os.fork()
    if child == 0:  # a worker: its own loop; the copy of the parent's is left alone
        gc.collect()
        os._exit(0 if runner.run(first_run_in()) == os.getpid() else 1)
    _, status = os.waitpid(child, 0)
    print(os.waitstatus_to_exitcode(status), len(before), watched() == before)
    """
)


def test_a_forked_child_leaves_the_parents_loop_alone(tmp_path: Path) -> None:
    """A process forked after bridge's loop ran gets a loop of its own, and
    neither closes nor collects its copy of the parent's: that would
    unregister the loop's wake-up descriptor from the epoll instance both
    share (the parent's loop would no longer wake for
    call_soon_threadsafe()), with an "unclosed event loop" warning."""
    script = tmp_path / "fork.py"
    script.write_text(FORK_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2]), "PYTHONDEVMODE": "1"}
    process = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, timeout=60, check=False
    )
    assert (process.stdout, process.stderr) == (b"0 1 True\n", b"")
