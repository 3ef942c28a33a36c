"""Serving ASGI applications: the HTTP cycle on the process loop, with lifespan."""

from __future__ import annotations

import asyncio
import inspect
from typing import TYPE_CHECKING, Any

from bridge._log import get_logger
from bridge.asgi._eager import start_task
from bridge.asgi.http import HTTPCycle, StreamingHTTPCycle
from bridge.asgi.lifespan import LifespanOff, LifespanOn
from bridge.asgi.loop import get_runner
from bridge.errors import ProtocolError

if TYPE_CHECKING:  # annotations only: bridge.types is not loaded at run time
    from collections.abc import Mapping

    from bridge.response import StreamSink
    from bridge.types import ASGIApp, HTTPScope, LifespanMode, Receive, Scope, Send
    from bridge.websocket.cycle import WebSocketCycle

    Watched = HTTPCycle | WebSocketCycle


logger = get_logger("bridge.asgi")


def as_asgi3(app: Any, double: bool) -> ASGIApp:
    """``app`` as an ASGI 3 callable; an ASGI 2 one (``app(scope)`` returning
    an instance to await with ``(receive, send)``) wrapped.

    A callable taken for ASGI 2 because it takes one argument may be no app
    at all (``def greet(name)``): the wrapper then says so, in the one error
    each failing request logs, instead of a bare ``TypeError``.
    """
    if not double:
        return app  # type: ignore[no-any-return]

    async def single(scope: Scope, receive: Receive, send: Send) -> None:
        instance = app(scope)
        if not callable(instance):
            raise ProtocolError(_not_asgi2(app, f"app(scope) returned {type(instance).__name__}"))
        awaitable = instance(receive, send)
        if not inspect.isawaitable(awaitable):
            raise ProtocolError(
                _not_asgi2(
                    app,
                    "app(scope)(receive, send) returned "
                    f"{type(awaitable).__name__}, which cannot be awaited",
                )
            )
        await awaitable

    return single


def _not_asgi2(app: Any, what: str) -> str:
    return (
        f"{app!r} was taken for an ASGI 2 application (it takes one positional argument), "
        f"but {what}: it is probably not an ASGI application. Pass the application object "
        "(an async callable taking scope, receive, send), or interface='wsgi' if it is WSGI."
    )


class ASGIRunner:
    """Runs one HTTP request through an ASGI 3 application."""

    __slots__ = ("app", "lifespan", "margin_ms", "runner", "watchdog")

    def __init__(
        self, app: ASGIApp, lifespan: LifespanMode, timeout_margin_ms: int | None = None
    ) -> None:
        self.app = app
        self.margin_ms = timeout_margin_ms
        self.watchdog = None if timeout_margin_ms is None else Watchdog(timeout_margin_ms)
        self.runner = get_runner()
        self.lifespan: LifespanOn | LifespanOff = (
            LifespanOff() if lifespan == "off" else LifespanOn(app, self.runner, lifespan)
        )
        self.lifespan.startup()

    def handle(self, scope: HTTPScope, body: bytes) -> HTTPCycle:
        """Run the app for one request, on the process loop: the cycle, complete."""
        state = self.lifespan.state
        if state is not None:
            scope["state"] = state.copy()
        cycle = HTTPCycle(scope, body)
        watchdog = self.watchdog
        if watchdog is None:
            self.runner.run(cycle.run(self.app))
        else:
            watch = watchdog.watch
            self.runner.run(cycle.run(self.app), lambda task: watch(cycle, task))
        return cycle

    def start(
        self, scope: HTTPScope, body: bytes, stream: StreamSink | None = None
    ) -> tuple[HTTPCycle, asyncio.Task[None]]:
        """Start the HTTP cycle as a task of the *running* loop (``bridge.runtime``,
        which awaits it): the cycle (buffered, or streamed to ``stream``) and its
        task, cancelled at the deadline as :meth:`handle` does.  Any number may run
        at once, each in its own task (so its own copy of the context variables).
        The task's first step has run on return (:mod:`bridge.asgi._eager`)."""
        state = self.lifespan.state
        if state is not None:
            scope["state"] = state.copy()
        cycle = (
            HTTPCycle(scope, body) if stream is None else StreamingHTTPCycle(scope, body, stream)
        )
        task, finished = start_task(asyncio.get_running_loop(), cycle.run(self.app))
        if not finished:
            limit = time_limit(scope, self.margin_ms)
            if limit is not None:
                timer = task.get_loop().call_later(limit, cycle.deadline_reached, task, limit)
                task.add_done_callback(lambda _: timer.cancel())
        return cycle, task

    def close(self) -> None:
        self.lifespan.shutdown()


class Watchdog:
    """Cancels a cycle still running at its time limit: the Lambda deadline
    (``context.get_remaining_time_in_millis()``) minus the margin.

    Only a cycle still pending after its first step on the loop is watched
    (:meth:`watch` is the loop runner's ``on_pending``): one that finished in
    that step cannot be cancelled anyway.  The deadline is absolute: asking
    for it only then loses nothing.

    One timer serves every invocation: it is armed for the first deadline
    and re-armed only when it fires early (a later invocation has a later
    deadline) or would fire too late (an earlier one).  Invocations run one
    at a time on the loop (see :mod:`bridge.asgi.loop`), so one watched cycle at
    a time.  (:meth:`ASGIRunner.start`, which runs any number at once, arms a
    timer for each.)
    """

    __slots__ = ("_at", "_cycle", "_limit", "_loop", "_margin_ms", "_task", "_timer")

    def __init__(self, margin_ms: int) -> None:
        self._margin_ms = margin_ms
        self._at = 0.0
        self._limit = 0.0
        self._cycle: Watched | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, cycle: Watched, task: asyncio.Task[None]) -> None:
        """Watch ``task`` (``cycle``'s, still pending) until it is done, if
        :func:`time_limit` gives it one.  Never raises: the task is already
        running, and the loop runner resumes it right after this."""
        limit = time_limit(cycle.scope, self._margin_ms)
        if limit is None:
            return
        self._limit = limit
        loop = task.get_loop()
        self._at = at = loop.time() + limit
        self._cycle = cycle
        self._task = task
        if self._timer is None or self._timer.when() > at or self._loop is not loop:
            self._arm(loop, at)

    def _arm(self, loop: asyncio.AbstractEventLoop, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._loop = loop
        self._timer = loop.call_at(at, self._fire)

    def _fire(self) -> None:
        self._timer = None
        cycle, task, loop = self._cycle, self._task, self._loop
        if cycle is None or task is None or loop is None or task.done():
            # Nothing watched now (the references are let go): the next
            # watch() arms a new timer.
            self._cycle = self._task = None
            return
        if loop.time() + 0.001 < self._at:  # an earlier invocation's timer
            self._arm(loop, self._at)
            return
        cycle.deadline_reached(task, self._limit)


def time_limit(scope: Mapping[str, Any], margin_ms: int | None) -> float | None:
    """Seconds the request of ``scope`` may still run: the time left before the
    Lambda deadline minus ``margin_ms``; None when ``margin_ms`` is None or the
    context knows no deadline (none, a mock, a stub answering 0) or cannot tell it."""
    remaining = getattr(scope.get("aws.context"), "get_remaining_time_in_millis", None)
    if margin_ms is None or remaining is None:
        return None
    try:
        millis = remaining()
    except Exception:
        logger.warning(
            "context.get_remaining_time_in_millis() failed; no time limit for %s %s.",
            scope.get("method") or scope.get("type"),
            scope.get("path"),
            exc_info=True,
        )
        return None
    if not isinstance(millis, (int, float)) or millis <= 0:
        return None
    return (millis - margin_ms) / 1000 if millis > margin_ms else 0.0
