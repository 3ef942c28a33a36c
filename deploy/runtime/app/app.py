"""The FastAPI app of the deploy/runtime templates, served by ``python -m bridge.runtime``.

The handler setting is ``app.app``: the runtime wraps the app as ``Bridge(app)``.
``/events`` sends server-sent events one at a time, which a function URL in
``RESPONSE_STREAM`` mode passes on as they come when the runtime streams
(``BRIDGE_INVOKE_MODE=RESPONSE_STREAM`` in the templates).
"""

import asyncio
import random
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from bridge import snapstart

app = FastAPI()
#: Made at init, so frozen into a SnapStart snapshot: renewed in every restored copy.
instance = {"id": random.getrandbits(64)}


@snapstart.after_restore
def new_instance_id() -> None:
    instance["id"] = random.getrandbits(64)  # random was reseeded by bridge just before


@app.get("/")
async def hello(name: str = "world") -> dict[str, str]:
    return {"message": f"Hello, {name}!", "instance": f"{instance['id']:016x}"}


@app.get("/events")
async def events(count: int = 5) -> StreamingResponse:
    async def stream() -> AsyncIterator[str]:
        for n in range(count):
            yield f"data: event {n}\n\n"
            await asyncio.sleep(0.5)

    return StreamingResponse(stream(), media_type="text/event-stream")
