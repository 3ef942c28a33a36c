"""The FastAPI app every deploy template in deploy/ runs: ``app.handler``.

HTTP routes behind any HTTP front door, and a chat room behind a WebSocket
API: the templates create the DynamoDB connection table and pass its name
in ``CONNECTIONS_TABLE`` (without it, a local SQLite file keeps connections).
"""

import os

from fastapi import FastAPI, Request, Response, WebSocket, WebSocketDisconnect

from bridge import Bridge
from bridge.websocket import broadcast

app = FastAPI()


@app.get("/")
async def hello(name: str = "world") -> dict[str, str]:
    return {"message": f"Hello, {name}!"}


@app.post("/echo")
async def echo(request: Request) -> Response:
    return Response(await request.body(), media_type=request.headers.get("content-type"))


@app.websocket("/")
async def chat(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            # Each message is one Lambda invocation: the connection table, not
            # this process, knows who else is connected.
            await broadcast(websocket.scope, await websocket.receive_text())
    except WebSocketDisconnect:
        pass


table = os.environ.get("CONNECTIONS_TABLE")
handler = Bridge(
    app,
    websocket_store=f"dynamodb://{table}" if table else "sqlite:///connections.db",
)
