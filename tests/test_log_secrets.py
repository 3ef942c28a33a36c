"""bridge's log never holds the value of an ``Authorization``, ``Cookie`` or
``Set-Cookie`` header, whatever goes wrong: bad events, failing apps,
protocol violations, unsafe or oversized responses."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge import Bridge, UnknownEventError
from bridge.local.events import SOURCE_NAMES, FakeContext, build_event
from tests.apps import read_body
from tests.logs import captured_logs, formatted
from tests.test_fuzz_events import locations, replaced

SECRET = "s3cr3t-t0ken"
#: A kind of each wrong value (tests/test_fuzz_events.py sweeps them all).
WRONG_VALUES = (None, 5, "\ud800", [5], {"k": 5}, {"k": [5]})

#: How the app answers; each names a way a response can go wrong.
BEHAVIOURS = (
    "ok",
    "raise",
    "raise-after-start",
    "no-response",
    "start-twice",
    "headers-not-bytes",
    "unsafe-header",
    "too-large",
    "cancelled",
    "deadline",
    "set-cookie-in-single-value-source",
)


class SecretApp:
    """Answers with Set-Cookie headers carrying the secret, misbehaving as told."""

    behaviour = "ok"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        await read_body(receive)
        behaviour = self.behaviour
        cookie = f"session={SECRET}; HttpOnly".encode()
        headers = [
            (b"set-cookie", cookie),
            (b"set-cookie", cookie),
            (b"content-type", b"text/plain"),
        ]
        if behaviour == "raise":
            raise ValueError("the app failed")
        if behaviour == "no-response":
            return
        if behaviour == "cancelled":
            raise asyncio.CancelledError
        if behaviour == "deadline":
            await asyncio.Event().wait()
        if behaviour == "headers-not-bytes":
            bad = [(b"set-cookie", cookie.decode())]
            await send({"type": "http.response.start", "status": 200, "headers": bad})
        if behaviour == "unsafe-header":
            headers.append((b"x-next", b"a\r\nSet-Cookie: " + cookie))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if behaviour == "raise-after-start":
            raise ValueError("the app failed")
        if behaviour == "start-twice":
            await send({"type": "http.response.start", "status": 200, "headers": headers})
        body = b"x" * 7_000_000 if behaviour == "too-large" else b"ok"
        await send({"type": "http.response.body", "body": body})


class Deadline:
    aws_request_id = "test"

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture(scope="module")
def secret_handler() -> Iterator[tuple[Bridge, SecretApp]]:
    app = SecretApp()
    handler = Bridge(app, lifespan="off")
    yield handler, app
    handler.close()


def secret_event(source: str, query: str = "") -> dict[str, Any]:
    return build_event(
        source,
        method="POST",
        query=query,
        headers=[
            ("Authorization", f"Bearer {SECRET}"),
            ("Cookie", f"session={SECRET}; theme=dark"),
            ("Content-Type", "text/plain"),
        ],
        body=b"hello",
    )


@pytest.mark.parametrize("source", SOURCE_NAMES)
@given(behaviour=st.sampled_from(BEHAVIOURS))
def test_failing_apps_never_log_secrets(
    secret_handler: tuple[Bridge, SecretApp], source: str, behaviour: str
) -> None:
    handler, app = secret_handler
    app.behaviour = behaviour
    context = Deadline(501) if behaviour == "deadline" else FakeContext()
    with captured_logs() as records:
        handler(secret_event(source), context)
    assert SECRET not in formatted(records)


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_bad_events_never_log_secrets(
    secret_handler: tuple[Bridge, SecretApp], source: str
) -> None:
    """Every part of an event carrying secrets, replaced in turn by every
    kind of wrong value."""
    handler, app = secret_handler
    app.behaviour = "ok"
    event = secret_event(source, query="a=1")
    messages: list[str] = []
    with captured_logs() as records:
        for location in locations(event):
            if not location:
                continue
            for value in WRONG_VALUES:
                changed = replaced(event, location, value)
                try:
                    handler(changed, FakeContext())
                except UnknownEventError as exc:
                    messages.append(str(exc))
    assert records  # the sweep does log rejections
    assert SECRET not in formatted(records)
    assert not [m for m in messages if SECRET in m]
