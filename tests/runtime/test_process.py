"""End to end: ``python -m bridge.runtime`` as a process, against the Runtime API server of
``tests/runtime_api.py``, with a Flask and a FastAPI app."""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from bridge.local.events import build_event
from tests import runtime_process
from tests.runtime_api import FUNCTION_ARN, TRACE_ID, Posted
from tests.runtime_process import ROOT, WAIT_S, Function


def running(handler: str | None, **environ: str) -> AbstractContextManager[Function]:
    """``python -m bridge.runtime [HANDLER]`` as Lambda would start it."""
    return runtime_process.running(
        [sys.executable, "-m", "bridge.runtime", *([handler] if handler else [])],
        cwd=None,  # a temporary folder, not the functions folder: LAMBDA_TASK_ROOT finds them
        **environ,
    )


def get(path: str, source: str = "http", query: str = "") -> dict[str, Any]:
    return build_event(source, method="GET", path=path, query=query)


def body_of(posted: Posted) -> bytes:
    result = posted.json()
    body = result["body"].encode()
    return base64.b64decode(body) if result["isBase64Encoded"] else body


@pytest.fixture(scope="module")
def flask_function() -> Iterator[Function]:
    with running("flask_function.app") as function:
        yield function


def test_flask_invocations_are_answered_in_order(flask_function: Function) -> None:
    for _ in range(3):
        posted = flask_function.invoke(get("/hello"))
        assert posted.kind == "response"
        assert posted.headers["content-type"] == "application/json"
        assert posted.json()["statusCode"] == 200
        assert body_of(posted) == b"hello from flask"


def test_a_binary_body_arrives_byte_exact(flask_function: Function) -> None:
    payload = bytes(range(256)) * 4
    event = build_event(
        "url",
        method="POST",
        path="/echo",
        headers=[("Content-Type", "application/octet-stream")],
        body=payload,
    )
    posted = flask_function.invoke(event)
    assert body_of(posted) == payload


def test_one_keep_alive_connection_serves_every_request(flask_function: Function) -> None:
    for _ in range(2):
        flask_function.invoke(get("/hello"))
    ports = {seen.port for seen in flask_function.api.state.seen}
    assert len(ports) == 1


def test_the_context_carries_the_runtime_headers(flask_function: Function) -> None:
    identity = {"cognitoIdentityId": "us-east-1:abc", "cognitoIdentityPoolId": "us-east-1:pool"}
    client = {"custom": {"plan": "gold"}, "env": {}, "client": {"app_title": "t"}}
    request_id = flask_function.api.invoke(
        get("/context"),
        headers={
            "Lambda-Runtime-Aws-Tenant-Id": "tenant-42",
            "Lambda-Runtime-Cognito-Identity": json.dumps(identity),
            "Lambda-Runtime-Client-Context": json.dumps(client),
        },
    )
    seen = json.loads(body_of(flask_function.answer(request_id)))
    assert seen == {
        "request_id": request_id,
        "function_arn": FUNCTION_ARN,
        "function_name": "bridge-runtime",
        "memory": "512",
        "remaining_positive": True,
        "tenant_id": "tenant-42",
        "identity_id": "us-east-1:abc",
        "client_custom": {"plan": "gold"},
        "trace_env": TRACE_ID,
        "thread": seen["thread"],
    }
    assert seen["thread"].startswith("bridge-runtime")


def test_a_non_http_event_is_reported_to_the_error_route(flask_function: Function) -> None:
    posted = flask_function.invoke({"Records": [{"eventSource": "aws:sqs", "body": "x"}]})
    assert posted.kind == "error"
    error = posted.json()
    assert error["errorType"] == "UnknownEventError"
    assert posted.headers["lambda-runtime-function-error-type"] == "UnknownEventError"
    assert error["errorMessage"]
    assert isinstance(error["stackTrace"], list)
    assert error["stackTrace"]
    # ... and the runtime goes on serving.
    assert flask_function.invoke(get("/hello")).kind == "response"


def test_an_application_error_reaches_lambda_but_its_body_not_the_log() -> None:
    with running("failing_function.handler") as function:
        posted = function.invoke(get("/fail"))
        assert posted.kind == "error"
        error = posted.json()
        assert error["errorType"] == "ApplicationError"
        assert "4111-1111" in error["errorMessage"]
        assert function.stop() == 0
        log = function.log()
        assert "the application answered GET /fail with status 500" in log
        assert "4111" not in log


def test_non_http_events_give_the_apps_result_or_fail_the_invocation() -> None:
    sqs = {
        "Records": [
            {"messageId": "m1", "eventSource": "aws:sqs", "body": "fine"},
            {"messageId": "m2", "eventSource": "aws:sqs", "body": "bad"},
        ]
    }
    with running("events_function.handler") as function:
        posted = function.invoke(sqs)
        assert posted.kind == "response"
        assert posted.json() == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
        failed = function.invoke({"source": "aws.events", "detail-type": "Scheduled Event"})
        assert failed.kind == "error"
        assert failed.json()["errorType"] == "ApplicationError"
        assert "status 422" in failed.json()["errorMessage"]
        assert failed.headers["lambda-runtime-function-error-type"] == "ApplicationError"
        # The warm-up ping never reaches the app.
        assert function.invoke({"source": "serverless-plugin-warmup"}).json() == {}
        assert function.stop() == 0


def test_an_event_that_is_not_json_is_an_unmarshal_error(flask_function: Function) -> None:
    posted = flask_function.invoke(None, raw=b"{not json")
    assert posted.kind == "error"
    assert posted.json()["errorType"] == "Runtime.UnmarshalError"
    assert posted.headers["lambda-runtime-function-error-type"] == "Runtime.UnmarshalError"


def test_a_malformed_client_context_is_a_context_error(flask_function: Function) -> None:
    posted = flask_function.invoke(
        get("/hello"), headers={"Lambda-Runtime-Client-Context": "not json"}
    )
    assert posted.kind == "error"
    assert posted.json()["errorType"] == "Runtime.LambdaContextUnmarshalError"


def test_fastapi_with_lifespan_and_sigterm() -> None:
    with running("fastapi_function.handler") as function:
        posted = function.invoke(get("/hello"))
        assert json.loads(body_of(posted)) == {"message": "hello from fastapi"}
        posted = function.invoke(get("/items/7", "rest", query="q=x"))
        assert json.loads(body_of(posted)) == {"item_id": 7, "q": "x"}
        request_id = function.api.invoke(get("/context"))
        assert json.loads(body_of(function.answer(request_id))) == {"request_id": request_id}
        # SIGTERM while the runtime waits in /next: lifespan shutdown, then exit 0.
        function.api.wait_for_next(4, alive=function.alive)
        assert function.stop() == 0
        log = function.log()
        assert log.count("lifespan startup") == 1
        assert log.count("lifespan shutdown") == 1
        assert "Traceback" not in log
        assert "Warning" not in log


def test_sigterm_exits_0_for_a_wsgi_app() -> None:
    with running("flask_function.app") as function:
        function.api.wait_for_next(1, alive=function.alive)
        assert function.stop() == 0
        assert function.log() == ""


def test_four_invocations_run_at_once_with_max_concurrency_4() -> None:
    with running("flask_function.app", AWS_LAMBDA_MAX_CONCURRENCY="4") as function:
        ids = [function.api.invoke(get("/barrier")) for _ in range(4)]
        answers = [function.answer(request_id) for request_id in ids]
        # Each crossed a barrier that needs four parties at once (15 s limit, or 500).
        assert [posted.json()["statusCode"] for posted in answers] == [200] * 4
        threads = {body_of(posted) for posted in answers}
        assert len(threads) == 4
        # One connection per worker.
        assert len({seen.port for seen in function.api.state.seen}) == 4
        # Invocations at once share the environment: the trace id is not put there.
        context = json.loads(body_of(function.invoke(get("/context"))))
        assert context["trace_env"] is None
        assert function.stop() == 0


@contextmanager
def held_invocation(function: Function) -> Iterator[tuple[str, socket.socket]]:
    """An invocation of ``/hold`` in flight: its request id and the socket that releases it."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(WAIT_S)
        port = listener.getsockname()[1]
        request_id = function.api.invoke(get("/hold", query=f"port={port}"))
        held, _ = listener.accept()  # the app is running the invocation now
        with held:
            yield request_id, held


def test_sigterm_lets_the_invocation_in_flight_post_its_answer() -> None:
    with running("flask_function.app") as function, held_invocation(function) as (request_id, held):
        function.process.send_signal(signal.SIGTERM)
        held.sendall(b"!")
        assert body_of(function.answer(request_id)) == b"released"
        assert function.process.wait(timeout=WAIT_S) == 0


def test_sigterm_while_a_wsgi_app_waits_for_an_invocation_ends_the_wait() -> None:
    # The blocking worker (a WSGI app, one invocation at a time) waits in
    # /next on a thread: SIGTERM interrupts that wait rather than the budget.
    with running("flask_function.app") as function:
        assert body_of(function.invoke(get("/hello"))) == b"hello from flask"
        function.api.wait_for_next(2, alive=function.alive)
        assert function.stop() == 0
        assert "still running" not in function.log()


def test_sigterm_with_an_invocation_stuck_exits_within_the_budget() -> None:
    with running("flask_function.app") as function, held_invocation(function):
        function.process.send_signal(signal.SIGTERM)
        assert function.process.wait(timeout=WAIT_S) == 0
        assert "1 invocation(s) still running after 1.5 s" in function.log()


def test_an_asgi_app_with_max_concurrency_runs_its_lifespan_once() -> None:
    with running("fastapi_function.handler", AWS_LAMBDA_MAX_CONCURRENCY="4") as function:
        ids = [function.api.invoke(get("/hello")) for _ in range(6)]
        for request_id in ids:
            posted = function.answer(request_id)
            assert json.loads(body_of(posted)) == {"message": "hello from fastapi"}
        assert len({s.port for s in function.api.state.seen if s.path.endswith("/next")}) == 4
        assert function.stop() == 0
        assert function.log() == "lifespan startup\nlifespan shutdown\n"


def test_an_import_failure_is_an_init_error_then_a_non_zero_exit() -> None:
    with running("broken_function.app") as function:
        posted = function.api.init_error(alive=function.alive)
        assert function.process.wait(timeout=WAIT_S) == 1
        error = posted.json()
        assert error["errorType"] == "RuntimeError"
        assert error["errorMessage"] == "DATABASE_URL is not set"
        assert posted.headers["lambda-runtime-function-error-type"] == "RuntimeError"
        assert any("broken_function.py" in frame for frame in error["stackTrace"])
        assert not [p for p in function.api.state.seen if p.path.endswith("/next")]


@pytest.mark.parametrize(
    ("handler", "error_type"),
    [
        ("no_such_module.app", "Runtime.ImportModuleError"),
        ("flask_function.nothing", "Runtime.HandlerNotFound"),
        ("handler_without_a_dot", "Runtime.MalformedHandlerName"),
    ],
)
def test_a_bad_handler_setting_is_an_init_error(handler: str, error_type: str) -> None:
    with running(None, _HANDLER=handler) as function:
        posted = function.api.init_error(alive=function.alive)
        assert function.process.wait(timeout=WAIT_S) == 1
        assert posted.json()["errorType"] == error_type
        assert posted.headers["lambda-runtime-function-error-type"] == error_type


def test_lifespan_on_startup_failure_is_an_init_error() -> None:
    with running("lifespan_failure.handler") as function:
        posted = function.api.init_error(alive=function.alive)
        assert function.process.wait(timeout=WAIT_S) == 1
        assert posted.json()["errorType"] == "LifespanError"


def test_snap_start_asks_for_restore_before_the_first_invocation() -> None:
    with running("flask_function.app", AWS_LAMBDA_INITIALIZATION_TYPE="snap-start") as function:
        assert function.invoke(get("/hello")).kind == "response"
        paths = [seen.path for seen in function.api.state.seen]
        assert paths[0].endswith("/restore/next")
        assert function.api.state.restores == 1
        assert function.stop() == 0


def test_without_a_runtime_api_the_command_says_what_it_needs() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bridge.runtime", "app.handler"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=WAIT_S,
        check=False,
    )
    assert completed.returncode == 2
    assert b"AWS_LAMBDA_RUNTIME_API is not set" in completed.stderr
    assert b"Traceback" not in completed.stderr
