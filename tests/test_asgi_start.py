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
        # 3.12+: the first step has run, and the app finished in it.
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
