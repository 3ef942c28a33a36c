"""``bridge.runtime``'s loop run in the test process (the process tests of ``test_process.py``
cover signals and exits; these cover the same paths where coverage can see them)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bridge.local.events import build_event
from bridge.runtime.main import Runtime, run_forever
from tests.runtime_api import Posted, RuntimeAPIServer

WSGI = "tests.functions.flask_function.app"
ASGI = "tests.functions.fastapi_function.handler"


@contextmanager
def serving(
    spec: str | None, *, concurrency: int = 1
) -> Iterator[tuple[RuntimeAPIServer, Callable[[Callable[[RuntimeAPIServer], None]], int]]]:
    """A Runtime API server, and ``run(drive)``: runs the runtime on this thread while
    ``drive(api)`` runs on another, then stops it; returns the runtime's exit status."""
    with RuntimeAPIServer() as api:
        runtime = Runtime(api.address, spec, concurrency=concurrency)

        def run(drive: Callable[[RuntimeAPIServer], None]) -> int:
            errors: list[BaseException] = []

            def driver() -> None:
                try:
                    drive(api)
                except BaseException as exc:
                    errors.append(exc)
                finally:
                    runtime.stop()

            thread = threading.Thread(target=driver, name="driver")
            thread.start()
            try:
                status = run_forever(runtime.serve)
            finally:
                runtime.stop()
                thread.join(timeout=30)
            if errors:
                raise errors[0]
            return status

        yield api, run


def answer(api: RuntimeAPIServer, event: Any) -> Posted:
    return api.answer(api.invoke(event), alive=lambda: True)


def body(posted: Posted) -> bytes:
    result = posted.json()
    data = result["body"].encode()
    return base64.b64decode(data) if result["isBase64Encoded"] else data


def test_a_wsgi_app_answers_and_a_bridge_error_is_posted() -> None:
    posted: list[Posted] = []

    def drive(api: RuntimeAPIServer) -> None:
        posted.append(answer(api, build_event("http", path="/hello")))
        posted.append(answer(api, {"not": "http"}))
        posted.append(answer(api, build_event("url", path="/context")))

    with serving(WSGI) as (_, run):
        assert run(drive) == 0
    hello, failed, context = posted
    assert body(hello) == b"hello from flask"
    assert (failed.kind, failed.json()["errorType"]) == ("error", "UnknownEventError")
    assert json.loads(body(context))["thread"].startswith("bridge-runtime")


def test_an_asgi_app_with_concurrency_is_served_by_every_worker() -> None:
    posted: list[Posted] = []

    def drive(api: RuntimeAPIServer) -> None:
        posted.extend(answer(api, build_event("http", path=f"/items/{n}")) for n in range(2))
        # Each worker polls on its own connection; the third may start after
        # the two invocations are answered.
        api.wait_for_pollers(3, alive=lambda: True)

    with serving(ASGI, concurrency=3) as (api, run):
        assert run(drive) == 0
        nexts = {s.port for s in api.state.seen if s.path.endswith("/next")}
    assert [json.loads(body(p)) for p in posted] == [{"item_id": n, "q": ""} for n in range(2)]
    assert len(nexts) == 3


def test_unserialisable_results_and_bad_events() -> None:
    posted: list[Posted] = []

    def drive(api: RuntimeAPIServer) -> None:
        posted.append(api.answer(api.invoke(None, raw=b"[1,"), alive=lambda: True))
        posted.append(
            api.answer(
                api.invoke(
                    build_event("http", path="/hello"),
                    headers={"Lambda-Runtime-Cognito-Identity": "[]"},
                ),
                alive=lambda: True,
            )
        )

    with serving(WSGI) as (_, run):
        assert run(drive) == 0
    assert [p.json()["errorType"] for p in posted] == [
        "Runtime.UnmarshalError",
        "Runtime.LambdaContextUnmarshalError",
    ]


@pytest.mark.parametrize(
    ("spec", "error_type"),
    [
        (None, "Runtime.MalformedHandlerName"),
        ("tests.functions.broken_function.app", "RuntimeError"),
        ("tests.functions.lifespan_failure.handler", "LifespanError"),
    ],
)
def test_init_errors(spec: str | None, error_type: str, caplog: pytest.LogCaptureFixture) -> None:
    with serving(spec) as (api, run):
        assert run(lambda api: None) == 1
        (posted,) = [p for p in api.state.posted if p.kind == "init-error"]
    assert posted.json()["errorType"] == error_type
    assert "The function cannot start" in caplog.text


def test_a_runtime_api_that_goes_away_stops_the_runtime_with_1(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with RuntimeAPIServer() as api:
        address = api.address
    # Nothing listens there any more: the first /next fails.
    runtime = Runtime(address, WSGI)
    assert run_forever(runtime.serve) == 1
    assert "The runtime stops" in caplog.text


def test_a_streamed_answer_and_a_buffered_one_from_the_same_app() -> None:
    posted: list[Posted] = []

    def drive(api: RuntimeAPIServer) -> None:
        posted.append(answer(api, build_event("url", path="/cookies")))
        posted.append(answer(api, build_event("url", path="/fail-midway")))
        posted.append(answer(api, build_event("http", path="/cookies")))

    with serving("tests.functions.streaming_function.handler", concurrency=2) as (_, run):
        assert run(drive) == 0
    streamed, failed, buffered = posted
    assert streamed.chunked
    assert streamed.body.endswith(b"\0" * 8 + b"with cookies")
    assert failed.trailers["lambda-runtime-function-error-type"] == "RuntimeError"
    assert not buffered.chunked
    assert body(buffered) == b"with cookies"


def test_a_wsgi_app_streams_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_INVOKE_MODE", "RESPONSE_STREAM")
    posted: list[Posted] = []

    def drive(api: RuntimeAPIServer) -> None:
        posted.append(answer(api, build_event("url", path="/fail-midway")))
        posted.append(answer(api, build_event("url", path="/hello")))

    with serving(WSGI) as (_, run):
        assert run(drive) == 0
    failed, hello = posted
    assert failed.body.endswith(b"partial")
    assert failed.trailers["lambda-runtime-function-error-type"] == "RuntimeError"
    assert hello.body.endswith(b"\0" * 8 + b"hello from flask")
    assert hello.trailers == {}
