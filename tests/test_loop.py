"""One event loop per process, reused, and never installed as the current one."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bridge import LoopError
from bridge.local.events import build_event
from tests.apps import read_body
from tests.conftest import HandlerFactory


class LoopRecorder:
    def __init__(self) -> None:
        self.loops: list[asyncio.AbstractEventLoop] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.loops.append(asyncio.get_running_loop())
        await read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def test_every_invocation_and_handler_uses_the_same_loop(make_handler: HandlerFactory) -> None:
    app = LoopRecorder()
    first, second = make_handler(app, lifespan="off"), make_handler(app, lifespan="off")
    for _ in range(3):
        first(build_event("http"))
        second(build_event("alb"))
    assert len({id(loop) for loop in app.loops}) == 1


def test_the_threads_current_loop_is_left_alone(make_handler: HandlerFactory) -> None:
    mine = asyncio.new_event_loop()
    asyncio.set_event_loop(mine)
    try:
        app = LoopRecorder()
        make_handler(app, lifespan="off")(build_event("http"))
        assert app.loops[0] is not mine
        assert asyncio.get_event_loop() is mine
    finally:
        asyncio.set_event_loop(None)
        mine.close()


def test_asyncio_run_elsewhere_does_not_break_the_next_invocation(
    make_handler: HandlerFactory,
) -> None:
    app = LoopRecorder()
    handler = make_handler(app, lifespan="off")
    handler(build_event("http"))

    async def unrelated() -> int:
        await asyncio.sleep(0)
        return 7

    assert asyncio.run(unrelated()) == 7
    assert handler(build_event("http"))["statusCode"] == 200
    assert app.loops[0] is app.loops[1]


def test_calling_from_inside_a_running_loop_is_explained(make_handler: HandlerFactory) -> None:
    handler = make_handler(LoopRecorder(), lifespan="off")

    async def misuse() -> None:
        handler(build_event("http"))

    with pytest.raises(LoopError, match=r"asyncio.to_thread\(handler, event, context\)"):
        asyncio.run(misuse())


def test_calling_from_a_worker_thread_inside_async_code_works(
    make_handler: HandlerFactory,
) -> None:
    handler = make_handler(LoopRecorder(), lifespan="off")

    async def proper() -> dict[str, Any]:
        return await asyncio.to_thread(handler, build_event("http"), None)

    assert asyncio.run(proper())["statusCode"] == 200


class _Hello(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = f"hello {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def upstream() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_async_client_created_at_startup_keeps_working(
    make_handler: HandlerFactory, upstream: str
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    scope["state"]["client"] = httpx.AsyncClient(base_url=upstream)
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await scope["state"]["client"].aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await read_body(receive)
        reply = await scope["state"]["client"].get(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": reply.content})

    handler = make_handler(app, lifespan="on")
    bodies = [handler(build_event("http", path=f"/call{i}"))["body"] for i in range(3)]
    assert bodies == ["aGVsbG8gL2NhbGww", "aGVsbG8gL2NhbGwx", "aGVsbG8gL2NhbGwy"]
