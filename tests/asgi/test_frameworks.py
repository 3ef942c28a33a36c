"""Real ASGI frameworks behind a stage: routing, URLs, redirects, cookies, files."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from quart import Quart, redirect, url_for
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from bridge.local.events import SOURCE_NAMES
from tests.conftest import HandlerFactory, Reply

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def make_fastapi() -> FastAPI:
    api = FastAPI()

    @api.get("/items/{item}")
    async def item(item: str, request: Request, q: str = "") -> dict[str, Any]:
        return {
            "item": item,
            "q": q,
            "url": str(request.url_for("item", item="other")),
            "state": request.state.started if hasattr(request.state, "started") else None,
        }

    @api.get("/sync")
    def sync_route() -> dict[str, str]:
        return {"ran": "in a worker thread"}

    @api.post("/echo")
    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/octet-stream")

    @api.get("/go")
    async def go(request: Request) -> RedirectResponse:
        return RedirectResponse(str(request.url_for("item", item="there")), status_code=302)

    @api.get("/cookies")
    async def cookies() -> Response:
        response = Response("set", media_type="text/plain")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    @api.get("/image")
    async def image() -> Response:
        return Response(PNG, media_type="image/png")

    return api


def test_fastapi_routes_behind_a_stage(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    result = exchange(
        make_handler(make_fastapi()), "rest", path="/items/x", query="q=1", stage="prod"
    )
    assert result.status == 200
    assert result.json() == {
        "item": "x",
        "q": "1",
        "url": "https://example.com/prod/items/other",
        "state": None,
    }


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_fastapi_on_every_source(
    make_handler: HandlerFactory, exchange: Callable[..., Reply], source: str
) -> None:
    handler = make_handler(make_fastapi())
    assert exchange(handler, source, path="/sync").json() == {"ran": "in a worker thread"}
    body = bytes(range(256))
    assert exchange(handler, source, method="POST", path="/echo", body=body).body == body
    assert exchange(handler, source, path="/image").body == PNG


def test_fastapi_redirect_and_cookies(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    handler = make_handler(make_fastapi())
    redirect = exchange(handler, "http", path="/go", stage="beta")
    assert redirect.status == 302
    assert redirect.all("location") == ["https://example.com/beta/items/there"]
    cookies = exchange(handler, "http", path="/cookies")
    assert [c.split(";")[0] for c in cookies.all("set-cookie")] == ["a=1", "b=2"]


def test_fastapi_trailing_slash_redirect_keeps_the_stage(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    result = exchange(make_handler(make_fastapi()), "rest", path="/items/x/", stage="prod")
    assert result.status == 307
    assert result.all("location") == ["https://example.com/prod/items/x"]


def test_starlette_lifespan_state_reaches_requests(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield {"greeting": "hello from startup"}

    async def home(request: Any) -> JSONResponse:
        return JSONResponse(
            {"greeting": request.state.greeting, "root": request.scope["root_path"]}
        )

    async def missing(request: Any, exc: Any) -> PlainTextResponse:
        return PlainTextResponse("nothing here", status_code=404)

    app = Starlette(routes=[Route("/", home)], lifespan=lifespan, exception_handlers={404: missing})
    handler = make_handler(app, lifespan="on")
    assert exchange(handler, "alb").json() == {"greeting": "hello from startup", "root": ""}
    not_found = exchange(handler, "alb", path="/nope")
    assert (not_found.status, not_found.body) == (404, b"nothing here")


def test_quart_behind_a_base_path(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    app = Quart(__name__)

    @app.route("/hello/<name>")
    async def hello(name: str) -> dict[str, str]:
        return {"name": name, "self": url_for("hello", name=name, _external=True)}

    @app.route("/away")
    async def away() -> Any:
        return redirect(url_for("hello", name="back"))

    handler = make_handler(app, api_gateway_base_path="/api")
    result = exchange(handler, "http", path="/api/hello/q%C3%BC")
    assert result.status == 200
    assert json.loads(result.body) == {
        "name": "qü",
        "self": "https://example.com/api/hello/q%C3%BC",
    }
    moved = exchange(handler, "http", path="/api/away")
    assert (moved.status, moved.all("location")) == (302, ["/api/hello/back"])
