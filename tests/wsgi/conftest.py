from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bridge import Bridge
from bridge.wsgi import WSGIMiddleware
from tests.wsgi.events import BUILDERS, Builder

MakeHandler = Callable[..., Bridge]


@pytest.fixture(params=sorted(BUILDERS))
def source(request: pytest.FixtureRequest) -> str:
    """Every event source, by its test id."""
    name: str = request.param
    return name


@pytest.fixture
def build(source: str) -> Builder:
    """The event builder of the source under test."""
    return BUILDERS[source]


@pytest.fixture(params=["direct", "middleware"])
def mode(request: pytest.FixtureRequest) -> str:
    """How the WSGI app is served: by ``Bridge`` directly, or as an ASGI app
    through ``WSGIMiddleware``."""
    name: str = request.param
    return name


@pytest.fixture
def make_handler(mode: str) -> MakeHandler:
    def make(app: Any, **options: Any) -> Bridge:
        if mode == "middleware":
            return Bridge(WSGIMiddleware(app), lifespan="off", **options)
        return Bridge(app, **options)

    return make
