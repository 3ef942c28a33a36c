"""Flask, Django, Falcon and Bottle: the same behaviour, served directly and
through ``WSGIMiddleware``, behind a stage and without one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest

from bridge import Bridge
from tests.wsgi.conftest import Serve
from tests.wsgi.frameworks import BINARY, STREAM_CHUNKS
from tests.wsgi.helpers import Reply, call

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


class Place:
    """Where a request comes from: the source, its stage, the root path and host."""

    def __init__(self, source: str, stage: str | None, root: str, host: str) -> None:
        self.source, self.stage, self.root, self.host = source, stage, root, host

    def origin(self) -> str:
        return f"https://{self.host}{self.root}"


#: A REST API's execute-api URL with a stage, and a function URL without one.
PLACES = {
    "rest": Place("rest", "prod", "/prod", "abc123.execute-api.eu-west-1.amazonaws.com"),
    "url": Place("url", None, "", "abc123.lambda-url.eu-west-1.on.aws"),
}


@pytest.fixture(params=sorted(PLACES))
def place(request: pytest.FixtureRequest) -> Place:
    return PLACES[request.param]


@pytest.fixture
def handler(app: Any, serve: Serve) -> Bridge:
    return serve(app)


def get(handler: Bridge, place: Place, path: str, **request: Any) -> Reply:
    return call(handler, place.source, path=path, stage=place.stage, host=place.host, **request)


def test_detected_as_wsgi(app: Any) -> None:
    assert Bridge(app).interface == "wsgi"


def test_echo(handler: Bridge, place: Place) -> None:
    reply = get(handler, place, "/echo", query="x=1&x=caf%C3%A9")

    assert reply.status == 200
    assert (reply.header("content-type") or "").startswith("application/json")
    assert reply.context is not None
    assert reply.json() == {
        "path": "/echo",
        "root": place.root,
        "url": f"{place.origin()}/echo",
        "x": ["1", "café"],
        "request_id": reply.context.aws_request_id,
    }


def test_form_post(handler: Bridge, place: Place) -> None:
    reply = get(
        handler,
        place,
        "/form",
        method="POST",
        headers=[("Content-Type", "application/x-www-form-urlencoded")],
        body=b"name=Zo%C3%AB&tags=a&tags=b",
    )

    assert (reply.status, reply.json()) == (200, {"name": "Zoë", "tags": ["a", "b"]})


def test_json_post(handler: Bridge, place: Place) -> None:
    document = {"n": 1, "s": "é", "list": [True, None]}
    reply = get(
        handler,
        place,
        "/json",
        method="POST",
        headers=[("Content-Type", "application/json")],
        body=b'{"n": 1, "s": "\\u00e9", "list": [true, null]}',
    )

    assert (reply.status, reply.json()) == (200, {"received": document})


def test_multiple_cookies(handler: Bridge, place: Place) -> None:
    reply = get(handler, place, "/cookies")

    assert (reply.status, reply.body) == (200, b"cookies")
    assert [cookie.split(";")[0] for cookie in reply.all("set-cookie")] == ["a=1", "b=2"]


def test_redirect(handler: Bridge, place: Place) -> None:
    reply = get(handler, place, "/redirect")

    assert reply.status == 302
    location = reply.header("location")
    assert location is not None
    assert urljoin(f"{place.origin()}/redirect", location) == f"{place.origin()}/echo"


def test_binary_download(handler: Bridge, place: Place) -> None:
    reply = get(handler, place, "/download")

    assert (reply.status, reply.binary, reply.body) == (200, True, BINARY)
    assert reply.header("content-type") == "application/octet-stream"
    disposition = reply.header("content-disposition")
    assert disposition is not None
    assert disposition.startswith("attachment")
    assert "data.bin" in disposition


def test_streamed_response(handler: Bridge, place: Place) -> None:
    reply = get(handler, place, "/stream")

    assert (reply.status, reply.body) == (200, b"".join(STREAM_CHUNKS))
    assert (reply.header("content-type") or "").startswith("text/plain")


def test_application_error(handler: Bridge, place: Place, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("ERROR")
    reply = get(handler, place, "/boom")

    assert reply.status == 500
    assert any("boom" in (r.getMessage() + str(r.exc_info)) for r in caplog.records)


def test_not_found(handler: Bridge, place: Place) -> None:

    assert get(handler, place, "/nowhere").status == 404
