"""WebSocket events through ``Bridge``: every event type, every way an app ends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge import Bridge
from bridge.errors import ConfigurationError
from bridge.local.events import build_event
from bridge.types import Receive, Scope, Send
from bridge.websocket import (
    ClientDisconnected,
    StoreError,
    UnknownConnectionError,
    WebSocketConfigurationError,
    connection_id,
    route_key,
)
from bridge.websocket.events import connect_event, disconnect_event, message_event
from bridge.websocket.stores import open_store
from tests.websocket import servers
from tests.websocket.apps import Journal, echo, http_only, journaled, script, wsgi_app
from tests.websocket.conftest import WebSocketHandlerFactory, moto_posts

ASGI = {"version": "3.0", "spec_version": "2.4"}


def stored(handler: Bridge, connection: str) -> Any:
    store = handler._websocket.store if handler._websocket else None
    assert store is not None
    return store.load(connection)


# ------------------------------------------------------------------ CONNECT


def test_accept_answers_200_with_the_chosen_subprotocol(echo_handler: Bridge) -> None:
    response = echo_handler(connect_event("c1=", subprotocols=["chat.v2", "json"]))
    assert response == {"statusCode": 200, "headers": {"sec-websocket-protocol": "chat.v2"}}


def test_accept_without_subprotocol_answers_a_bare_200(echo_handler: Bridge) -> None:
    assert echo_handler(connect_event("c1=")) == {"statusCode": 200}


def test_connect_scope_comes_from_the_upgrade_request(
    echo_handler: Bridge, journal: Journal
) -> None:
    echo_handler(
        connect_event(
            "c1=",
            query="room=caf%C3%A9&tag=a&tag=b",
            headers=[("X-Token", "t0k"), ("Cookie", "a=1")],
            subprotocols=["chat"],
            domain_name="abc123.execute-api.eu-west-1.amazonaws.com",
            source_ip="198.51.100.4",
        )
    )
    scope = journal.last_scope()
    assert scope["type"] == "websocket"
    assert scope["asgi"] == ASGI
    assert (scope["scheme"], scope["path"], scope["raw_path"]) == ("wss", "/", b"/")
    assert scope["query_string"] == b"room=caf%C3%A9&tag=a&tag=b"
    assert (b"x-token", b"t0k") in scope["headers"]
    assert (b"cookie", b"a=1") in scope["headers"]
    assert scope["subprotocols"] == ["chat"]
    assert scope["client"] == ("198.51.100.4", 0)
    assert scope["server"] == ("abc123.execute-api.eu-west-1.amazonaws.com", 443)
    assert connection_id(scope) == "c1="
    assert route_key(scope) == "$connect"
    assert journal.types() == ["websocket.connect"]


def test_websocket_path_is_the_path_the_app_sees(
    make_ws_handler: WebSocketHandlerFactory, journal: Journal
) -> None:
    handler = make_ws_handler(journaled(journal, echo), websocket_path="/ws/chat")
    handler(connect_event("c1="))
    assert journal.last_scope()["path"] == "/ws/chat"
    assert stored(handler, "c1=")["scope"]["path"] == "/ws/chat"


def test_accepted_connection_is_saved_with_its_scope(echo_handler: Bridge) -> None:
    echo_handler(connect_event("c1=", query="x=1", subprotocols=["chat"], stage="prod"))
    record = stored(echo_handler, "c1=")
    assert record["subprotocol"] == "chat"
    assert record["scope"]["query_string"] == "x=1"
    assert ["sec-websocket-protocol", "chat"] in record["scope"]["headers"]


def test_accept_headers_are_part_of_the_handshake_answer(
    make_ws_handler: WebSocketHandlerFactory,
) -> None:
    app = script({"type": "websocket.accept", "headers": [(b"X-Room", b"5")]})
    handler = make_ws_handler(journaled(Journal(), app))
    assert handler(connect_event("c1=")) == {"statusCode": 200, "headers": {"x-room": "5"}}


def test_close_before_accept_refuses_with_403(
    make_ws_handler: WebSocketHandlerFactory,
) -> None:
    handler = make_ws_handler(journaled(Journal(), script({"type": "websocket.close"})))
    assert handler(connect_event("c1=")) == {"statusCode": 403}
    assert stored(handler, "c1=") is None


def test_denial_response_is_the_handshake_answer(
    make_ws_handler: WebSocketHandlerFactory,
) -> None:
    app = script(
        {
            "type": "websocket.http.response.start",
            "status": 401,
            "headers": [(b"content-type", b"text/plain")],
        },
        {"type": "websocket.http.response.body", "body": b"log ", "more_body": True},
        {"type": "websocket.http.response.body", "body": b"in first"},
        then_wait=False,
    )
    handler = make_ws_handler(journaled(Journal(), app))
    assert handler(connect_event("c1=")) == {
        "statusCode": 401,
        "headers": {"content-type": "text/plain"},
        "body": "log in first",
        "isBase64Encoded": False,
    }
    assert stored(handler, "c1=") is None


def test_app_raising_during_connect_answers_500(
    make_ws_handler: WebSocketHandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        raise ValueError("no database")

    handler = make_ws_handler(journaled(Journal(), broken))
    assert handler(connect_event("c1=")) == {"statusCode": 500}
    assert stored(handler, "c1=") is None
    assert "raised while handling WebSocket CONNECT" in caplog.text


def test_app_returning_without_handshake_answers_500(
    make_ws_handler: WebSocketHandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    handler = make_ws_handler(journaled(Journal(), script(then_wait=False)))
    assert handler(connect_event("c1=")) == {"statusCode": 500}
    assert "returned without answering the WebSocket handshake" in caplog.text


def test_app_waiting_for_a_message_before_accepting_answers_500(
    make_ws_handler: WebSocketHandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    handler = make_ws_handler(journaled(Journal(), script(then_wait=True)))
    assert handler(connect_event("c1=")) == {"statusCode": 500}
    assert "waited for the next message without answering" in caplog.text


def test_http_only_app_gets_a_clear_error(
    make_ws_handler: WebSocketHandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    handler = make_ws_handler(http_only)
    assert handler(connect_event("c1=")) == {"statusCode": 500}
    assert "unsupported scope type 'websocket'" in caplog.text
    assert "does it handle scope type 'websocket'?" in caplog.text


def test_accept_then_return_during_connect_refuses(
    make_ws_handler: WebSocketHandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    handler = make_ws_handler(
        journaled(Journal(), script({"type": "websocket.accept"}, then_wait=False))
    )
    assert handler(connect_event("c1=")) == {"statusCode": 403}
    assert stored(handler, "c1=") is None
    assert "returned right after accepting" in caplog.text


def test_accept_then_close_during_connect_refuses(
    make_ws_handler: WebSocketHandlerFactory,
) -> None:
    app = script({"type": "websocket.accept"}, {"type": "websocket.close"})
    handler = make_ws_handler(journaled(Journal(), app))
    assert handler(connect_event("c1=")) == {"statusCode": 403}
    assert stored(handler, "c1=") is None


def test_sends_during_connect_are_dropped_with_a_warning(
    make_ws_handler: WebSocketHandlerFactory,
    management: servers.ManagementStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = script({"type": "websocket.accept"}, {"type": "websocket.send", "text": "welcome"})
    handler = make_ws_handler(journaled(Journal(), app), websocket_endpoint=management.url)
    assert handler(connect_event("c1=")) == {"statusCode": 200}
    assert management.calls == []
    assert "cannot reach the client" in caplog.text


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ({"type": "websocket.send", "text": "x"}, "Expected ASGI message 'websocket.accept'"),
        ({"type": "websocket.http.response.body", "body": b""}, "but got 'websocket.http"),
        ({"type": "websocket.accept", "subprotocol": 5}, "subprotocol must be a string"),
        ({"type": "websocket.accept", "headers": [(b"x", "str")]}, "must be bytes"),
        ({"type": "websocket.http.response.start", "status": "ok"}, "needs an int HTTP"),
    ],
)
def test_protocol_violations_answer_500_and_say_why(
    first: dict[str, Any],
    expected: str,
    make_ws_handler: WebSocketHandlerFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = make_ws_handler(journaled(Journal(), script(first)))
    assert handler(connect_event("c1=")) == {"statusCode": 500}
    assert expected in caplog.text


def test_lifespan_state_reaches_the_websocket_scope(
    make_ws_handler: WebSocketHandlerFactory, journal: Journal
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["pool"] = "ready"
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await journaled(journal, echo)(scope, receive, send)

    handler = make_ws_handler(app, lifespan="on")
    handler(connect_event("c1="))
    handler(message_event("c1=", "hi"))
    assert [s["state"] for s in journal.scopes] == [{"pool": "ready"}, {"pool": "ready"}]


# ------------------------------------------------------------------ MESSAGE


def test_message_reaches_an_open_connection_and_replies_go_out(
    echo_handler: Bridge, journal: Journal, management: servers.ManagementStub
) -> None:
    echo_handler(connect_event("c1=", query="room=1"))
    assert echo_handler(message_event("c1=", "hello")) == {"statusCode": 200}
    assert management.posts("c1=") == [b"echo:hello"]
    assert management.calls[0].path == "/@connections/c1%3D"
    scope = journal.last_scope()
    assert scope["query_string"] == b"room=1"
    assert route_key(scope) == "$default"
    assert journal.types() == [
        "websocket.connect",
        "websocket.connect",
        "websocket.receive",
    ]
    assert journal.received[-1] == {"type": "websocket.receive", "bytes": None, "text": "hello"}


def test_message_ends_when_the_app_waits_and_the_connection_stays(
    echo_handler: Bridge, journal: Journal, management: servers.ManagementStub
) -> None:
    echo_handler(connect_event("c1="))
    echo_handler(message_event("c1=", "one"))
    echo_handler(message_event("c1=", "two"))
    assert journal.cancelled == 3  # connect, one, two: each ended waiting
    assert "websocket.disconnect" not in journal.types()
    assert management.deletes() == []
    assert stored(echo_handler, "c1=") is not None


def test_binary_frame_arrives_as_bytes(
    echo_handler: Bridge, journal: Journal, management: servers.ManagementStub
) -> None:
    echo_handler(connect_event("c1="))
    echo_handler(message_event("c1=", b"\x00\xffdata"))
    assert journal.received[-1] == {
        "type": "websocket.receive",
        "bytes": b"\x00\xffdata",
        "text": None,
    }
    assert management.posts("c1=") == [b"echo:\x00\xffdata"]


def test_app_close_deletes_the_connection(
    echo_handler: Bridge, journal: Journal, management: servers.ManagementStub
) -> None:
    echo_handler(connect_event("c1="))
    assert echo_handler(message_event("c1=", "close")) == {"statusCode": 200}
    assert management.deletes() == ["c1="]
    assert stored(echo_handler, "c1=") is None
    assert journal.received[-1] == {"type": "websocket.disconnect", "code": 4000, "reason": "asked"}


def test_app_returning_closes_the_connection(
    echo_handler: Bridge, management: servers.ManagementStub
) -> None:
    echo_handler(connect_event("c1="))
    assert echo_handler(message_event("c1=", "bye")) == {"statusCode": 200}
    assert management.deletes() == ["c1="]
    assert stored(echo_handler, "c1=") is None


def test_app_raising_on_a_message_answers_500_and_closes(
    echo_handler: Bridge, management: servers.ManagementStub, caplog: pytest.LogCaptureFixture
) -> None:
    echo_handler(connect_event("c1="))
    assert echo_handler(message_event("c1=", "boom")) == {"statusCode": 500}
    assert management.deletes() == ["c1="]
    assert stored(echo_handler, "c1=") is None
    assert "raised while handling WebSocket MESSAGE" in caplog.text


def test_send_to_a_gone_client_raises_then_disconnects(
    make_ws_handler: WebSocketHandlerFactory,
    journal: Journal,
    management: servers.ManagementStub,
) -> None:
    async def sender(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        try:
            await send({"type": "websocket.send", "text": "anyone?"})
        except ClientDisconnected:
            await receive()

    handler = make_ws_handler(journaled(journal, sender), websocket_endpoint=management.url)
    handler(connect_event("c1="))
    management.gone.add("c1=")
    assert handler(message_event("c1=", "x")) == {"statusCode": 200}
    assert isinstance(journal.errors[-1], ClientDisconnected)
    assert journal.received[-1] == {"type": "websocket.disconnect", "code": 1006, "reason": ""}
    assert stored(handler, "c1=") is None
    assert management.deletes() == []


def test_message_for_an_unknown_connection_is_a_clear_error(echo_handler: Bridge) -> None:
    with pytest.raises(UnknownConnectionError, match=r"'ghost='.*does not know"):
        echo_handler(message_event("ghost=", "hi"))


def test_custom_route_key_is_visible_to_the_app(echo_handler: Bridge, journal: Journal) -> None:
    echo_handler(connect_event("c1="))
    echo_handler(message_event("c1=", '{"action": "chat"}', route_key="chat"))
    assert route_key(journal.last_scope()) == "chat"


def test_replayed_denial_closes_an_open_connection(
    make_ws_handler: WebSocketHandlerFactory,
    management: servers.ManagementStub,
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/deny.db"
    make_ws_handler(journaled(Journal(), echo), websocket_store=url)(connect_event("c1="))
    deny = script(
        {"type": "websocket.http.response.start", "status": 403},
        {"type": "websocket.http.response.body", "body": b"no"},
    )
    handler = make_ws_handler(
        journaled(Journal(), deny), websocket_store=url, websocket_endpoint=management.url
    )
    assert handler(message_event("c1=", "x")) == {"statusCode": 200}
    assert management.deletes() == ["c1="]
    assert stored(handler, "c1=") is None


# --------------------------------------------------------------- DISCONNECT


@pytest.mark.parametrize(
    ("close", "expected"),
    [((1001, "Going away"), 1001), ((None, ""), 1005)],
)
def test_disconnect_tells_the_app_and_forgets_the_connection(
    close: tuple[int | None, str],
    expected: int,
    echo_handler: Bridge,
    journal: Journal,
    management: servers.ManagementStub,
) -> None:
    echo_handler(connect_event("c1="))
    status_code, reason = close
    event = disconnect_event("c1=", status_code=status_code, reason=reason)
    assert echo_handler(event) == {"statusCode": 200}
    assert journal.received[-1] == {
        "type": "websocket.disconnect",
        "code": expected,
        "reason": reason,
    }
    assert route_key(journal.last_scope()) == "$disconnect"
    assert stored(echo_handler, "c1=") is None
    assert management.calls == []


def test_disconnect_of_an_unknown_connection_is_a_no_op(
    echo_handler: Bridge, journal: Journal
) -> None:
    assert echo_handler(disconnect_event("ghost=")) == {"statusCode": 200}
    assert journal.scopes == []


def test_sending_after_disconnect_raises_client_disconnected(
    make_ws_handler: WebSocketHandlerFactory, journal: Journal
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        if message["type"] == "websocket.disconnect":
            await send({"type": "websocket.send", "text": "too late"})

    handler = make_ws_handler(journaled(journal, app))
    handler(connect_event("c1="))
    assert handler(disconnect_event("c1=")) == {"statusCode": 500}
    assert isinstance(journal.errors[-1], ClientDisconnected)
    assert stored(handler, "c1=") is None


# -------------------------------------------------------- every store


def test_a_whole_connection_on_every_store(
    store_url: str,
    moto_url: str,
    make_ws_handler: WebSocketHandlerFactory,
    journal: Journal,
) -> None:
    handler = make_ws_handler(
        journaled(journal, echo), websocket_store=store_url, websocket_endpoint=moto_url
    )
    connection = f"whole-{store_url.split(':', maxsplit=1)[0]}-{id(handler)}="
    assert handler(connect_event(connection, subprotocols=["chat"]))["statusCode"] == 200
    assert stored(handler, connection)["subprotocol"] == "chat"
    assert handler(message_event(connection, "one")) == {"statusCode": 200}
    assert handler(message_event(connection, b"two")) == {"statusCode": 200}
    assert moto_posts(connection) == b"echo:oneecho:two"
    assert handler(disconnect_event(connection, status_code=1000)) == {"statusCode": 200}
    assert stored(handler, connection) is None
    assert journal.received[-1]["code"] == 1000


# --------------------------------------------------------- configuration


def test_no_store_configured_is_a_clear_error() -> None:
    handler = Bridge(journaled(Journal(), echo), lifespan="off")
    try:
        with pytest.raises(WebSocketConfigurationError, match="websocket_store="):
            handler(connect_event("c1="))
    finally:
        handler.close()


def test_wsgi_app_with_a_websocket_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="served as WSGI, which has no WebSockets"):
        Bridge(wsgi_app, websocket_store=f"sqlite:///{tmp_path}/w.db")


def test_unreachable_store_fails_the_invocation_clearly(
    make_ws_handler: WebSocketHandlerFactory,
) -> None:
    url = f"redis://127.0.0.1:{servers.closed_port()}/0"
    handler = make_ws_handler(journaled(Journal(), echo), websocket_store=url)
    with pytest.raises(StoreError, match="failed to save a connection"):
        handler(connect_event("c1="))
    with pytest.raises(StoreError, match="failed to load a connection"):
        handler(message_event("c1=", "x"))


def test_bad_websocket_options_are_rejected(make_ws_handler: WebSocketHandlerFactory) -> None:
    with pytest.raises(ConfigurationError, match="websocket_path must be a path"):
        make_ws_handler(echo, websocket_path="ws")
    with pytest.raises(ConfigurationError, match="lacks post_to_connection"):
        make_ws_handler(echo, websocket_endpoint=object())


def test_http_events_still_work_next_to_websockets(
    make_ws_handler: WebSocketHandlerFactory,
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await http_only(scope, receive, send)
        else:
            await echo(scope, receive, send)

    handler = make_ws_handler(app)
    assert handler(build_event("rest"))["statusCode"] == 200
    assert handler(connect_event("c1="))["statusCode"] == 200


def test_websocket_events_shaped_like_rest_events_reach_the_websocket_app(
    make_ws_handler: WebSocketHandlerFactory,
) -> None:
    """Some WebSocket events carry ``httpMethod`` too (with ``messageDirection``):
    they still go to the WebSocket side, not to the REST source."""

    class Local:
        def __init__(self) -> None:
            self.sent: list[tuple[str, bytes]] = []

        def post_to_connection(self, connection_id: str, data: bytes) -> None:
            self.sent.append((connection_id, data))

        def delete_connection(self, connection_id: str) -> None:
            """Not used here."""

    local = Local()
    handler = make_ws_handler(echo, websocket_endpoint=local)
    connect = connect_event("c1=")
    connect["httpMethod"] = "GET"
    connect["requestContext"]["messageDirection"] = "IN"
    message = message_event("c1=", "hi")
    message["httpMethod"] = "POST"
    message["requestContext"]["messageDirection"] = "IN"
    assert handler(connect)["statusCode"] == 200
    assert handler(message)["statusCode"] == 200
    assert local.sent == [("c1=", b"echo:hi")]


def test_an_in_process_management_client_receives_the_sends(
    make_ws_handler: WebSocketHandlerFactory,
) -> None:
    class Local:
        def __init__(self) -> None:
            self.sent: list[tuple[str, bytes]] = []
            self.closed: list[str] = []

        def post_to_connection(self, connection_id: str, data: bytes) -> None:
            self.sent.append((connection_id, data))

        def delete_connection(self, connection_id: str) -> None:
            self.closed.append(connection_id)

    local = Local()
    handler = make_ws_handler(journaled(Journal(), echo), websocket_endpoint=local)
    handler(connect_event("c1="))
    handler(message_event("c1=", "hi"))
    handler(message_event("c1=", "close"))
    assert local.sent == [("c1=", b"echo:hi")]
    assert local.closed == ["c1="]


def test_malformed_event_answers_400(make_ws_handler: WebSocketHandlerFactory) -> None:
    handler = make_ws_handler(echo)
    event = connect_event("c1=")
    event["requestContext"]["connectionId"] = ""
    response = handler(event)
    assert response["statusCode"] == 400
    assert "connectionId is empty" in response["body"]


def test_saved_store_is_shared_with_a_second_instance(
    make_ws_handler: WebSocketHandlerFactory,
    management: servers.ManagementStub,
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    first = make_ws_handler(journaled(Journal(), echo), websocket_store=url)
    second = make_ws_handler(
        journaled(Journal(), echo), websocket_store=url, websocket_endpoint=management.url
    )
    first(connect_event("c1="))
    second(message_event("c1=", "hop"))
    assert management.posts("c1=") == [b"echo:hop"]
    store = open_store(url)
    assert list(store.connections()) == ["c1="]
    assert json.loads(json.dumps(store.load("c1="))) == store.load("c1=")
