"""A FastAPI app for the streaming and work-after-the-response tests of ``bridge.runtime``.

The test decides when the app goes on: the app connects to a port the test listens on
(``?port=``) and waits for one byte from it (at most 15 s), so that what the Runtime API
server received before that byte was sent before the app went on.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator

from fastapi import BackgroundTasks, FastAPI, Response
from fastapi.responses import StreamingResponse

from bridge import Bridge

WAIT_S = 15.0
app = FastAPI()


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), WAIT_S)


async def released(reader: asyncio.StreamReader) -> bool:
    """Wait for the test's byte."""
    return bool(await asyncio.wait_for(reader.read(1), WAIT_S))


@app.get("/sse")
async def sse(port: int) -> StreamingResponse:
    async def events() -> AsyncIterator[bytes]:
        reader, writer = await connect(port)
        try:
            yield b"data: one\n\n"
            await released(reader)  # only once the test has seen the first event
            yield b"data: two\n\n"
        finally:
            writer.close()

    return StreamingResponse(events(), media_type="text/event-stream")


@app.get("/background")
async def background(port: int, tasks: BackgroundTasks) -> dict[str, str]:
    async def after() -> None:
        reader, writer = await connect(port)
        try:
            if await released(reader):
                writer.write(b"done")
                await writer.drain()
        finally:
            writer.close()

    tasks.add_task(after)
    return {"answer": "before the background task"}


@app.get("/fail-midway")
async def fail_midway() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"partial"
        raise RuntimeError("the data source went away")

    return StreamingResponse(chunks(), media_type="text/plain")


@app.get("/empty")
async def empty() -> Response:
    return Response(b"", status_code=200, headers={"x-empty": "yes"})


@app.get("/cookies")
async def cookies() -> Response:
    response = Response(b"with cookies", media_type="text/plain")
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response


#: Four requests at once cross it, or each answers 500 after 15 s.
_arrived = 0
_all_here: asyncio.Event | None = None


@app.get("/barrier")
async def barrier() -> dict[str, object]:
    global _arrived, _all_here
    if _all_here is None:
        _all_here = asyncio.Event()
    _arrived += 1
    if _arrived == 4:
        _all_here.set()
    await asyncio.wait_for(_all_here.wait(), WAIT_S)
    return {"thread": threading.current_thread().name, "loop": id(asyncio.get_running_loop())}


sys.stdout.write("streaming_function imported\n")
sys.stdout.flush()

handler = Bridge(app, invoke_mode="RESPONSE_STREAM")
