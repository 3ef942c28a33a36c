from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from bridge import Bridge
from bridge.local.events import SOURCE_NAMES, FakeContext, build_event
from bridge.local.responses import decode_response
from bridge.types import LambdaResponse
from tests.apps import echo_app

HandlerFactory = Callable[..., Bridge]

# Property tests: a bounded, reproducible run by default ("ci": the same
# examples every run, so a merge is never blocked by a lucky draw);
# HYPOTHESIS_PROFILE=nightly for a long random one.  No deadline: the
# machine's load must not fail a test.
settings.register_profile(
    "ci",
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "nightly",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def make_handler() -> Iterator[HandlerFactory]:
    """Builds handlers and runs their lifespan shutdown at teardown."""
    handlers: list[Bridge] = []

    def factory(app: Any = echo_app, **options: Any) -> Bridge:
        handler = Bridge(app, **options)
        handlers.append(handler)
        return handler

    yield factory
    for handler in reversed(handlers):
        handler.close()


@pytest.fixture(params=SOURCE_NAMES)
def source(request: pytest.FixtureRequest) -> str:
    """Every HTTP event source, for behaviour all of them share."""
    name: str = request.param
    return name


@dataclass
class Reply:
    """What one invocation sent and got back, the response decoded as HTTP
    (header names in lower case)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    response: LambdaResponse
    event: dict[str, Any] = field(default_factory=dict)
    context: FakeContext | None = None

    @property
    def binary(self) -> bool:
        return bool(
            self.response.get("isBase64Encoded") or self.response.get("bodyEncoding") == "base64"
        )

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[-1] if values else None

    def all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n == name]

    def json(self) -> Any:
        return json.loads(self.body)

    def echoed_body(self) -> bytes:
        """The request body the echo apps report (base64 in their JSON)."""
        return base64.b64decode(self.json()["body"])


def call(handler: Bridge, source: str, **request: Any) -> Reply:
    """Invoke ``handler`` with ``source``'s event for ``request`` (see ``build_event``)."""
    event = build_event(source, **request)
    context = FakeContext()
    response = handler(event, context)
    status, headers, body = decode_response(source, response)
    return Reply(
        status=status,
        headers=[(name.lower(), value) for name, value in headers],
        body=body,
        response=response,
        event=event,
        context=context,
    )


@pytest.fixture
def exchange() -> Callable[..., Reply]:
    return call
