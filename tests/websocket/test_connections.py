"""Reaching other connections (broadcast, send, close) and the event builders."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.types import Receive, Scope, Send
from bridge.websocket import (
    BroadcastResult,
    Connections,
    WebSocketError,
    broadcast,
    connection_id,
    connections,
    send_to,
)
from bridge.websocket.events import (
    connect_event,
    disconnect_event,
    message_event,
    route_key_for,
)
from tests.websocket import servers
from tests.websocket.apps import Journal, journaled
from tests.websocket.conftest import WebSocketHandlerFactory

RESULTS: list[BroadcastResult] = []


async def chat(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept, then pass every text on to the others ("to:ID text" to one)."""
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text: str = message["text"]
        if text.startswith("to:"):
            target, _, rest = text[3:].partition(" ")
            if not await send_to(scope, target, rest):
                await send({"type": "websocket.send", "text": f"{target} is gone"})
        else:
            me = connection_id(scope)
            RESULTS.append(await broadcast(scope, f"{me}: {text}", exclude={me}))


def test_broadcast_reaches_everyone_else(
    make_ws_handler: WebSocketHandlerFactory, management: servers.ManagementStub
) -> None:
    RESULTS.clear()
    handler = make_ws_handler(journaled(Journal(), chat), websocket_endpoint=management.url)
    for name in ("a=", "b=", "c="):
        handler(connect_event(name))
    assert handler(message_event("a=", "hello")) == {"statusCode": 200}
    assert management.posts("b=") == [b"a=: hello"]
    assert management.posts("c=") == [b"a=: hello"]
    assert management.posts("a=") == []
    assert [BroadcastResult(sent=["b=", "c="])] == RESULTS


def test_broadcast_forgets_gone_connections_and_reports_failures(
    make_ws_handler: WebSocketHandlerFactory, management: servers.ManagementStub
) -> None:
    RESULTS.clear()
    handler = make_ws_handler(journaled(Journal(), chat), websocket_endpoint=management.url)
    for name in ("a=", "b=", "c=", "d="):
        handler(connect_event(name))
    management.gone.add("b=")
    management.forbidden.add("c=")
    handler(message_event("a=", "hi"))
    (result,) = RESULTS
    assert result.sent == ["d="]
    assert result.gone == ["b="]
    assert list(result.failed) == ["c="]
    assert "ForbiddenException" in result.failed["c="]
    assert handler._websocket is not None
    assert handler._websocket.store is not None
    assert sorted(handler._websocket.store.connections()) == ["a=", "c=", "d="]


def test_send_to_one_connection_and_learn_it_is_gone(
    make_ws_handler: WebSocketHandlerFactory, management: servers.ManagementStub
) -> None:
    handler = make_ws_handler(journaled(Journal(), chat), websocket_endpoint=management.url)
    for name in ("a=", "b="):
        handler(connect_event(name))
    handler(message_event("a=", "to:b= psst"))
    assert management.posts("b=") == [b"psst"]
    management.gone.add("b=")
    handler(message_event("a=", "to:b= again"))
    assert management.posts("a=") == [b"b= is gone"]


def test_connections_work_outside_an_invocation(
    tmp_path: Path, management: servers.ManagementStub
) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    hub = Connections.open(url, management.url)
    try:
        for name in ("a=", "b="):
            hub.store.save(name, {"version": 1})
        assert hub.ids() == ["a=", "b="]
        assert hub.broadcast(b"\x01news").sent == ["a=", "b="]
        management.gone.add("a=")
        assert hub.send("a=", "x") is False
        assert hub.send("b=", "y") is True
        hub.close("b=")
        assert management.deletes() == ["b="]
        assert hub.ids() == []
        assert management.posts("b=") == [b"\x01news", b"y"]
    finally:
        hub.close_resources()


def test_helpers_outside_bridge_say_where_they_work() -> None:
    with pytest.raises(WebSocketError, match=r"no 'bridge\.websocket' extension"):
        connections({"type": "websocket", "extensions": {}})
    with pytest.raises(WebSocketError, match="type 'http'"):
        connection_id({"type": "http"})


def test_sending_something_else_than_text_or_bytes_is_a_type_error(
    tmp_path: Path, management: servers.ManagementStub
) -> None:
    hub = Connections.open(f"sqlite:///{tmp_path}/c.db", management.url)
    try:
        with pytest.raises(TypeError, match="Expected str or bytes to send, got int"):
            hub.send("a=", 5)  # type: ignore[arg-type]
    finally:
        hub.close_resources()


# ------------------------------------------------------------ event builders


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('{"action": "chat", "text": "hi"}', "chat"),
        ('{"action": "unknown"}', "$default"),
        ('{"text": "no action"}', "$default"),
        ("not json", "$default"),
        ('["a", "list"]', "$default"),
        (b"\x00binary", "$default"),
    ],
)
def test_route_key_follows_the_selection_expression(data: str | bytes, expected: str) -> None:
    assert route_key_for(data, {"chat", "join"}) == expected


def test_route_key_nested_field_and_other_expressions() -> None:
    assert route_key_for('{"m": {"kind": "join"}}', {"join"}, "$request.body.m.kind") == "join"
    assert route_key_for('{"action": "join"}', {"join"}, "$request.header.x") == "$default"


def test_built_events_carry_what_aws_sends() -> None:
    binary = message_event("c1=", b"\xff")
    assert (binary["body"], binary["isBase64Encoded"]) == ("/w==", True)
    assert binary["requestContext"]["eventType"] == "MESSAGE"
    closed = disconnect_event("c1=", status_code=None)
    assert "disconnectStatusCode" not in closed["requestContext"]
    connect = connect_event("c1=", query="a=1&a=2&b=", stage="prod")
    assert connect["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert connect["queryStringParameters"] == {"a": "2", "b": ""}
    assert connect["requestContext"]["stage"] == "prod"
    assert "queryStringParameters" not in connect_event("c1=")
