"""Django through WSGI: async views and async-only middleware, URL reversing
and absolute URLs behind a stage or a base path, request_finished."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from bridge import Bridge
from tests.wsgi.conftest import Serve
from tests.wsgi.frameworks import django_app
from tests.wsgi.helpers import Reply, call


@pytest.fixture
def app() -> Iterator[Any]:
    with django_app.django_settings():
        yield django_app.make_app()


def get(handler: Bridge, source: str, path: str, **request: Any) -> Reply:
    reply = call(handler, source, path=path, **request)
    assert reply.header("x-async-middleware") == "yes"
    assert reply.header("x-middleware-mode") == "sync"
    return reply


def test_async_view_behind_async_only_middleware(app: Any, serve: Serve) -> None:
    reply = get(serve(app), "rest", "/async", stage="prod")

    assert (reply.status, reply.json()) == (200, {"async": True, "item": "/prod/items/7/"})


def test_handler_called_inside_a_running_loop(app: Any) -> None:
    handler = Bridge(app)

    async def main() -> Reply:
        return get(handler, "rest", "/async", stage="prod")

    reply = asyncio.run(main())

    assert (reply.status, reply.json()) == (200, {"async": True, "item": "/prod/items/7/"})


API = "abc123.execute-api.eu-west-1.amazonaws.com"
URL = "abc123.lambda-url.eu-west-1.on.aws"

#: (source, request, api_gateway_base_path, URL prefix the app should build, origin)
URLCase = tuple[str, dict[str, Any], str, str, str]


@pytest.mark.parametrize(
    "case",
    [
        ("rest", {"path": "/items/7/", "stage": "prod", "host": API}, "/", "/prod", API),
        ("http", {"path": "/items/7/", "stage": "prod", "host": API}, "/", "/prod", API),
        ("http-v1", {"path": "/items/7/", "stage": "prod", "host": API}, "/", "/prod", API),
        ("url", {"path": "/items/7/", "host": URL}, "/", "", URL),
        (
            "http",
            {"path": "/api/items/7/", "host": "api.example.com"},
            "/api",
            "/api",
            "api.example.com",
        ),
        (
            "alb",
            {"path": "/api/items/7/", "host": "api.example.com"},
            "/api",
            "/api",
            "api.example.com",
        ),
        (
            "http",
            {"path": "/v1/items/7/", "stage": "live", "host": "api.example.com"},
            "/v1",
            "/live/v1",
            "api.example.com",
        ),
    ],
    ids=[
        "rest-stage",
        "http-stage",
        "http-v1-stage",
        "function-url",
        "custom-domain",
        "alb-base-path",
        "stage-and-base-path",
    ],
)
def test_reverse_and_absolute_urls(app: Any, serve: Serve, case: URLCase) -> None:
    source, request, base_path, prefix, host = case
    reply = get(serve(app, api_gateway_base_path=base_path), source, **request)

    assert (reply.status, reply.json()) == (
        200,
        {"pk": 7, "reverse": f"{prefix}/items/7/", "absolute": f"https://{host}{prefix}/items/7/"},
    )


def test_script_prefix_does_not_leak_between_requests(app: Any, serve: Serve) -> None:
    handler = serve(app)

    assert get(handler, "rest", "/items/1/", stage="prod").json()["reverse"] == "/prod/items/1/"
    assert get(handler, "url", "/items/1/").json()["reverse"] == "/items/1/"


def test_request_finished_is_sent_once_per_request(app: Any, serve: Serve) -> None:
    from django.core.signals import request_finished  # type: ignore[import-untyped]

    finished: list[object] = []

    def receiver(sender: object, **kwargs: object) -> None:
        finished.append(sender)

    request_finished.connect(receiver)
    try:
        handler = serve(app)
        get(handler, "rest", "/echo")
        get(handler, "rest", "/stream")
    finally:
        request_finished.disconnect(receiver)

    assert len(finished) == 2


def test_get_wsgi_application_is_detected(app: Any) -> None:
    assert Bridge(app).interface == "wsgi"
    assert get(Bridge(app), "url", "/echo").status == 200
