"""End to end through the AWS Runtime Interface Client.

Each test runs ``python -m awslambdaric MODULE.handler`` in a child process, the way the Lambda
Python runtime starts a function, against the Runtime API server of ``tests/runtime_api.py``, and
checks what the runtime client posts back.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from bridge import Bridge
from bridge.local.events import SOURCE_NAMES, FakeContext, build_event
from bridge.local.responses import read_response
from tests import runtime_process
from tests.local.apps import BINARY, echo, wsgi_echo
from tests.runtime_api import Posted
from tests.runtime_process import FUNCTIONS, Function

#: The keys of each source's response, for a response without repeated headers or cookies.
RESPONSE_KEYS = {
    "rest": {"statusCode", "headers", "body", "isBase64Encoded"},
    "http-v1": {"statusCode", "headers", "body", "isBase64Encoded"},
    "http": {"statusCode", "headers", "body", "isBase64Encoded"},
    "url": {"statusCode", "headers", "body", "isBase64Encoded"},
    "alb": {"statusCode", "statusDescription", "headers", "body", "isBase64Encoded"},
    "alb-multi": {
        "statusCode",
        "statusDescription",
        "multiValueHeaders",
        "body",
        "isBase64Encoded",
    },
    "edge": {"status", "statusDescription", "headers", "body", "bodyEncoding"},
    "lattice": {"statusCode", "statusDescription", "headers", "body", "isBase64Encoded"},
    "lattice-v2": {"statusCode", "statusDescription", "headers", "body", "isBase64Encoded"},
}


def running(handler: str) -> AbstractContextManager[Function]:
    """``python -m awslambdaric HANDLER`` from the functions folder, as the Lambda Python runtime
    starts a function."""
    return runtime_process.running(
        [sys.executable, "-m", "awslambdaric", handler], cwd=FUNCTIONS, _HANDLER=handler
    )


@pytest.fixture(scope="module")
def asgi_function() -> Iterator[Function]:
    with running("asgi_function.handler") as function:
        yield function


def event_for(source: str) -> dict[str, Any]:
    return build_event(
        source,
        method="POST",
        path="/echo",
        query="q=1",
        headers=[("Content-Type", "application/octet-stream"), ("X-Trace", "e2e")],
        body=BINARY,
    )


def expected(app: Any, event: dict[str, Any]) -> Any:
    """What the handler returns for ``event`` when called directly, after JSON."""
    handler = Bridge(app, lifespan="off")
    return json.loads(json.dumps(handler(event, FakeContext())))


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_every_source_through_the_runtime_client(asgi_function: Function, source: str) -> None:
    event = event_for(source)
    posted = asgi_function.invoke(event)
    assert (posted.kind, posted.headers["content-type"]) == ("response", "application/json")
    result = posted.json()
    assert result == expected(echo, event)
    assert set(result) == RESPONSE_KEYS[source]

    response = read_response(source, result)
    assert response.status == 200
    seen = json.loads(response.body)
    assert (seen["method"], seen["path"]) == ("POST", "/echo")
    assert base64.b64decode(seen["body"]) == BINARY
    assert ("x-trace", "e2e") in [(k, v) for k, v in seen["headers"]]


@pytest.mark.parametrize("source", ["http", "edge", "lattice"])
def test_a_binary_response_body_is_exact(asgi_function: Function, source: str) -> None:
    posted = asgi_function.invoke(build_event(source, path="/binary"))
    result = posted.json()
    assert read_response(source, result).body == BINARY
    assert result["body"] == base64.b64encode(BINARY).decode()


def test_a_text_response_body_stays_text(asgi_function: Function) -> None:
    result = asgi_function.invoke(build_event("rest", path="/size/5")).json()
    assert (result["body"], result["isBase64Encoded"]) == ("xxxxx", False)


def test_an_app_exception_is_a_500_response_not_an_invocation_error(
    asgi_function: Function,
) -> None:
    posted = asgi_function.invoke(build_event("http", path="/raise"))
    assert posted.kind == "response"
    assert posted.json()["statusCode"] == 500


def test_an_event_of_no_known_source_is_an_invocation_error(asgi_function: Function) -> None:
    request_id = asgi_function.api.invoke({"hello": "world"})
    posted = asgi_function.answer(request_id)
    assert posted.kind == "error"
    error = posted.json()
    assert error["errorType"] == "UnknownEventError"
    assert "The event matches no HTTP event source" in error["errorMessage"]
    assert error["requestId"] == request_id
    assert asgi_function.alive()  # the runtime goes on to the next invocation


def test_a_wsgi_function_through_the_runtime_client() -> None:
    with running("wsgi_function.handler") as function:
        for source in ("rest", "http", "alb-multi", "edge"):
            event = event_for(source)
            posted = function.invoke(event)
            assert posted.kind == "response", function.log()
            result = posted.json()
            assert result == expected(wsgi_echo, event)
            seen = json.loads(read_response(source, result).body)
            assert base64.b64decode(seen["body"]) == BINARY


def init_error(handler: str) -> tuple[Posted, int]:
    """Start a function that fails to initialise: its init error and exit status."""
    with running(handler) as function:
        posted = function.api.init_error(alive=function.alive)
        status = function.exit_status()
    return posted, status


def test_a_bad_import_path_is_an_init_error() -> None:
    posted, status = init_error("no_such_module.handler")
    assert posted.headers["lambda-runtime-function-error-type"] == "Runtime.ImportModuleError"
    error = posted.json()
    assert error["errorMessage"] == (
        "Unable to import module 'no_such_module': No module named 'no_such_module'"
    )
    assert status == 1


def test_a_missing_handler_attribute_is_an_init_error() -> None:
    posted, status = init_error("asgi_function.no_such_handler")
    assert posted.headers["lambda-runtime-function-error-type"] == "Runtime.HandlerNotFound"
    assert status == 1


def test_lifespan_startup_failing_in_on_mode_is_an_init_error() -> None:
    posted, status = init_error("lifespan_failure.handler")
    error = posted.json()
    assert (
        posted.headers["lambda-runtime-function-error-type"]
        == error["errorType"]
        == "LifespanError"
    )
    assert error["errorMessage"] == "Lifespan startup failed: database unreachable."
    assert status == 1
