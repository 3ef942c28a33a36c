"""examples/chat_app.py: the FastAPI chat, on Lambda events and under a plain server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import ModuleType

import pytest

from bridge import Bridge
from bridge.types import ASGIApp, Message
from bridge.websocket.events import connect_event, disconnect_event, message_event
from tests.websocket import servers
from tests.websocket.conftest import WebSocketHandlerFactory


@pytest.fixture(scope="module")
def chat_app() -> Iterator[ModuleType]:
    from examples import chat_app

    yield chat_app
    chat_app.handler.close()


def test_the_module_exposes_a_lambda_handler(chat_app: ModuleType) -> None:
    assert isinstance(chat_app.handler, Bridge)


def test_chat_on_lambda_events(
    chat_app: ModuleType,
    make_ws_handler: WebSocketHandlerFactory,
    management: servers.ManagementStub,
) -> None:
    handler = make_ws_handler(chat_app.app, websocket_endpoint=management.url, lifespan="auto")
    assert handler(connect_event("ada=", query="name=ada"))["statusCode"] == 200
    assert handler(connect_event("bob=", query="name=bob"))["statusCode"] == 200
    assert handler(message_event("ada=", "hello"))["statusCode"] == 200
    assert management.posts("ada=") == [b"ada: hello"]
    assert management.posts("bob=") == [b"ada: hello"]
    assert handler(disconnect_event("bob=", status_code=1001))["statusCode"] == 200
    handler(message_event("ada=", "anyone?"))
    assert management.posts("ada=") == [b"ada: hello", b"ada: anyone?"]
    assert management.posts("bob=") == [b"ada: hello"]
    assert chat_app.room.local == set()


class Client:
    """One WebSocket client talking to the app directly over ASGI."""

    def __init__(self, app: ASGIApp, name: str) -> None:
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "ws",
            "path": "/",
            "raw_path": b"/",
            "root_path": "",
            "query_string": f"name={name}".encode(),
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "subprotocols": [],
        }
        self.inbox.put_nowait({"type": "websocket.connect"})
        self.task = asyncio.ensure_future(app(scope, self.inbox.get, self.outbox.put))

    async def expect(self) -> Message:
        return await self.outbox.get()


def test_chat_under_a_plain_asgi_server(chat_app: ModuleType) -> None:
    async def talk() -> list[Message]:
        ada, bob = Client(chat_app.app, "ada"), Client(chat_app.app, "bob")
        seen = [await ada.expect(), await bob.expect()]
        ada.inbox.put_nowait({"type": "websocket.receive", "text": "hi bob"})
        seen += [await bob.expect(), await ada.expect()]
        for client in (ada, bob):
            client.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
            await client.task
        return seen

    seen = asyncio.run(talk())
    assert [m["type"] for m in seen[:2]] == ["websocket.accept", "websocket.accept"]
    assert seen[2:] == [{"type": "websocket.send", "text": "ada: hi bob"}] * 2
    assert chat_app.room.local == set()
