from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bridge import Bridge
from bridge.wsgi import WSGIMiddleware

Serve = Callable[..., Bridge]


@pytest.fixture(params=["direct", "middleware"])
def mode(request: pytest.FixtureRequest) -> str:
    """How the WSGI app is served: by ``Bridge`` directly, or as an ASGI app
    through ``WSGIMiddleware``."""
    name: str = request.param
    return name


@pytest.fixture
def serve(mode: str) -> Iterator[Serve]:
    """``serve(wsgi_app, **options)``: a handler for the app, in each mode."""
    handlers: list[Bridge] = []

    def make(app: Any, **options: Any) -> Bridge:
        if mode == "middleware":
            handler = Bridge(WSGIMiddleware(app), lifespan="off", **options)
        else:
            handler = Bridge(app, **options)
        handlers.append(handler)
        return handler

    yield make
    for handler in handlers:
        handler.close()
