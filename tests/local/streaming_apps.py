"""Apps that stream: server-sent events from FastAPI (``StreamingResponse``) and Flask (a
generator). ``/sse?gate=PORT`` sends its first event, then connects to the test's socket on
PORT and sends the second only once the test has sent a byte there: the test releases it
after it has read the first event, which proves that event was not held back. ``/broken``
fails after its first event."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from flask import Flask, Response, request

from bridge import Bridge

#: Seconds an app waits for the test to release it.
GATE_TIMEOUT_S = 20.0
FIRST = b"data: one\n\n"
SECOND = b"data: two\n\n"

app = FastAPI()


async def _events(gate: int | None) -> AsyncIterator[bytes]:
    yield FIRST
    if gate is not None:
        reader, writer = await asyncio.open_connection("127.0.0.1", gate)
        try:
            await asyncio.wait_for(reader.read(1), GATE_TIMEOUT_S)
        finally:
            writer.close()
    yield SECOND


async def _broken() -> AsyncIterator[bytes]:
    yield FIRST
    raise RuntimeError("the event source went away")


@app.get("/sse")
async def sse(gate: int | None = None) -> StreamingResponse:
    response = StreamingResponse(_events(gate), media_type="text/event-stream")
    response.headers["x-stream"] = "yes"
    response.set_cookie("seen", "1")
    return response


@app.get("/broken")
async def broken() -> StreamingResponse:
    return StreamingResponse(_broken(), media_type="text/event-stream")


flask_app = Flask(__name__)


def _wait(gate: int) -> None:
    with socket.create_connection(("127.0.0.1", gate), timeout=GATE_TIMEOUT_S) as sock:
        sock.recv(1)


@flask_app.get("/sse")
def flask_sse() -> Response:
    gate = request.args.get("gate", type=int)

    def events() -> Iterator[bytes]:
        yield FIRST
        if gate is not None:
            _wait(gate)
        yield SECOND

    response = Response(events(), mimetype="text/event-stream")
    response.headers["x-stream"] = "yes"
    response.set_cookie("seen", "1")
    return response


@flask_app.get("/broken")
def flask_broken() -> Response:
    def events() -> Iterator[bytes]:
        yield FIRST
        raise RuntimeError("the event source went away")

    return Response(events(), mimetype="text/event-stream")


#: Bridge handlers of the Flask app: ``invoke`` and ``serve`` use their invoke mode.
streaming = Bridge(flask_app, invoke_mode="RESPONSE_STREAM")
buffered = Bridge(flask_app)
