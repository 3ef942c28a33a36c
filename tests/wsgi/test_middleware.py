"""``WSGIMiddleware``: a WSGI application as an ASGI 3 application, one hand-off
per request to the process-wide ``bridge-wsgi`` thread pool."""

from __future__ import annotations

import asyncio
import contextvars
import re
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from bridge import Bridge, ConfigurationError, ProtocolError
from bridge.types import Message, StartResponse
from bridge.wsgi import WSGIMiddleware, get_executor
from bridge.wsgi import middleware as middleware_module
from tests.wsgi.helpers import call
from tests.wsgi.test_response import make_scope

request_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_var", default="unset")
seen: list[dict[str, Any]] = []


def recording_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    body = environ["wsgi.input"].read()
    seen.append(
        {
            "thread": threading.current_thread().name,
            "context": request_var.get(),
            "multithread": environ["wsgi.multithread"],
        }
    )
    request_var.set("changed by the app")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", "a=1")])
    return [b"got ", body]


def run_asgi(
    app: Any,
    scope: dict[str, Any],
    messages: list[Message],
    before: Callable[[], None] | None = None,
) -> list[Message]:
    """Drive an ASGI app with ``messages``; return what it sent."""
    sent: list[Message] = []

    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        if before is not None:
            before()
        await app(scope, receive, send)

    asyncio.run(main())
    return sent


@pytest.fixture(autouse=True)
def _clear_seen() -> None:
    seen.clear()


def test_http_request_in_chunks() -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b"one ", "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": b"two", "more_body": False},
    ]

    sent = run_asgi(WSGIMiddleware(recording_app), make_scope(method="POST"), messages)

    assert sent == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"set-cookie", b"a=1")],
        },
        {"type": "http.response.body", "body": b"got one two", "more_body": False},
    ]


def test_the_app_runs_on_the_named_pool_with_the_callers_context() -> None:
    def set_var() -> None:
        request_var.set("set by ASGI middleware")

    for _ in range(2):
        run_asgi(
            WSGIMiddleware(recording_app),
            make_scope(),
            [{"type": "http.request", "body": b""}],
            before=set_var,
        )

    assert [s["context"] for s in seen] == ["set by ASGI middleware"] * 2
    assert all(s["thread"].startswith("bridge-wsgi_") for s in seen)
    assert all(s["multithread"] for s in seen)
    assert request_var.get() == "unset"


def test_concurrent_requests_do_not_share_state() -> None:
    started = threading.Barrier(4)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started.wait(timeout=10)  # all four are inside the app at once
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Path", environ["PATH_INFO"])])
        return [environ["wsgi.input"].read(), environ["PATH_INFO"].encode()]

    middleware = WSGIMiddleware(app)

    async def one(index: int) -> list[Message]:
        sent: list[Message] = []
        messages: list[Message] = [{"type": "http.request", "body": f"{index}:".encode()}]

        async def receive() -> Message:
            return messages.pop(0)

        async def send(message: Message) -> None:
            sent.append(message)

        await middleware(make_scope(path=f"/r{index}"), receive, send)
        return sent

    async def main() -> list[list[Message]]:
        return await asyncio.gather(*(one(i) for i in range(4)))

    results = asyncio.run(main())

    assert [[m.get("headers", m.get("body")) for m in sent] for sent in results] == [
        [[(b"content-type", b"text/plain"), (b"x-path", f"/r{i}".encode())], f"{i}:/r{i}".encode()]
        for i in range(4)
    ]


def test_exactly_one_hand_off_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    executor = get_executor()
    submitted: list[object] = []
    real_submit = executor.submit

    def counting_submit(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        submitted.append(fn)
        return real_submit(fn, *args, **kwargs)

    monkeypatch.setattr(executor, "submit", counting_submit)
    handler = Bridge(WSGIMiddleware(recording_app), lifespan="off")
    for _ in range(3):
        assert call(handler, "rest", path="/x").body == b"got "

    assert len(submitted) == 3
    assert get_executor() is executor


def test_one_pool_per_process() -> None:
    executor = get_executor()

    assert isinstance(executor, ThreadPoolExecutor)
    assert executor._thread_name_prefix == "bridge-wsgi"
    assert get_executor() is executor


def test_a_forked_child_makes_its_own_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = get_executor()
    monkeypatch.setattr(middleware_module, "_executor", parent)
    middleware_module._forget_executor_after_fork()
    child = get_executor()
    try:
        assert child is not parent
        assert child._thread_name_prefix == "bridge-wsgi"
    finally:
        child.shutdown()


def test_disconnect_before_the_body_is_complete() -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b"part", "more_body": True},
        {"type": "http.disconnect"},
    ]

    assert run_asgi(WSGIMiddleware(recording_app), make_scope(), messages) == []
    assert seen == []


def test_unexpected_message_while_reading_the_body() -> None:
    with pytest.raises(
        ProtocolError, match=re.escape("Expected ASGI message 'http.request', but got")
    ):
        run_asgi(WSGIMiddleware(recording_app), make_scope(), [{"type": "websocket.receive"}])


def test_lifespan_is_answered_at_once() -> None:
    messages: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    sent = run_asgi(WSGIMiddleware(recording_app), {"type": "lifespan"}, messages)

    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


def test_unexpected_lifespan_message() -> None:
    with pytest.raises(
        ProtocolError, match=re.escape("'lifespan.startup' or 'lifespan.shutdown', got 'x'")
    ):
        run_asgi(WSGIMiddleware(recording_app), {"type": "lifespan"}, [{"type": "x"}])


def test_websocket_is_refused() -> None:
    with pytest.raises(ProtocolError, match="'http' connections only, got 'websocket'"):
        run_asgi(WSGIMiddleware(recording_app), {"type": "websocket"}, [])


def test_a_non_callable_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="expects a WSGI application"):
        WSGIMiddleware("app:app")  # type: ignore[arg-type]


def test_under_bridge_it_is_an_asgi_app() -> None:
    handler = Bridge(WSGIMiddleware(recording_app), lifespan="off")

    assert handler.interface == "asgi3"
    assert repr(handler.app) == f"WSGIMiddleware({recording_app!r})"


def test_under_bridge_with_lifespan_auto() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    handler = Bridge(WSGIMiddleware(recording_app))
    try:
        response = call(handler, "rest", path="/x").response
    finally:
        handler.close()
        signal.signal(signal.SIGTERM, previous)

    assert response == {
        "statusCode": 200,
        "headers": {"content-type": "text/plain", "set-cookie": "a=1"},
        "body": "got ",
        "isBase64Encoded": False,
    }
