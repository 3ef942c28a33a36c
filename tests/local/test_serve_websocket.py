"""``python -m bridge serve`` with real WebSocket clients (the ``websockets`` package).

Each server is a subprocess on an ephemeral loopback port (see ``running.py``); every wait has
a limit that only guards against hangs.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bridge.local.websocket import LiveConnection, LocalManagementAPI
from bridge.websocket import ConnectionGoneError, open_store

from .apps import BINARY
from .running import APPS, ROOT, Server, main_status, serving

CHAT = "examples/chat_app.py:app"
WS_ECHO = f"{APPS}:websocket_echo"
#: Hang guard for every wait.
LIMIT_S = 10.0


def ws_url(server: Server, target: str = "/") -> str:
    return "ws" + server.url.removeprefix("http") + target


def open_client(
    server: Server, target: str = "/", subprotocols: Sequence[Subprotocol] | None = None
) -> ClientConnection:
    return connect(ws_url(server, target), open_timeout=LIMIT_S, subprotocols=subprotocols)


def receive(client: ClientConnection, count: int) -> list[str | bytes]:
    return [client.recv(timeout=LIMIT_S) for _ in range(count)]


def wait_for_log(server: Server, pattern: str) -> str:
    """The server's log once a line matches ``pattern``."""
    deadline = time.monotonic() + LIMIT_S
    while not re.search(pattern, log := server.log(), re.MULTILINE):
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line matching {pattern!r} in:\n{log}")
        time.sleep(0.02)
    return log


def refusal(server: Server, target: str) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as refused, open_client(server, target):
        pass
    return refused.value


@pytest.fixture(scope="module")
def chat() -> Iterator[Server]:
    with serving(CHAT) as running:
        yield running


@pytest.fixture(scope="module")
def echo() -> Iterator[Server]:
    with serving(WS_ECHO) as running:
        yield running


# -- the chat example


def test_chat_messages_reach_every_client_in_order(chat: Server) -> None:
    names = ("ada", "bob", "cy")
    with ExitStack() as stack:
        clients = {n: stack.enter_context(open_client(chat, f"/?name={n}")) for n in names}
        for i in range(20):
            for name in names:
                clients[name].send(str(i))
        expected = sorted(f"{name}: {i}" for i in range(20) for name in names)
        seen = {name: receive(client, len(expected)) for name, client in clients.items()}
        # Every client got every message, all in the same order...
        assert sorted(map(str, seen["ada"])) == expected
        assert seen["ada"] == seen["bob"] == seen["cy"]
        # ... and each sender's messages in the order they were sent.
        for name in names:
            said = [m for m in seen["ada"] if str(m).startswith(f"{name}: ")]
            assert said == [f"{name}: {i}" for i in range(20)]


def test_a_client_that_leaves_stops_receiving_and_the_others_lose_nothing(chat: Server) -> None:
    with open_client(chat, "/?name=ann") as ann, open_client(chat, "/?name=ben") as ben:
        with open_client(chat, "/?name=leo") as leo:
            ann.send("hello")
            assert receive(leo, 1) == ["ann: hello"]
        wait_for_log(chat, r'"WS DISCONNECT /\?name=leo" 1000 ')
        for i in range(10):
            ben.send(f"after {i}")
        expected = [f"ben: after {i}" for i in range(10)]
        assert receive(ann, 11) == ["ann: hello", *expected]
        assert receive(ben, 11) == ["ann: hello", *expected]
    log = wait_for_log(chat, r'"WS DISCONNECT /\?name=ben" 1000 ')
    # The offending lines themselves, should there be any, are what a failure shows.
    assert [line for line in log.splitlines() if "Traceback" in line] == []
    assert [line for line in log.splitlines() if " ERROR " in line] == []
    assert [line for line in log.splitlines() if " WARNING " in line] == []


# -- the handshake, frames and closes


def test_the_subprotocol_the_app_chose(echo: Server) -> None:
    offered = [Subprotocol("second"), Subprotocol("first")]
    with open_client(echo, subprotocols=offered) as client:
        assert client.subprotocol == "second"


def test_text_frames_stay_text_and_binary_frames_binary(echo: Server) -> None:
    with open_client(echo) as client:
        client.send("héllo")
        client.send(BINARY)
        assert receive(client, 2) == ["echo:héllo", b"echo:" + BINARY]


def test_a_connection_does_not_exist_for_sends_until_its_connect_returned(echo: Server) -> None:
    with open_client(echo, "/?early") as client:
        client.send("hi")
        assert receive(client, 1) == ["echo:hi"]  # and not "too early"
    assert "tests.local.apps: sent during $connect: False" in echo.log()


def test_the_client_close_code_reaches_the_app(echo: Server) -> None:
    with open_client(echo, "/?code") as client:
        client.close(code=4001)
    log = wait_for_log(echo, r'"WS DISCONNECT /\?code" 4001 ')
    assert "tests.local.apps: disconnected with 4001" in log


def test_the_app_closing_closes_the_client(echo: Server) -> None:
    with open_client(echo) as client:
        client.send("close")
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=LIMIT_S)
        assert client.close_code == 1000  # the Management API's DELETE carries no code


def test_a_connect_the_app_rejects_is_refused(echo: Server) -> None:
    refused = refusal(echo, "/?reject")
    assert refused.response.status_code == 403
    wait_for_log(echo, r'"WS CONNECT /\?reject" 403 ')


def test_a_denial_response_keeps_its_status_and_body(echo: Server) -> None:
    refused = refusal(echo, "/?deny")
    assert refused.response.status_code == 401
    assert refused.response.body == b"no entry"


def test_one_access_log_line_per_connect_and_disconnect(echo: Server) -> None:
    with open_client(echo, "/?log=me") as client:
        client.send("x")
        receive(client, 1)
    log = wait_for_log(echo, r'"WS DISCONNECT /\?log=me" 1000 ')
    lines = [line for line in log.splitlines() if "/?log=me" in line]
    assert len(lines) == 2
    assert re.search(r' INFO bridge\.local: 127\.0\.0\.1:\d+ "WS CONNECT /\?log=me" 200 ', lines[0])
    assert re.search(
        r' INFO bridge\.local: 127\.0\.0\.1:\d+ "WS DISCONNECT /\?log=me" 1000 ', lines[1]
    )


def test_http_still_works_next_to_websockets(echo: Server) -> None:
    assert httpx.get(f"{echo.url}/size/3").text == "xxx"


def test_ctrl_c_closes_open_connections_and_the_app_hears_of_it() -> None:
    with serving(WS_ECHO) as running, open_client(running, "/?open") as client:
        client.send("x")
        assert receive(client, 1) == ["echo:x"]
        running.process.send_signal(2)
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=LIMIT_S)
        assert client.close_code == 1012  # service restart
        assert running.process.wait(timeout=LIMIT_S) == 0
        log = running.log()
        assert re.search(r'"WS DISCONNECT /\?open" 1012 ', log)
        assert "tests.local.apps: disconnected with 1012" in log
        assert "Traceback" not in log


# -- route selection


def routes_of(server: Server, frames: list[str]) -> list[str | bytes]:
    """The route key of each frame's MESSAGE, as the app saw it."""
    with open_client(server) as client:
        for frame in frames:
            client.send(frame)
        return receive(client, len(frames))


def test_without_custom_routes_every_frame_is_a_default_message(echo: Server) -> None:
    assert routes_of(echo, ['{"action": "chat"}']) == ["route:$default"]


def test_a_frame_selecting_a_custom_route_is_a_message_on_it() -> None:
    with serving(WS_ECHO, "--websocket-route", "chat", "--websocket-route", "join") as running:
        frames = ['{"action": "chat"}', '{"action": "join"}', '{"action": "leave"}', "{not json"]
        assert routes_of(running, frames) == [
            "route:chat",
            "route:join",
            "route:$default",
            "route:$default",
        ]
        with open_client(running) as client:  # other frames are not touched
            client.send("hi")
            assert receive(client, 1) == ["echo:hi"]


def test_the_route_selection_expression_option() -> None:
    with serving(
        WS_ECHO, "--websocket-route", "join", "--websocket-route-selection", "$request.body.m.kind"
    ) as running:
        frames = ['{"m": {"kind": "join"}}', '{"action": "join"}']
        assert routes_of(running, frames) == ["route:join", "route:$default"]


@pytest.mark.parametrize(
    "expression", ["$request.header.x", "action", "$request.body.", "$request.body.a..b"]
)
def test_a_route_selection_serve_cannot_follow_is_a_usage_error(
    expression: str, in_root: None, capfd: pytest.CaptureFixture[str]
) -> None:
    args = ["serve", WS_ECHO, "--websocket-route-selection", expression, "--port", "0"]
    assert main_status(args) == 2
    err = capfd.readouterr().err
    assert "expected $request.body.FIELD" in err
    assert repr(expression) in err


@pytest.mark.parametrize("route", ["$default", "$connect", ""])
def test_a_reserved_or_empty_custom_route_is_a_usage_error(
    route: str, in_root: None, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main_status(["serve", WS_ECHO, "--websocket-route", route, "--port", "0"]) == 2
    err = capfd.readouterr().err
    assert "expected a custom route key" in err
    assert repr(route) in err


# -- where WebSockets are not served


def test_a_wsgi_app_refuses_websocket_clients() -> None:
    with serving(f"{APPS}:wsgi_echo") as running:
        refused = refusal(running, "/")
        assert refused.response.status_code == 501
        assert b"WSGI has no WebSockets" in (refused.response.body or b"")
        wait_for_log(running, r"ERROR bridge\.local: WebSocket / refused: .* is a WSGI app")


def test_an_existing_bridge_handler_of_an_http_only_app_answers_500() -> None:
    with serving(f"{APPS}:handler") as running:
        refused = refusal(running, "/")
        assert refused.response.status_code == 500
        assert b"the app raised, or ended without answering the handshake" in (
            refused.response.body or b""
        )


def test_the_standard_library_server_refuses_websocket_clients() -> None:
    with serving(WS_ECHO, "--server", "stdlib") as running:
        refused = refusal(running, "/")
        assert refused.response.status_code == 501
        assert b"WebSocket clients need uvicorn" in (refused.response.body or b"")


def test_websocket_store_option(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/connections.db"
    with serving(WS_ECHO, "--websocket-store", url) as running:
        store = open_store(url)
        with open_client(running) as client:
            assert len(list(store.connections())) == 1
            client.close()
        wait_for_log(running, r'"WS DISCONNECT /" 1000 ')
        assert list(store.connections()) == []


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``main`` in-process from the repository root; sys.path is restored after."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))


@pytest.mark.parametrize("app", [f"{APPS}:handler", f"{APPS}:wsgi_echo"])
def test_websocket_store_needs_an_asgi_app(
    app: str, tmp_path: Path, in_root: None, capfd: pytest.CaptureFixture[str]
) -> None:
    args = ["serve", app, "--websocket-store", f"sqlite:///{tmp_path}/x.db", "--port", "0"]
    assert main_status(args) == 2
    err = capfd.readouterr().err
    assert err.startswith("python -m bridge serve: error: --websocket-store needs APP to name")


# -- the local Management API, in-process


def test_sending_to_an_unknown_connection_is_gone() -> None:
    with pytest.raises(ConnectionGoneError):
        LocalManagementAPI().post_to_connection("nobody", b"x")
    LocalManagementAPI().delete_connection("nobody")  # nothing to close: no error


def test_the_management_api_refuses_to_block_the_servers_loop() -> None:
    async def main() -> None:
        api = LocalManagementAPI()

        async def send(message: object) -> None:
            raise AssertionError("not sent")

        connection = LiveConnection(asyncio.get_running_loop(), send)
        connection.connected.set()
        api.add("c1", connection)
        with pytest.raises(RuntimeError, match="call it from another thread"):
            api.post_to_connection("c1", b"x")

    asyncio.run(main())
