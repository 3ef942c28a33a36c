"""How ``bridge.runtime`` starts an ASGI cycle (``ASGIRunner.start``): eagerly on
Python 3.12+ (the app's first step runs before ``start`` returns), on the next
loop iteration before.  Both give the answer ``Bridge.__call__`` gives, in the
app's own task and context, with the deadline still enforced."""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from bridge import Bridge
from bridge.asgi._eager import start_task
from bridge.local.events import build_event

Scope = dict[str, Any]
Receive = Callable[[], Coroutine[Any, Any, dict[str, Any]]]
Send = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]
App = Callable[[Scope, Receive, Send], Coroutine[Any, Any, None]]

WAIT_S = 10.0
EAGER = sys.version_info >= (3, 12)
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain")],
}
BODY = {"type": "http.response.body", "body": b"hello"}
seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="unset")


class Context:
    aws_request_id = "test"

    def __init__(self, remaining_ms: int = 60_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


async def at_once(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send(START)
    await send(BODY)


async def after_a_step(scope: Scope, receive: Receive, send: Send) -> None:
    await asyncio.sleep(0)
    await at_once(scope, receive, send)


async def work_after(scope: Scope, receive: Receive, send: Send) -> None:
    await at_once(scope, receive, send)
    await asyncio.sleep(0)


async def fails(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("boom")


async def no_answer(scope: Scope, receive: Receive, send: Send) -> None:
    await send(START)


@pytest.mark.parametrize("app", [at_once, after_a_step, work_after, fails, no_answer])
def test_respond_answers_as_the_handler_does(app: App) -> None:
    event = build_event("http", path="/x")
    expected = Bridge(app, lifespan="off")(event, Context())

    async def main() -> Any:
        answer = await Bridge(app, lifespan="off").respond(event, Context())
        if answer.rest is not None:
            await answer.rest
        return answer.result

    assert asyncio.run(asyncio.wait_for(main(), WAIT_S)) == expected


def test_the_app_runs_in_its_own_task_and_context() -> None:
    where: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        where.append(asyncio.current_task())
        seen.set("app")
        await at_once(scope, receive, send)

    async def main() -> None:
        handler = Bridge(app, lifespan="off")
        runner = handler._asgi
        assert runner is not None
        scope, body = build_scope()
        cycle, task = runner.start(scope, body)
        # 3.12+: the task is done; 3.11: its coroutine is, the task a step later.
        assert task.done() is EAGER
        await task
        assert where == [task]
        assert seen.get() == "unset"  # the app's context is its own
        assert (cycle.status, cycle.body) == (200, b"hello")

    asyncio.run(asyncio.wait_for(main(), WAIT_S))


def test_an_app_that_waits_is_still_cancelled_at_its_time_limit() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.Event().wait()

    async def main() -> Any:
        handler = Bridge(app, lifespan="off", timeout_margin_ms=990)
        answer = await handler.respond(build_event("http", path="/"), Context(remaining_ms=1000))
        return answer.result

    result = asyncio.run(asyncio.wait_for(main(), WAIT_S))
    assert result["statusCode"] == 504


def build_scope() -> tuple[Any, bytes]:
    from bridge.sources import builtin_source

    event = build_event("http", path="/x")
    source = builtin_source(event)
    assert source is not None
    scope, body = source.to_request(event, Context(), Bridge(at_once, lifespan="off").config)
    return scope, body


# ------------------------------------------------- bridge.asgi._eager.start_task

FIRST_STEP_RUNS = sys.version_info >= (3, 11)


def test_a_coroutine_that_blocks_on_nothing_finishes_in_start_task() -> None:
    steps: list[str] = []

    async def coro() -> None:
        steps.append("ran")

    async def main() -> None:
        task, finished = start_task(asyncio.get_running_loop(), coro())
        assert finished is FIRST_STEP_RUNS
        assert steps == (["ran"] if FIRST_STEP_RUNS else [])
        await task
        assert steps == ["ran"]

    asyncio.run(asyncio.wait_for(main(), WAIT_S))


def test_every_step_runs_in_the_task_and_its_own_context() -> None:
    where: list[Any] = []

    async def coro() -> None:
        seen.set("task")
        where.append((asyncio.current_task(), seen.get()))
        await asyncio.sleep(0)
        where.append((asyncio.current_task(), seen.get()))

    async def main() -> None:
        me = asyncio.current_task()
        task, finished = start_task(asyncio.get_running_loop(), coro())
        assert not finished
        assert asyncio.current_task() is me  # the caller is current again
        assert seen.get() == "unset"
        await task
        assert where == [(task, "task"), (task, "task")]

    asyncio.run(asyncio.wait_for(main(), WAIT_S))


def test_an_anyio_cancel_scope_spans_the_first_step_and_the_next() -> None:
    import anyio

    async def coro() -> None:
        with anyio.CancelScope():
            await asyncio.sleep(0)  # exited in the task's own step: the same task

    async def main() -> None:
        task, _ = start_task(asyncio.get_running_loop(), coro())
        await task

    asyncio.run(asyncio.wait_for(main(), WAIT_S))


def test_a_cancel_before_the_task_resumes_reaches_the_coroutine() -> None:
    outcome: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        waited = loop.create_future()

        async def coro() -> None:
            try:
                await waited
            except asyncio.CancelledError:
                outcome.append("cancelled")
                raise

        task, _ = start_task(loop, coro())
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Before 3.11 the task never started: the coroutine never ran.
        assert outcome == (["cancelled"] if FIRST_STEP_RUNS else [])
        assert waited.cancelled() is FIRST_STEP_RUNS  # awaited by the first step

    asyncio.run(asyncio.wait_for(main(), WAIT_S))


def test_an_error_in_the_first_step_is_the_tasks() -> None:
    async def coro() -> None:
        raise LookupError("first step")

    async def main() -> None:
        task, finished = start_task(asyncio.get_running_loop(), coro())
        assert finished is FIRST_STEP_RUNS
        with pytest.raises(LookupError, match="first step"):
            await task

    asyncio.run(asyncio.wait_for(main(), WAIT_S))


# ------------------------------------------------- the result posted


def test_a_result_is_posted_as_compact_utf8_json() -> None:
    from bridge.runtime.main import Runtime

    result = {"body": "h\u00e9llo \u2603", "n": [1, 2.5, None, True], "q": '"\\'}
    posted = Runtime._result("id", result)
    assert posted.target.endswith("/invocation/id/response")
    expected = '{"body":"h\u00e9llo \u2603","n":[1,2.5,null,true],"q":"\\"\\\\"}'
    assert posted.body == expected.encode()


def test_a_result_that_is_not_json_is_a_marshal_error() -> None:
    from bridge.runtime.main import Runtime

    posted = Runtime._result("id", {"when": object()})
    assert posted.target.endswith("/invocation/id/error")
    assert b"Runtime.MarshalError" in posted.body
