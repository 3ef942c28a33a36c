"""The deadline watchdog: what the log says about an application that
catches its cancellation, and when the 504 of a short deadline arrives after
an invocation with a long one."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bridge.local.events import build_event
from tests.apps import read_body
from tests.conftest import HandlerFactory


class Context:
    """A Lambda context whose remaining time is fixed."""

    aws_request_id = "test"

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


async def catches_the_cancellation_and_answers(scope: Any, receive: Any, send: Any) -> None:
    """Waits; cancelled, it answers 503 itself instead of ending."""
    await read_body(receive)
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": b"gave up"})


async def catches_the_cancellation_and_returns(scope: Any, receive: Any, send: Any) -> None:
    await read_body(receive)
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        return


def _http_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bridge.http"]


def test_a_caught_cancellation_before_any_response_is_told_as_it_happened(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    handler = make_handler(catches_the_cancellation_and_answers, lifespan="off")
    response = handler(build_event("http", path="/slow"), Context(501))
    assert (response["statusCode"], response["body"]) == (503, "gave up")
    (message,) = _http_log(caplog)
    assert "after its response was complete" not in message
    assert "at its time limit (1 ms" in message
    assert "GET /slow" in message
    assert "waiting for http.response.start" in message
    assert "caught the cancellation" in message
    assert "completed a response of its own" in message


def test_a_caught_cancellation_without_a_response_gets_504_and_says_so(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    handler = make_handler(catches_the_cancellation_and_returns, lifespan="off")
    response = handler(build_event("http", path="/slow"), Context(501))
    assert response["statusCode"] == 504
    (message,) = _http_log(caplog)
    assert "caught the cancellation and returned" in message
    assert "answered 504" in message


async def sleeps_for_its_path(scope: Any, receive: Any, send: Any) -> None:
    await read_body(receive)
    await asyncio.sleep(float(scope["path"].strip("/")))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_a_short_deadline_after_a_long_one_gets_its_504_on_time(
    make_handler: HandlerFactory,
) -> None:
    """The timer armed for a long deadline (60 s) is re-armed for the next
    invocation's earlier one: its 504 comes at its own deadline, not at the
    first invocation's."""
    handler = make_handler(sleeps_for_its_path, lifespan="off", timeout_margin_ms=0)
    assert handler(build_event("http", path="/0.01"), Context(60_000))["statusCode"] == 200
    started = time.monotonic()
    response = handler(build_event("http", path="/3600"), Context(200))
    elapsed = time.monotonic() - started
    assert response["statusCode"] == 504
    # Timers never fire early; 200 ms plus a generous allowance for a loaded
    # machine, far below the first invocation's 60 s.
    assert 0.19 <= elapsed < 5.0, elapsed
