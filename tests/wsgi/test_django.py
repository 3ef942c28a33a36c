"""Django through WSGI: async views and async-only middleware, URL reversing
and absolute URLs behind a stage or a base path, request_finished."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from bridge import Bridge
from tests.wsgi.conftest import MakeHandler
from tests.wsgi.events import API_DOMAIN, URL_DOMAIN, http_event, rest_event, url_event
from tests.wsgi.frameworks import django_app
from tests.wsgi.helpers import FakeContext, Reply, read_reply


@pytest.fixture
def app() -> Iterator[Any]:
    with django_app.django_settings():
        yield django_app.make_app()


def call(handler: Bridge, event: dict[str, Any]) -> Reply:
    reply = read_reply(handler(event, FakeContext()))
    assert reply.header("x-async-middleware") == "yes"
    assert reply.header("x-middleware-mode") == "sync"
    return reply


def test_async_view_behind_async_only_middleware(app: Any, make_handler: MakeHandler) -> None:
    reply = call(make_handler(app), rest_event(path="/async"))

    assert (reply.status, reply.json()) == (200, {"async": True, "item": "/prod/items/7/"})


def test_handler_called_inside_a_running_loop(app: Any) -> None:
    handler = Bridge(app)

    async def main() -> Reply:
        return call(handler, rest_event(path="/async"))

    reply = asyncio.run(main())

    assert (reply.status, reply.json()) == (200, {"async": True, "item": "/prod/items/7/"})


#: (event, api_gateway_base_path, URL prefix the app should build, origin)
URLCase = tuple[dict[str, Any], str, str, str]


@pytest.mark.parametrize(
    "case",
    [
        (rest_event(path="/items/7/"), "/", "/prod", f"https://{API_DOMAIN}"),
        (http_event(path="/items/7/"), "/", "/prod", f"https://{API_DOMAIN}"),
        (url_event(path="/items/7/"), "/", "", f"https://{URL_DOMAIN}"),
        (
            http_event(path="/api/items/7/", stage="$default", host="api.example.com"),
            "/api",
            "/api",
            "https://api.example.com",
        ),
        (
            http_event(path="/v1/items/7/", stage="live", host="api.example.com"),
            "/v1",
            "/live/v1",
            "https://api.example.com",
        ),
    ],
    ids=["rest-stage", "http-stage", "function-url", "custom-domain", "stage-and-base-path"],
)
def test_reverse_and_absolute_urls(app: Any, make_handler: MakeHandler, case: URLCase) -> None:
    event, base_path, prefix, origin = case
    reply = call(make_handler(app, api_gateway_base_path=base_path), event)

    assert (reply.status, reply.json()) == (
        200,
        {"pk": 7, "reverse": f"{prefix}/items/7/", "absolute": f"{origin}{prefix}/items/7/"},
    )


def test_script_prefix_does_not_leak_between_requests(app: Any, make_handler: MakeHandler) -> None:
    handler = make_handler(app)

    assert call(handler, rest_event(path="/items/1/")).json()["reverse"] == "/prod/items/1/"
    assert call(handler, url_event(path="/items/1/")).json()["reverse"] == "/items/1/"


def test_request_finished_is_sent_once_per_request(app: Any, make_handler: MakeHandler) -> None:
    from django.core.signals import request_finished  # type: ignore[import-untyped]

    finished: list[object] = []

    def receiver(sender: object, **kwargs: object) -> None:
        finished.append(sender)

    request_finished.connect(receiver)
    try:
        handler = make_handler(app)
        call(handler, rest_event(path="/echo"))
        call(handler, rest_event(path="/stream"))
    finally:
        request_finished.disconnect(receiver)

    assert len(finished) == 2


def test_get_wsgi_application_is_detected(app: Any) -> None:
    assert Bridge(app).interface == "wsgi"
    assert call(Bridge(app), url_event(path="/echo")).status == 200
