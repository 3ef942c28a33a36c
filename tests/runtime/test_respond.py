"""``Bridge.respond``, the async entry ``bridge.runtime`` awaits, and the streaming HTTP cycle,
in process: a recording stream stands for the Runtime API."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import pytest

from bridge import Bridge
from bridge.adapter import Answer
from bridge.asgi._eager import returned
from bridge.asgi.loop import LoopRunner, get_runner
from bridge.errors import ApplicationError, ConfigurationError
from bridge.local.events import build_event
from bridge.types import TextHeaders

Scope = dict[str, Any]
Receive = Callable[[], Coroutine[Any, Any, dict[str, Any]]]
Send = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]

WAIT_S = 10.0


class Recorder:
    """A response stream that records what it is given, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.ended = asyncio.Event()

    async def start(self, status: int, headers: TextHeaders) -> None:
        self.calls.append(("start", (status, headers)))

    async def write(self, data: bytes) -> None:
        self.calls.append(("write", data))

    async def end(self, error: BaseException | None) -> None:
        self.calls.append(("end", error))
        self.ended.set()

    @property
    def body(self) -> bytes:
        return b"".join(data for kind, data in self.calls if kind == "write")

    @property
    def status(self) -> int:
        status: int = self.calls[0][1][0]
        return status


class Context:
    aws_request_id = "test"

    def __init__(self, remaining_ms: int = 60_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def url(path: str = "/") -> dict[str, Any]:
    return build_event("url", path=path)


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, WAIT_S))


async def streamed(handler: Bridge, event: dict[str, Any], context: Any = None) -> Recorder:
    recorder = Recorder()
    answer = await handler.respond(event, context or Context(), lambda: recorder)
    assert answer.result is None
    assert answer.rest is not None
    await answer.rest
    return recorder


def asgi(*messages: dict[str, Any], then: Exception | None = None) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for message in messages:
            await send(message)
        if then is not None:
            raise then

    return app


START = {"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]}
TEXT = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}


def body(data: bytes, more: bool = False) -> dict[str, Any]:
    return {"type": "http.response.body", "body": data, "more_body": more}


def test_invoke_mode_is_checked() -> None:
    with pytest.raises(ConfigurationError, match="'BUFFERED' or 'RESPONSE_STREAM'"):
        Bridge(asgi(), invoke_mode="STREAM")  # type: ignore[arg-type]


def test_each_chunk_goes_to_the_stream_as_it_is_sent() -> None:
    handler = Bridge(
        asgi(START, body(b"one", True), body(b"", True), body(b"two")),
        lifespan="off",
        invoke_mode="RESPONSE_STREAM",
    )
    recorder = run(streamed(handler, url()))
    assert recorder.calls == [
        ("start", (200, [("x-a", "1")])),
        ("write", b"one"),
        ("write", b"two"),
        ("end", None),
    ]


def test_excluded_headers_are_left_out_of_the_stream() -> None:
    handler = Bridge(
        asgi(START, body(b"x")),
        lifespan="off",
        invoke_mode="RESPONSE_STREAM",
        exclude_headers=["X-A"],
    )
    assert run(streamed(handler, url())).calls[0] == ("start", (200, []))


def test_an_error_before_the_body_is_a_500_on_the_stream() -> None:
    handler = Bridge(
        asgi(START, then=RuntimeError("boom")), lifespan="off", invoke_mode="RESPONSE_STREAM"
    )
    recorder = run(streamed(handler, url()))
    assert (recorder.status, recorder.body) == (500, b"Internal Server Error")
    assert recorder.calls[-1] == ("end", None)


def test_an_error_after_the_first_byte_ends_the_stream_with_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failure = RuntimeError("boom")
    handler = Bridge(
        asgi(START, body(b"part", True), then=failure),
        lifespan="off",
        invoke_mode="RESPONSE_STREAM",
    )
    recorder = run(streamed(handler, url()))
    assert recorder.calls[1:] == [("write", b"part"), ("end", failure)]
    (record,) = [r for r in caplog.records if r.name == "bridge.http"]
    assert "after its streamed response had started" in record.getMessage()
    assert "answering 500" not in caplog.text


def test_returning_mid_stream_ends_it_with_an_error() -> None:
    handler = Bridge(
        asgi(START, body(b"part", True)), lifespan="off", invoke_mode="RESPONSE_STREAM"
    )
    kind, error = run(streamed(handler, url())).calls[-1]
    assert kind == "end"
    assert "without completing its streamed response" in str(error)


def test_a_header_that_cannot_be_sent_is_a_500() -> None:
    start = {"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"a\r\nb")]}
    handler = Bridge(asgi(start, body(b"x")), lifespan="off", invoke_mode="RESPONSE_STREAM")
    assert run(streamed(handler, url())).status == 500


def test_a_stream_over_the_limit_ends_with_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bridge.response.STREAM_LIMIT", 5)
    handler = Bridge(
        asgi(START, body(b"1234", True), body(b"5678")),
        lifespan="off",
        invoke_mode="RESPONSE_STREAM",
    )
    recorder = run(streamed(handler, url()))
    assert recorder.body == b"1234"
    kind, error = recorder.calls[-1]
    assert kind == "end"
    assert "limit of 5 bytes" in str(error)


def test_the_time_limit_mid_stream_ends_it_with_a_timeout() -> None:
    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        await send(START)
        await send(body(b"part", True))
        await asyncio.Event().wait()

    handler = Bridge(slow, lifespan="off", invoke_mode="RESPONSE_STREAM", timeout_margin_ms=0)
    recorder = run(streamed(handler, url(), Context(remaining_ms=50)))
    kind, error = recorder.calls[-1]
    assert kind == "end"
    assert isinstance(error, TimeoutError)


def test_the_time_limit_mid_stream_is_a_timeout_even_if_the_app_catches_it() -> None:
    async def stubborn(scope: Scope, receive: Receive, send: Send) -> None:
        await send(START)
        await send(body(b"part", True))
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            return

    handler = Bridge(stubborn, lifespan="off", invoke_mode="RESPONSE_STREAM", timeout_margin_ms=0)
    recorder = run(streamed(handler, url(), Context(remaining_ms=50)))
    kind, error = recorder.calls[-1]
    assert kind == "end"
    assert isinstance(error, TimeoutError)
    assert "time limit (50 ms" in str(error)


def test_a_send_after_the_stream_ended_is_refused() -> None:
    errors: list[BaseException] = []

    async def twice(scope: Scope, receive: Receive, send: Send) -> None:
        await send(START)
        await send(body(b"x"))
        try:
            await send(body(b"y"))
        except Exception as exc:
            errors.append(exc)

    handler = Bridge(twice, lifespan="off", invoke_mode="RESPONSE_STREAM")
    recorder = run(streamed(handler, url()))
    assert recorder.calls[-1] == ("end", None)
    assert "after the response was already complete" in str(errors[0])


def test_buffered_the_answer_comes_before_the_app_returns() -> None:
    async def main() -> None:
        release = asyncio.Event()
        finished: list[str] = []

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await send(TEXT)
            await send(body(b"done"))
            await release.wait()
            finished.append("after")

        handler = Bridge(app, lifespan="off", invoke_mode="RESPONSE_STREAM")
        # An HTTP API event cannot be streamed: the buffered answer.
        answer = await handler.respond(build_event("http", path="/"), Context(), Recorder)
        assert answer.result["statusCode"] == 200
        assert answer.result["body"] == "done"
        assert answer.rest is not None
        assert not finished
        release.set()
        await answer.rest
        assert finished == ["after"]

    run(main())


def test_an_app_that_returned_leaves_nothing_to_wait_for() -> None:
    async def main() -> None:
        release = asyncio.Event()

        async def waits(scope: Scope, receive: Receive, send: Send) -> None:
            await send(TEXT)
            await send(body(b"done"))
            await release.wait()

        handler = Bridge(asgi(TEXT, body(b"done")), lifespan="off")
        answer = await handler.respond(build_event("http", path="/"), Context())
        assert answer.result["body"] == "done"
        assert answer.rest is None or returned(answer.rest)

        handler = Bridge(waits, lifespan="off")
        answer = await handler.respond(build_event("http", path="/"), Context())
        assert answer.result["body"] == "done"
        assert answer.rest is not None
        assert not returned(answer.rest)
        release.set()
        await answer.rest
        assert returned(answer.rest)

        async def fails() -> None:
            raise RuntimeError("after the response")

        failed = asyncio.get_running_loop().create_task(fails())
        await asyncio.wait([failed])
        assert not returned(failed)  # awaiting it raises: the worker must
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        assert not returned(future)  # not a task

    run(main())


def test_error_statuses_are_given_back_as_the_error() -> None:
    handler = Bridge(
        asgi({"type": "http.response.start", "status": 503}, body(b"no")),
        lifespan="off",
        error_statuses={503},
    )
    answer: Answer = run(handler.respond(build_event("http", path="/"), Context()))
    assert answer.result is None
    assert isinstance(answer.error, ApplicationError)


def test_a_bad_event_of_a_streaming_source_is_rejected_on_the_stream() -> None:
    event = url()
    event["body"], event["isBase64Encoded"] = "not base64!", True
    handler = Bridge(asgi(START, body(b"x")), lifespan="off", invoke_mode="RESPONSE_STREAM")
    recorder = run(streamed(handler, event))
    assert recorder.status == 400
    assert recorder.body.startswith(b"Bad request")


def test_a_bad_event_buffered_is_a_400() -> None:
    event = build_event("http", path="/")
    event["body"], event["isBase64Encoded"] = "not base64!", True
    handler = Bridge(asgi(START, body(b"x")), lifespan="off")
    answer: Answer = run(handler.respond(event, Context()))
    assert answer.result["statusCode"] == 400


def test_a_warmup_ping_is_answered_by_the_handler() -> None:
    handler = Bridge(asgi(START, body(b"x")), lifespan="off")
    answer: Answer = run(handler.respond({"source": "serverless-plugin-warmup"}, Context()))
    assert (answer.result, answer.rest) == ({}, None)


def wsgi_app(chunks: Iterable[bytes], closed: list[str]) -> Any:
    class Body:
        def __iter__(self) -> Any:
            return iter(chunks)

        def close(self) -> None:
            closed.append("closed")

    def app(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body()

    return app


def test_a_wsgi_iterable_is_closed_only_after_the_answer() -> None:
    closed: list[str] = []
    handler = Bridge(wsgi_app([b"a", b"b"], closed))

    async def main() -> None:
        answer = await handler.respond(build_event("http", path="/"), Context())
        assert answer.result["body"] == "ab"
        assert closed == []
        assert answer.rest is not None
        await answer.rest
        assert closed == ["closed"]

    run(main())


def test_a_wsgi_response_is_streamed_then_closed() -> None:
    closed: list[str] = []

    def chunks() -> Iterable[bytes]:
        yield b"a"
        yield b""
        yield b"b"

    handler = Bridge(wsgi_app(chunks(), closed), invoke_mode="RESPONSE_STREAM")
    recorder = run(streamed(handler, url()))
    assert recorder.calls == [
        ("start", (200, [("content-type", "text/plain")])),
        ("write", b"a"),
        ("write", b"b"),
        ("end", None),
    ]
    assert closed == ["closed"]


def test_a_wsgi_error_mid_stream_ends_it_with_the_error() -> None:
    failure = RuntimeError("boom")

    def chunks() -> Iterable[bytes]:
        yield b"a"
        raise failure

    handler = Bridge(wsgi_app(chunks(), []), invoke_mode="RESPONSE_STREAM")
    assert run(streamed(handler, url())).calls[-1] == ("end", failure)


def test_a_wsgi_error_before_the_body_is_a_500_on_the_stream() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise RuntimeError("boom")

    handler = Bridge(app, invoke_mode="RESPONSE_STREAM")
    recorder = run(streamed(handler, url()))
    assert (recorder.status, recorder.body) == (500, b"Internal Server Error")


def test_run_from_another_thread_is_handed_to_the_loop_serve_drives() -> None:
    runner = LoopRunner()
    results: list[object] = []

    async def job() -> threading.Thread:
        return threading.current_thread()

    async def server() -> str:
        loop = asyncio.get_running_loop()
        thread_result = await loop.run_in_executor(None, runner.run, job())
        results.append(thread_result)
        return "served"

    try:
        assert runner.serve(server()) == "served"
    finally:
        runner.close()
    assert results == [threading.current_thread()]


def test_concurrent_invocations_each_have_their_own_context_and_state() -> None:
    import contextvars

    user: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="nobody")

    async def main() -> list[Any]:
        both_set = asyncio.Event()
        seen: list[str] = []

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "lifespan":
                while True:
                    message = await receive()
                    if message["type"] == "lifespan.startup":
                        scope["state"]["count"] = 0
                        await send({"type": "lifespan.startup.complete"})
                    else:
                        await send({"type": "lifespan.shutdown.complete"})
                        return
            user.set(scope["path"])
            scope["state"]["count"] += 1
            seen.append(scope["path"])
            if len(seen) == 2:
                both_set.set()
            await both_set.wait()
            text = f"{user.get()} {scope['state']['count']}".encode()
            await send(TEXT)
            await send(body(text))

        # As the runtime does: the handler made (lifespan startup) and closed on a
        # worker thread while the loop is served.
        loop = asyncio.get_running_loop()
        handler = await loop.run_in_executor(None, lambda: Bridge(app, lifespan="on"))
        try:
            answers = await asyncio.wait_for(
                asyncio.gather(
                    handler.respond(build_event("http", path="/a"), Context()),
                    handler.respond(build_event("http", path="/b"), Context()),
                ),
                WAIT_S,
            )
        finally:
            await loop.run_in_executor(None, handler.close)
        return [answer.result["body"] for answer in answers]

    assert get_runner().serve(main()) == ["/a 1", "/b 1"]


def flask_app(closed: list[str]) -> Any:
    from flask import Flask, Response, request

    app = Flask("blocking")

    @app.route("/echo", methods=["GET", "POST"])
    def echo() -> Response:
        response = Response(request.get_data(), content_type=request.content_type or "text/plain")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        response.headers["X-Query"] = request.query_string.decode()
        response.call_on_close(lambda: closed.append("closed"))
        return response

    @app.get("/unavailable")
    def unavailable() -> tuple[str, int]:
        return "down", 503

    @app.route("/events", methods=["POST"])
    def events() -> dict[str, Any]:
        return {"got": request.get_json()}

    @app.get("/fail")
    def fail() -> str:
        raise RuntimeError("boom")

    return app


def bad_base64() -> dict[str, Any]:
    event = build_event("http", path="/echo")
    event["body"], event["isBase64Encoded"] = "not base64!", True
    return event


def binary_post(source: str) -> Callable[[], dict[str, Any]]:
    return lambda: build_event(
        source,
        method="POST",
        path="/echo",
        query="x=1&y=%20",
        headers=[("Content-Type", "application/octet-stream"), ("Cookie", "c=3")],
        body=bytes(range(256)),
    )


BLOCKING_EVENTS: dict[str, Callable[[], Any]] = {
    **{
        source: binary_post(source)
        for source in ("rest", "http-v1", "http", "url", "alb", "alb-multi", "lattice-v2")
    },
    "text": lambda: build_event("http", path="/echo", body=b"caf\xc3\xa9"),
    "error status": lambda: build_event("http", path="/unavailable"),
    "app raises": lambda: build_event("url", path="/fail"),
    "bad event": bad_base64,
    "warm-up": lambda: {"source": "serverless-plugin-warmup"},
    "non-HTTP": lambda: {"Records": [{"eventSource": "aws:sqs", "body": "x"}]},
    "unknown": lambda: {"not": "http"},
    "not a dict": lambda: [1, 2],
}


def outcome(answer: tuple[Any, BaseException | None, bool]) -> Any:
    result, error, closes = answer
    return result, None if error is None else (type(error), str(error)), closes


@pytest.mark.parametrize("name", sorted(BLOCKING_EVENTS))
@pytest.mark.parametrize("non_http_path", [None, "/events"])
def test_respond_blocking_gives_what_respond_gives(name: str, non_http_path: str | None) -> None:
    """The blocking worker's entry (a WSGI app, one invocation at a time)
    against the general one: the same result or error, the same close()."""
    closed: list[str] = []
    handler = Bridge(flask_app(closed), non_http_path=non_http_path, error_statuses={503})

    async def general() -> tuple[Any, BaseException | None, bool]:
        try:
            answer = await handler.respond(BLOCKING_EVENTS[name](), Context())
        except Exception as exc:
            return None, exc, False
        if answer.rest is not None:
            assert closed == []
            await answer.rest
        return answer.result, answer.error, closed == ["closed"]

    def blocking() -> tuple[Any, BaseException | None, bool]:
        try:
            result, error, close = handler.respond_blocking(BLOCKING_EVENTS[name](), Context())
        except Exception as exc:
            return None, exc, False
        if close is not None:
            assert closed == []
            close()
        return result, error, closed == ["closed"]

    expected = outcome(run(general()))
    closed.clear()
    assert outcome(blocking()) == expected


def test_respond_blocking_serves_wsgi_apps_only() -> None:
    handler = Bridge(asgi(START, body(b"x")), lifespan="off")
    with pytest.raises(TypeError, match="WSGI apps only"):
        handler.respond_blocking(build_event("http", path="/"), Context())
