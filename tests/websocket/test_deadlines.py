"""WebSocket events under the Lambda deadline (the watchdog HTTP has), a
broadcast bounded by it, and the lifespan state copied into every event."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bridge import Bridge
from bridge.types import Receive, Scope, Send
from bridge.websocket import ConnectionGoneError, Connections, connections
from bridge.websocket.events import connect_event, message_event
from bridge.websocket.stores import close_store, open_store
from tests.websocket.conftest import WebSocketHandlerFactory


class Context:
    """A Lambda context whose remaining time is fixed."""

    aws_request_id = "ws-deadline"

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class Recorder:
    """A Management API client that records; ids in ``unreachable`` block
    until ``release`` is set (at most 10 s)."""

    def __init__(self, unreachable: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.unreachable = unreachable
        self.release = threading.Event()
        self.sent: list[tuple[str, bytes]] = []
        self.closed: list[str] = []
        self._lock = threading.Lock()

    def post_to_connection(self, connection_id: str, data: bytes) -> None:
        if connection_id in self.unreachable:
            self.release.wait(timeout=10)
            raise ConnectionGoneError(connection_id)
        with self._lock:
            self.sent.append((connection_id, data))

    def delete_connection(self, connection_id: str) -> None:
        self.closed.append(connection_id)


@pytest.fixture
def client() -> Iterator[Recorder]:
    recorder = Recorder({"dead1=", "dead2=", "dead3="})
    yield recorder
    recorder.release.set()


async def slow(scope: Scope, receive: Receive, send: Send) -> None:
    """Accepts; "slow" (or a slow $connect) then awaits for 30 s."""
    message = await receive()
    if (
        scope["extensions"]["bridge.websocket"]["event_type"] == "CONNECT"
        and scope["query_string"] == b"slow=1"
    ):
        await asyncio.sleep(30)
    await send({"type": "websocket.accept"})
    message = await receive()
    if message.get("text") == "slow":
        await asyncio.sleep(30)
    await send({"type": "websocket.send", "text": "quick"})
    await receive()


def test_a_message_still_running_at_the_deadline_is_cancelled_and_answered_504(
    make_ws_handler: WebSocketHandlerFactory,
    client: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = make_ws_handler(slow, websocket_endpoint=client)
    assert handler(connect_event("c1="), Context(60_000))["statusCode"] == 200
    started = time.monotonic()
    response = handler(message_event("c1=", "slow"), Context(700))  # 200 ms after the margin
    elapsed = time.monotonic() - started
    assert response == {"statusCode": 504}
    assert 0.19 <= elapsed < 5.0, elapsed
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(
        "still handling WebSocket MESSAGE for connection c1= at its time limit (200 ms" in m
        and "the connection stays open" in m
        for m in errors
    ), errors
    # The connection stays: the next message is served.
    assert handler(message_event("c1=", "hi"), Context(60_000)) == {"statusCode": 200}
    assert client.sent == [("c1=", b"quick")]
    assert client.closed == []


def test_a_connect_still_running_at_the_deadline_is_refused_with_504(
    make_ws_handler: WebSocketHandlerFactory, client: Recorder
) -> None:
    handler = make_ws_handler(slow, websocket_endpoint=client)
    started = time.monotonic()
    response = handler(connect_event("c2=", query="slow=1"), Context(700))
    assert time.monotonic() - started < 5.0
    assert response["statusCode"] == 504
    store = handler._websocket.store if handler._websocket else None
    assert store is not None
    assert store.load("c2=") is None


def test_a_broadcast_is_sent_side_by_side_and_stops_at_the_deadline(
    tmp_path: Any, client: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    """Three unreachable connections block their sends: the reachable ones
    are served anyway, and the broadcast returns at the deadline."""
    store = open_store(f"sqlite:///{tmp_path}/broadcast.db")
    try:
        ids = ["dead1=", "live1=", "dead2=", "live2=", "dead3="]
        for name in ids:
            store.save(name, {"path": "/"})
        reach = Connections(store, client, deadline=time.monotonic() + 0.3)
        started = time.monotonic()
        result = reach.broadcast("news")
        elapsed = time.monotonic() - started
        assert 0.29 <= elapsed < 5.0, elapsed
        assert sorted(result.sent) == ["live1=", "live2="]
        assert sorted(result.failed) == ["dead1=", "dead2=", "dead3="]
        assert all("time limit" in reason for reason in result.failed.values())
        assert "3 of 5 connections not reached" in caplog.text
    finally:
        client.release.set()
        close_store(store)


def test_the_invocations_deadline_reaches_its_connections(
    make_ws_handler: WebSocketHandlerFactory, client: Recorder
) -> None:
    deadlines: list[float | None] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        deadlines.append(connections(scope).deadline)

    handler = make_ws_handler(app, websocket_endpoint=client)
    before = time.monotonic()
    handler(connect_event("c3="), Context(10_500))  # 10 s after the 500 ms margin
    after = time.monotonic()
    handler(connect_event("c4="), None)
    (first, second) = deadlines
    assert first is not None
    assert before + 10 <= first <= after + 10
    assert second is None


def test_each_websocket_event_gets_its_own_copy_of_the_lifespan_state(
    make_ws_handler: WebSocketHandlerFactory, client: Recorder
) -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["pool"] = "ready"
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        seen.append(dict(scope["state"]))
        scope["state"]["leak"] = connection_id_of(scope)  # must not reach another event
        await receive()
        await send({"type": "websocket.accept"})
        await receive()

    handler: Bridge = make_ws_handler(app, lifespan="on", websocket_endpoint=client)
    handler(connect_event("c5="))
    handler(message_event("c5=", "one"))
    handler(connect_event("c6="))
    assert seen == [{"pool": "ready"}] * 3


def connection_id_of(scope: Scope) -> str:
    return str(scope["extensions"]["bridge.websocket"]["connection_id"])
