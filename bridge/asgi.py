"""Serving ASGI applications: the HTTP cycle on the process loop, with lifespan."""

from __future__ import annotations

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

    __slots__ = ("app", "lifespan", "runner")

    def __init__(self, app: ASGIApp, lifespan: LifespanMode) -> None:
        self.app = app
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
        self.runner.run(cycle.run(self.app))
        return cycle.status, cycle.headers, cycle.body

    def close(self) -> None:
        self.lifespan.shutdown()
