"""A FastAPI app with a lifespan, for awslambdaric's multi-process mode (Lambda Managed
Instances: ``AWS_LAMBDA_MAX_CONCURRENCY`` worker processes, each importing this module).

``GET /meet?port=P`` connects to the test's port P, says its process id and waits for the
test's byte: the test releases the requests only once all of them are in flight at once. The
answer shows what the process ran: its id, the id of the process that ran lifespan startup,
how many startups it saw, and the process that first ran the event loop serving it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request

from bridge import Bridge

#: Lifespan startups run in this process.
STARTUPS = 0
#: The attribute of an event loop that names the process that first ran it (the test's
#: launcher sets it on bridge's loop in the parent, before the fork).
LOOP_PID = "first_run_in_pid"


def loop_pid(loop: asyncio.AbstractEventLoop) -> int:
    """The process that first ran ``loop``: this one, unless it was marked before."""
    if not hasattr(loop, LOOP_PID):
        setattr(loop, LOOP_PID, os.getpid())
    pid: int = getattr(loop, LOOP_PID)
    return pid


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    global STARTUPS
    STARTUPS += 1
    loop = asyncio.get_running_loop()
    sys.stdout.write(f"lifespan startup pid={os.getpid()} loop_pid={loop_pid(loop)}\n")
    sys.stdout.flush()
    yield {"pid": os.getpid(), "loop": loop}
    sys.stdout.write(f"lifespan shutdown pid={os.getpid()}\n")
    sys.stdout.flush()


app = FastAPI(lifespan=lifespan)


@app.get("/meet")
async def meet(request: Request, port: int) -> dict[str, Any]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 15)
    try:
        writer.write(f"{os.getpid()}\n".encode())
        await writer.drain()
        released = await asyncio.wait_for(reader.read(1), 15)
    finally:
        writer.close()
        await writer.wait_closed()
    loop = asyncio.get_running_loop()
    return {
        "released": released == b"!",
        "request_id": request.scope["aws.context"].aws_request_id,
        "pid": os.getpid(),
        "startup_pid": request.state.pid,
        "startups": STARTUPS,
        "lifespan_loop": loop is request.state.loop,
        "loop_pid": loop_pid(loop),
    }


handler = Bridge(app, lifespan="on")
