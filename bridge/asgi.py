"""Serving ASGI applications: the HTTP cycle on the process loop, with lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, cast

from bridge.loop import get_runner
from bridge.protocols.http import HTTPCycle
from bridge.protocols.lifespan import LifespanOff, LifespanOn
from bridge.types import ASGIApp, Headers, HTTPScope, LifespanMode


def as_asgi3(app: Any, double: bool) -> ASGIApp:
    if not double:
        return app  # type: ignore[no-any-return]
    from asgiref.compatibility import double_to_single_callable

    return cast(ASGIApp, double_to_single_callable(app))  # type: ignore[no-untyped-call]


class ASGIRunner:
    """Runs one HTTP request through an ASGI 3 application."""

    __slots__ = ("app", "lifespan", "margin_ms", "runner", "watchdog")

    def __init__(
        self, app: ASGIApp, lifespan: LifespanMode, timeout_margin_ms: int | None = None
    ) -> None:
        self.app = app
        self.margin_ms = timeout_margin_ms
        self.watchdog = Watchdog()
        self.runner = get_runner()
        self.lifespan: LifespanOn | LifespanOff = (
            LifespanOff() if lifespan == "off" else LifespanOn(app, self.runner, lifespan)
        )
        self.lifespan.startup()

    def handle(self, scope: HTTPScope, body: bytes) -> tuple[int, Headers, bytes]:
        state = self.lifespan.state
        if state is not None:
            scope["state"] = state.copy()
        cycle = HTTPCycle(scope, body)
        run = cycle.run(self.app)
        if self.margin_ms is None or not self.watchdog.watch(
            cycle, run, scope.get("aws.context"), self.margin_ms, self.runner.loop
        ):
            self.runner.run(run)
        else:
            try:
                self.runner.run(run)
            finally:
                self.watchdog.release()
        return cycle.status, cycle.headers, cycle.body

    def close(self) -> None:
        self.lifespan.shutdown()


class Watchdog:
    """Cancels a cycle still running at its time limit: the Lambda deadline
    (``context.get_remaining_time_in_millis()``) minus the margin.

    One timer serves every invocation: it is armed for the first deadline
    and re-armed only when it fires early (a later invocation has a later
    deadline) or would fire too late.  Most invocations therefore cost one
    call to the context and a comparison, and add nothing to the loop.
    """

    __slots__ = ("_at", "_cycle", "_limit", "_loop", "_run", "_timer", "_timer_at")

    def __init__(self) -> None:
        self._at = 0.0
        self._limit = 0.0
        self._cycle: HTTPCycle | None = None
        self._run: Coroutine[Any, Any, None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def watch(
        self,
        cycle: HTTPCycle,
        run: Coroutine[Any, Any, None],
        context: Any,
        margin_ms: int,
        loop: asyncio.AbstractEventLoop,
    ) -> bool:
        """Watch ``run`` (the cycle's coroutine) until :meth:`release`; False
        when the context knows no deadline (none, a mock, a stub answering 0)."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is None:
            return False
        millis = remaining()
        if not isinstance(millis, (int, float)) or millis <= 0:
            return False
        self._limit = limit = (millis - margin_ms) / 1000 if millis > margin_ms else 0.0
        self._at = at = loop.time() + limit
        self._cycle = cycle
        self._run = run
        if self._timer is None or self._timer_at > at or self._loop is not loop:
            self._arm(loop, at)
        return True

    def release(self) -> None:
        self._cycle = self._run = None

    def _arm(self, loop: asyncio.AbstractEventLoop, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._loop = loop
        self._timer_at = at
        self._timer = loop.call_at(at, self._fire)

    def _fire(self) -> None:
        self._timer = None
        cycle, run, loop = self._cycle, self._run, self._loop
        if cycle is None or loop is None:
            return  # between invocations: the next one arms a new timer
        if loop.time() + 0.001 < self._at:  # an earlier invocation's timer
            self._arm(loop, self._at)
            return
        for task in asyncio.all_tasks(loop):
            if task.get_coro() is run:
                cycle.deadline_reached(task, self._limit)
