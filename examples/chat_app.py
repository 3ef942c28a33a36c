"""A small chat room over an API Gateway WebSocket API, written with FastAPI.

Clients connect to ``wss://{api}.execute-api.{region}.amazonaws.com/{stage}?name=ada``
and every text they send goes to everyone in the room.  On Lambda the
connection store knows who is in the room (``WEBSOCKET_STORE``, for example
``dynamodb://chat-connections?region=eu-west-1``); under a plain ASGI server
(``uvicorn examples.chat_app:app``) this process does.

Lambda handler: ``examples.chat_app.handler``.
"""

from __future__ import annotations

import os
import tempfile

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from bridge import Bridge
from bridge.websocket import broadcast

app = FastAPI()


class Room:
    """Everyone in the chat."""

    def __init__(self) -> None:
        #: Open connections of this process, used only outside bridge: on
        #: Lambda each message is a new invocation and the store holds the room.
        self.local: set[WebSocket] = set()

    async def join(self, websocket: WebSocket) -> None:
        await websocket.accept()
        if not on_bridge(websocket):
            self.local.add(websocket)

    def leave(self, websocket: WebSocket) -> None:
        self.local.discard(websocket)

    async def say(self, websocket: WebSocket, text: str) -> None:
        if on_bridge(websocket):
            await broadcast(websocket.scope, text)
            return
        for peer in list(self.local):
            await peer.send_text(text)


def on_bridge(websocket: WebSocket) -> bool:
    return "bridge.websocket" in (websocket.scope.get("extensions") or {})


room = Room()


@app.websocket("/")
async def chat(websocket: WebSocket) -> None:
    name = websocket.query_params.get("name", "anonymous")
    await room.join(websocket)
    try:
        while True:
            text = await websocket.receive_text()
            await room.say(websocket, f"{name}: {text}")
    except WebSocketDisconnect:
        room.leave(websocket)


handler = Bridge(
    app,
    websocket_store=os.environ.get(
        "WEBSOCKET_STORE", f"sqlite:///{tempfile.gettempdir()}/bridge-chat.db"
    ),
)
