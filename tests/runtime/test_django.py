"""End to end: ``python -m bridge.runtime`` serving the Django example project
(``examples/django_project``) as Lambda would, its WSGI and its ASGI application, buffered
and streamed, against the Runtime API server of ``tests/runtime_api.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bridge.local.events import build_event
from tests.runtime_process import ROOT, Function

from .test_process import body_of, get, running
from .test_streaming import split

PROJECT = ROOT / "examples" / "django_project"


@pytest.fixture(scope="module", params=["mysite.wsgi.application", "mysite.asgi.application"])
def django_function(request: pytest.FixtureRequest) -> Iterator[Function]:
    """The project's application named by the handler, its folder the task root."""
    with running(request.param, LAMBDA_TASK_ROOT=str(PROJECT)) as function:
        yield function


def test_a_view_answers_with_the_query_it_was_given(django_function: Function) -> None:
    for name in ("Lambda", "Django"):
        posted = django_function.invoke(get("/", query=f"name={name}"))
        assert posted.kind == "response"
        result = posted.json()
        assert result["statusCode"] == 200
        assert result["headers"]["content-type"] == "application/json"
        assert json.loads(body_of(posted)) == {"message": f"Hello, {name}!"}


def test_a_binary_body_goes_through_byte_exact(django_function: Function) -> None:
    payload = bytes(range(256)) * 4
    event = build_event(
        "rest",
        method="POST",
        path="/echo",
        headers=[("Content-Type", "application/octet-stream")],
        body=payload,
    )
    posted = django_function.invoke(event)
    assert posted.json()["statusCode"] == 200
    assert body_of(posted) == payload


def test_an_unknown_path_is_djangos_404(django_function: Function) -> None:
    posted = django_function.invoke(get("/missing"))
    assert posted.kind == "response"
    assert posted.json()["statusCode"] == 404
    # ... and the runtime goes on serving.
    assert django_function.invoke(get("/")).json()["statusCode"] == 200


@pytest.mark.parametrize("handler", ["mysite.wsgi.application", "mysite.asgi.application"])
def test_a_function_url_request_is_streamed(handler: str) -> None:
    with running(
        handler, LAMBDA_TASK_ROOT=str(PROJECT), BRIDGE_INVOKE_MODE="RESPONSE_STREAM"
    ) as function:
        posted = function.invoke(build_event("url", method="GET", path="/", query="name=x"))
    assert posted.headers["lambda-runtime-function-response-mode"] == "streaming"
    assert posted.chunked
    prelude, body = split(posted)
    assert prelude["statusCode"] == 200
    assert prelude["headers"]["content-type"] == "application/json"
    assert json.loads(body) == {"message": "Hello, x!"}
