"""End to end: streamed responses and work after the response, with ``python -m bridge.runtime``
serving FastAPI apps (``tests/functions/streaming_function.py``) against the Runtime API server."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bridge.local.events import build_event
from bridge.runtime.framing import SEPARATOR
from tests.runtime_api import Posted
from tests.runtime_process import WAIT_S, Function
from tests.sources.traits import sources_where

from .test_process import body_of, get, running


def url(path: str, query: str = "") -> dict[str, Any]:
    return build_event("url", method="GET", path=path, query=query)


def split(posted: Posted) -> tuple[dict[str, Any], bytes]:
    """The prelude and the body of a streamed answer."""
    prelude, separator, body = posted.body.partition(SEPARATOR)
    assert separator == SEPARATOR
    return json.loads(prelude), body


@contextmanager
def listener() -> Iterator[tuple[socket.socket, int]]:
    """A port the app connects to, and the listening socket."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(WAIT_S)
        yield server, server.getsockname()[1]


@pytest.fixture(scope="module")
def streaming() -> Iterator[Function]:
    with running("streaming_function.handler") as function:
        yield function


def test_sse_chunks_arrive_as_the_app_sends_them(streaming: Function) -> None:
    with listener() as (server, port):
        request_id = streaming.api.invoke(url("/sse", f"port={port}"))
        held, _ = server.accept()
        with held:
            # The app waits for the byte below before it sends its second event: what the
            # server has now was streamed before that.
            chunks = streaming.api.wait_for_chunks(request_id, 2, alive=streaming.alive)
            assert not [p for p in streaming.api.state.posted if p.request_id == request_id]
            received = b"".join(chunk for _, chunk in chunks)
            assert received.endswith(SEPARATOR + b"data: one\n\n")
            released_at = time.monotonic()
            held.sendall(b"!")
            posted = streaming.answer(request_id)
    assert posted.kind == "response"
    assert posted.chunked
    assert posted.headers["lambda-runtime-function-response-mode"] == "streaming"
    assert posted.headers["content-type"] == "application/vnd.awslambda.http-integration-response"
    assert posted.headers["trailer"] == (
        "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"
    )
    prelude, body = split(posted)
    assert prelude["statusCode"] == 200
    assert prelude["headers"]["content-type"] == "text/event-stream; charset=utf-8"
    assert body == b"data: one\n\ndata: two\n\n"
    assert posted.trailers == {}
    # The first event arrived before the app was let go on, the second after.
    arrivals = streaming.api.state.chunks[request_id]
    assert all(at < released_at for at, _ in arrivals[: len(chunks)])
    later = arrivals[len(chunks) :]
    assert b"".join(chunk for _, chunk in later) == b"data: two\n\n"
    assert all(at > released_at for at, _ in later)


def test_an_error_after_the_first_byte_ends_the_stream_with_trailers(streaming: Function) -> None:
    posted = streaming.invoke(url("/fail-midway"))
    prelude, body = split(posted)
    assert prelude["statusCode"] == 200
    assert body == b"partial"
    assert posted.trailers["lambda-runtime-function-error-type"] == "RuntimeError"
    error = json.loads(base64.b64decode(posted.trailers["lambda-runtime-function-error-body"]))
    assert error["errorType"] == "RuntimeError"
    assert error["errorMessage"] == "the data source went away"
    # ... and the next invocation is served.
    assert split(streaming.invoke(url("/empty")))[0]["statusCode"] == 200


def test_an_empty_body_still_sends_the_prelude_and_separator(streaming: Function) -> None:
    posted = streaming.invoke(url("/empty"))
    assert posted.body.endswith(SEPARATOR)
    prelude, body = split(posted)
    assert body == b""
    assert prelude["statusCode"] == 200
    assert prelude["headers"]["x-empty"] == "yes"
    assert posted.trailers == {}


def test_set_cookie_headers_go_to_the_cookies_list(streaming: Function) -> None:
    prelude, body = split(streaming.invoke(url("/cookies")))
    assert body == b"with cookies"
    assert [cookie.split(";")[0] for cookie in prelude["cookies"]] == ["a=1", "b=2"]
    assert "set-cookie" not in prelude["headers"]


def test_a_rest_event_is_streamed(streaming: Function) -> None:
    prelude, body = split(streaming.invoke(get("/empty", "rest")))
    assert (prelude["statusCode"], body) == (200, b"")


# Every source that cannot stream but Lambda@Edge (its answer has "status", not "statusCode").
@pytest.mark.parametrize("source", sorted(sources_where(streams=False) - {"edge"}))
def test_a_source_that_cannot_stream_gets_the_buffered_answer(
    streaming: Function, source: str
) -> None:
    posted = streaming.invoke(get("/empty", source))
    assert posted.kind == "response"
    assert not posted.chunked
    assert posted.headers["content-type"] == "application/json"
    assert posted.json()["statusCode"] == 200
    assert "lambda-runtime-function-response-mode" not in posted.headers


def test_a_bad_event_for_a_streaming_source_is_answered_on_the_stream(streaming: Function) -> None:
    event = url("/empty")
    event["body"], event["isBase64Encoded"] = "not base64!", True
    posted = streaming.invoke(event)
    prelude, body = split(posted)
    assert prelude["statusCode"] == 400
    assert body.startswith(b"Bad request")


def test_background_tasks_run_after_the_response_is_posted() -> None:
    with running("streaming_function.app") as function, listener() as (server, port):
        request_id = function.api.invoke(get("/background", query=f"port={port}"))
        held, _ = server.accept()  # the background task is running
        with held:
            held.settimeout(WAIT_S)
            # Answered while the background task still waits for the test's byte ...
            posted = function.answer(request_id)
            assert json.loads(body_of(posted)) == {"answer": "before the background task"}
            # ... and the worker asks for no invocation until the task is over.
            nexts = [s for s in function.api.state.seen if s.path.endswith("/next")]
            assert len(nexts) == 1
            held.sendall(b"!")
            assert held.recv(4) == b"done"
        function.api.wait_for_next(2, alive=function.alive)
        assert function.stop() == 0


def test_bridge_invoke_mode_streams_an_app_named_by_the_handler() -> None:
    with running("streaming_function.app", BRIDGE_INVOKE_MODE="RESPONSE_STREAM") as function:
        posted = function.invoke(url("/empty"))
        assert posted.chunked
        assert split(posted)[0]["statusCode"] == 200


def test_a_bad_bridge_invoke_mode_is_an_init_error() -> None:
    with running("streaming_function.app", BRIDGE_INVOKE_MODE="STREAM") as function:
        posted = function.api.init_error(alive=function.alive)
        assert function.process.wait(timeout=WAIT_S) == 1
        assert posted.json()["errorType"] == "ConfigurationError"
        assert "BUFFERED or RESPONSE_STREAM" in posted.json()["errorMessage"]


def test_four_asgi_invocations_run_at_once_on_the_one_loop() -> None:
    with running("streaming_function.app", AWS_LAMBDA_MAX_CONCURRENCY="4") as function:
        ids = [function.api.invoke(get("/barrier")) for _ in range(4)]
        answers = [function.answer(request_id) for request_id in ids]
        # Each crossed a barrier that needs four parties at once (15 s limit, or 500).
        assert [posted.json()["statusCode"] for posted in answers] == [200] * 4
        seen = [json.loads(body_of(posted)) for posted in answers]
        # One thread and one loop: the runtime's.
        assert {entry["thread"] for entry in seen} == {"MainThread"}
        assert len({entry["loop"] for entry in seen}) == 1
        assert len({s.port for s in function.api.state.seen}) == 4
        assert function.stop() == 0
        assert function.log().count("streaming_function imported") == 1


def streamed_item_by_item(function: Function) -> tuple[dict[str, Any], Posted]:
    """Ask the Flask function's ``/stream`` (a generator that waits, between
    its two items, for a byte from a listener here): the first item reaches
    the Runtime API before the second exists and before anything is posted
    as done; the whole body arrives in the end.  The prelude and what was
    posted, for more checks."""
    with listener() as (server, port):
        request_id = function.api.invoke(url("/stream", f"port={port}"))
        held, _ = server.accept()
        with held:
            chunks = function.api.wait_for_chunks(request_id, 2, alive=function.alive)
            assert b"".join(chunk for _, chunk in chunks).endswith(SEPARATOR + b"first,")
            assert not [p for p in function.api.state.posted if p.request_id == request_id]
            held.sendall(b"!")
            posted = function.answer(request_id)
    prelude, body = split(posted)
    assert prelude["statusCode"] == 200
    assert body == b"first,second"
    return prelude, posted


def test_a_flask_generator_is_streamed_item_by_item() -> None:
    with running("flask_function.app", BRIDGE_INVOKE_MODE="RESPONSE_STREAM") as function:
        prelude, posted = streamed_item_by_item(function)
        assert prelude["headers"]["content-type"] == "text/plain"
        assert posted.trailers == {}
        # An error after the first byte: the trailers.
        failed = function.invoke(url("/fail-midway"))
        assert split(failed)[1] == b"partial"
        assert failed.trailers["lambda-runtime-function-error-type"] == "RuntimeError"
        # Not a streaming source: buffered.
        assert function.invoke(get("/hello")).json()["statusCode"] == 200
        assert function.stop() == 0


def test_a_wsgi_iterable_is_closed_after_the_response_is_posted() -> None:
    with running("flask_function.app") as function, listener() as (server, port):
        request_id = function.api.invoke(get("/after", query=f"port={port}"))
        held, _ = server.accept()  # close() is running
        with held:
            held.settimeout(WAIT_S)
            assert body_of(function.answer(request_id)) == b"answered before close()"
            assert len([s for s in function.api.state.seen if s.path.endswith("/next")]) == 1
            held.sendall(b"!")
            assert held.recv(4) == b"done"
        function.api.wait_for_next(2, alive=function.alive)
        assert function.stop() == 0
