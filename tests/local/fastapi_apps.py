"""FastAPI and Flask apps for ``serve``: WebSocket routes at several paths, the FastAPI docs'
in-memory ``ConnectionManager`` chat, URLs built behind a stage or base path."""

from __future__ import annotations

import io

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import RedirectResponse
from flask import Flask, redirect, send_file, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from bridge import Bridge

app = FastAPI()


@app.websocket("/ws")
async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        text = await websocket.receive_text()
        await websocket.send_text(f"ws:{text}")


@app.websocket("/rooms/{room}")
async def rooms(websocket: WebSocket, room: str) -> None:
    await websocket.accept()
    while True:
        text = await websocket.receive_text()
        await websocket.send_text(f"{room}:{websocket.url.path}:{text}")


@app.get("/where")
async def where(request: Request) -> dict[str, str]:
    return {
        "root_path": request.scope.get("root_path", ""),
        "path": request.url.path,
        "url_for": str(request.url_for("where")),
    }


@app.get("/go")
async def go(request: Request) -> RedirectResponse:
    return RedirectResponse(request.url_for("where"))


#: An existing handler whose WebSocket connections have the path /ws on Lambda.
handler = Bridge(app, websocket_path="/ws", lifespan="off")


class ConnectionManager:
    """As in FastAPI's WebSockets docs: connections kept in a list in memory."""

    def __init__(self) -> None:
        self.active_connections: list[WebSocket] = []

    async def connect(self, websocket: WebSocket) -> None:
        await websocket.accept()
        self.active_connections.append(websocket)

    def disconnect(self, websocket: WebSocket) -> None:
        self.active_connections.remove(websocket)

    async def send_personal_message(self, message: str, websocket: WebSocket) -> None:
        await websocket.send_text(message)

    async def broadcast(self, message: str) -> None:
        for connection in self.active_connections:
            await connection.send_text(message)


manager = ConnectionManager()
chat = FastAPI()


@chat.websocket("/ws/{client_id}")
async def chat_endpoint(websocket: WebSocket, client_id: int) -> None:
    await manager.connect(websocket)
    try:
        while True:
            data = await websocket.receive_text()
            await manager.send_personal_message(f"You wrote: {data}", websocket)
            await manager.broadcast(f"Client #{client_id} says: {data}")
    except WebSocketDisconnect:
        manager.disconnect(websocket)
        await manager.broadcast(f"Client #{client_id} left the chat")


flask_app = Flask(__name__)


@flask_app.get("/where")
def flask_where() -> dict[str, str]:
    return {
        "url_for": url_for("flask_where"),
        "external": url_for("flask_where", _external=True),
    }


@flask_app.get("/go")
def flask_go() -> WerkzeugResponse:
    return redirect(url_for("flask_where"))


@flask_app.get("/file")
def flask_file() -> WerkzeugResponse:
    return send_file(io.BytesIO(b"file body"), mimetype="text/plain", download_name="a.txt")
