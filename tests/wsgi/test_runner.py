"""``Bridge(wsgi_app)``: detection, and the application called on the invoking thread."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import pytest

from bridge import Bridge, ConfigurationError
from bridge.types import HTTPScope, StartResponse
from bridge.wsgi import WSGIRunner
from tests.wsgi.helpers import call
from tests.wsgi.test_response import make_scope

ROOT = Path(__file__).resolve().parents[2]


def thread_name_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [threading.current_thread().name.encode()]


def test_the_app_runs_on_the_invoking_thread() -> None:
    handler = Bridge(thread_name_app)
    names = []

    def invoke() -> None:
        names.append(call(handler, "http").body.decode())

    worker = threading.Thread(target=invoke, name="lambda-invoker")
    worker.start()
    worker.join()

    assert names == ["lambda-invoker"]
    assert call(handler, "http").body.decode() == threading.current_thread().name


def test_no_event_loop_and_no_threads_are_involved() -> None:
    """Importing bridge and serving a WSGI app imports neither asyncio nor a thread pool."""
    script = textwrap.dedent(
        """
        import sys, threading
        from bridge import Bridge
        from bridge.local.events import build_event

        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]

        response = Bridge(app)(build_event("rest", path="/x"), None)
        assert response["body"] == "ok", response
        loaded = sorted(m for m in ("asyncio", "concurrent.futures") if m in sys.modules)
        print(loaded, threading.active_count())
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-X", "dev", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "[] 1\n"


def test_called_from_inside_a_running_loop_the_app_runs_off_the_loop() -> None:
    handler = Bridge(thread_name_app)

    async def main() -> str:
        return call(handler, "http").body.decode()

    assert asyncio.run(main()).startswith("bridge-wsgi_")


class ClassApp:
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"instance"]


def two_args(environ: dict[str, Any], start_response: StartResponse, extra: str) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [extra.encode()]


@pytest.mark.parametrize(
    ("app", "body"),
    [
        (thread_name_app, threading.current_thread().name),
        (ClassApp(), "instance"),
        (functools.partial(two_args, extra="partial"), "partial"),
    ],
    ids=["function", "instance", "partial"],
)
def test_wsgi_shapes_are_detected(app: Any, body: str) -> None:
    handler = Bridge(app)

    assert handler.interface == "wsgi"
    assert call(handler, "http").body.decode() == body


def test_interface_wsgi_forces_an_ambiguous_callable() -> None:
    def looks_like_asgi2(
        environ: dict[str, Any], start_response: StartResponse | None = None
    ) -> list[bytes]:
        assert start_response is not None
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"forced"]

    assert Bridge(looks_like_asgi2).interface == "asgi2"
    handler = Bridge(looks_like_asgi2, interface="wsgi")

    assert handler.interface == "wsgi"
    assert call(handler, "http").body == b"forced"


def test_lifespan_on_is_refused_for_wsgi() -> None:
    with pytest.raises(ConfigurationError, match="lifespan='on' needs an ASGI application"):
        Bridge(thread_name_app, lifespan="on")


def test_close_is_harmless_and_repeatable() -> None:
    handler = Bridge(thread_name_app)
    handler.close()
    handler.close()

    assert call(handler, "http").status == 200


def test_runner_directly() -> None:
    runner = WSGIRunner(thread_name_app)

    response = runner.handle(cast(HTTPScope, make_scope()), b"")

    assert (response.status, response.headers) == (200, [("content-type", "text/plain")])
    assert response.body() == threading.current_thread().name.encode()


# ------------------------------------------------- context isolation


REQUEST_USER: contextvars.ContextVar[str] = contextvars.ContextVar("request_user", default="-")


def _context_flask_app() -> Any:
    import flask

    app = flask.Flask("context")

    @app.route("/<name>")
    def who(name: str) -> str:
        seen = REQUEST_USER.get()
        if name != "anonymous":
            REQUEST_USER.set(name)
        return seen

    return app


class _PlainSource:
    """A custom event source (a WSGI app behind it goes through WSGIRunner.handle)."""

    name = "plain"

    def matches(self, event: Any) -> bool:
        return isinstance(event, dict) and "plain_path" in event

    def to_request(self, event: Any, context: Any, config: Any) -> tuple[Any, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "https",
            "path": event["plain_path"],
            "raw_path": event["plain_path"].encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"example.com")],
            "server": ("example.com", 443),
            "client": None,
        }
        return scope, b""

    def to_response(self, event: Any, status: int, headers: Any, body: bytes, config: Any) -> Any:
        return {"statusCode": status, "body": body.decode()}


@pytest.mark.parametrize("source", ["http", "rest", "alb", "custom"])
def test_a_context_variable_set_in_one_request_is_gone_in_the_next(source: str) -> None:
    """Each WSGI call runs in a fresh copy of the invoking context, as ASGI
    requests do: what a request sets is seen by neither the next request
    nor another handler in the process."""
    if source == "custom":
        handlers = [Bridge(_context_flask_app(), custom_handlers=[_PlainSource()]) for _ in "ab"]

        def body(handler: Bridge, path: str) -> str:
            return str(handler({"plain_path": path}, None)["body"])
    else:
        handlers = [Bridge(_context_flask_app()) for _ in "ab"]

        def body(handler: Bridge, path: str) -> str:
            return call(handler, source, path=path).body.decode()

    first, second = handlers
    assert body(first, "/alice") == "-"
    assert body(first, "/anonymous") == "-"
    assert body(second, "/anonymous") == "-"
    assert REQUEST_USER.get() == "-"


def test_the_invoking_context_is_seen_by_the_app() -> None:
    """A copy, not an empty context: what the caller set is visible."""
    handler = Bridge(_context_flask_app())
    token = REQUEST_USER.set("caller")
    try:
        assert call(handler, "http", path="/bob").body.decode() == "caller"
        assert REQUEST_USER.get() == "caller"
    finally:
        REQUEST_USER.reset(token)
