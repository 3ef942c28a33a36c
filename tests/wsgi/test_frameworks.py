"""Flask, Django, Falcon and Bottle: the same behaviour, served directly and
through ``WSGIMiddleware``, behind a stage and without one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest

from bridge import Bridge
from tests.wsgi.conftest import MakeHandler
from tests.wsgi.events import API_DOMAIN, URL_DOMAIN, Builder, rest_event, url_event
from tests.wsgi.frameworks import BINARY, STREAM_CHUNKS
from tests.wsgi.helpers import FakeContext, Reply, read_reply

FRAMEWORKS = ["flask", "django", "falcon", "bottle"]


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def app(framework: str) -> Iterator[Any]:
    if framework == "flask":
        from tests.wsgi.frameworks import flask_app

        yield flask_app.make_app()
    elif framework == "django":
        from tests.wsgi.frameworks import django_app

        with django_app.django_settings():
            yield django_app.make_app()
    elif framework == "falcon":
        from tests.wsgi.frameworks import falcon_app

        yield falcon_app.make_app()
    else:
        from tests.wsgi.frameworks import bottle_app

        yield bottle_app.make_app()


#: (builder, root path, host): a REST API stage, and a function URL without one.
PLACES = {"rest": (rest_event, "/prod", API_DOMAIN), "url": (url_event, "", URL_DOMAIN)}


@pytest.fixture(params=sorted(PLACES))
def place(request: pytest.FixtureRequest) -> tuple[Builder, str, str]:
    return PLACES[request.param]


@pytest.fixture
def handler(app: Any, make_handler: MakeHandler) -> Bridge:
    return make_handler(app)


def get(handler: Bridge, build: Builder, path: str, **options: Any) -> Reply:
    return read_reply(handler(build(path=path, **options), FakeContext()))


def test_detected_as_wsgi(app: Any) -> None:
    assert Bridge(app).interface == "wsgi"


def test_echo(handler: Bridge, place: tuple[Builder, str, str]) -> None:
    build, root, host = place
    reply = get(handler, build, "/echo", query="x=1&x=caf%C3%A9")

    assert reply.status == 200
    assert (reply.header("content-type") or "").startswith("application/json")
    assert reply.json() == {
        "path": "/echo",
        "root": root,
        "url": f"https://{host}{root}/echo",
        "x": ["1", "café"],
        "request_id": "request-id-1",
    }


def test_form_post(handler: Bridge, place: tuple[Builder, str, str]) -> None:
    build, _, _ = place
    reply = get(
        handler,
        build,
        "/form",
        method="POST",
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
        body=b"name=Zo%C3%AB&tags=a&tags=b",
    )

    assert (reply.status, reply.json()) == (200, {"name": "Zoë", "tags": ["a", "b"]})


def test_json_post(handler: Bridge, place: tuple[Builder, str, str]) -> None:
    build, _, _ = place
    document = {"n": 1, "s": "é", "list": [True, None]}
    reply = get(
        handler,
        build,
        "/json",
        method="POST",
        headers=[("Content-Type", "application/json")],
        body=b'{"n": 1, "s": "\\u00e9", "list": [true, null]}',
    )

    assert (reply.status, reply.json()) == (200, {"received": document})


def test_multiple_cookies(handler: Bridge, place: tuple[Builder, str, str]) -> None:
    build, _, _ = place
    reply = get(handler, build, "/cookies")

    assert (reply.status, reply.body) == (200, b"cookies")
    assert [cookie.split(";")[0] for cookie in reply.all("set-cookie")] == ["a=1", "b=2"]


def test_redirect(handler: Bridge, place: tuple[Builder, str, str]) -> None:
    build, root, host = place
    reply = get(handler, build, "/redirect")

    assert reply.status == 302
    location = reply.header("location")
    assert location is not None
    assert urljoin(f"https://{host}{root}/redirect", location) == f"https://{host}{root}/echo"


def test_binary_download(handler: Bridge, place: tuple[Builder, str, str]) -> None:
    build, _, _ = place
    reply = get(handler, build, "/download")

    assert (reply.status, reply.binary, reply.body) == (200, True, BINARY)
    assert reply.header("content-type") == "application/octet-stream"
    disposition = reply.header("content-disposition")
    assert disposition is not None
    assert disposition.startswith("attachment")
    assert "data.bin" in disposition


def test_streamed_response(handler: Bridge, place: tuple[Builder, str, str]) -> None:
    build, _, _ = place
    reply = get(handler, build, "/stream")

    assert (reply.status, reply.body) == (200, b"".join(STREAM_CHUNKS))
    assert (reply.header("content-type") or "").startswith("text/plain")


def test_application_error(
    handler: Bridge, place: tuple[Builder, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    build, _, _ = place
    caplog.set_level("ERROR")
    reply = get(handler, build, "/boom")

    assert reply.status == 500
    assert any("boom" in (r.getMessage() + str(r.exc_info)) for r in caplog.records)


def test_not_found(handler: Bridge, place: tuple[Builder, str, str]) -> None:
    build, _, _ = place

    assert get(handler, build, "/nowhere").status == 404
