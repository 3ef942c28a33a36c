"""A FastAPI app with a lifespan, served through ``handler = Bridge(app)``."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request

from bridge import Bridge


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    sys.stdout.write("lifespan startup\n")
    sys.stdout.flush()
    yield {"greeting": "hello from fastapi"}
    sys.stdout.write("lifespan shutdown\n")
    sys.stdout.flush()


app = FastAPI(lifespan=lifespan)


@app.get("/hello")
async def hello(request: Request) -> dict[str, str]:
    return {"message": request.state.greeting}


@app.get("/items/{item_id}")
async def item(item_id: int, q: str = "") -> dict[str, Any]:
    return {"item_id": item_id, "q": q}


@app.get("/context")
async def context(request: Request) -> dict[str, Any]:
    lambda_context = request.scope["aws.context"]
    return {"request_id": lambda_context.aws_request_id}


handler = Bridge(app, lifespan="on")
