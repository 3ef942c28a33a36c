"""Every way an ASGI application can end has a defined result."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from http import HTTPStatus
from types import MappingProxyType
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from bridge import ProtocolError
from bridge.local.events import build_event
from tests.conftest import HandlerFactory

START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain")],
}
BODY = {"type": "http.response.body", "body": b"ok"}


def run(make_handler: HandlerFactory, app: Any) -> dict[str, Any]:
    response: dict[str, Any] = make_handler(app, lifespan="off")(build_event("http"))
    return response


def assert_500(response: dict[str, Any]) -> None:
    assert response == {
        "statusCode": 500,
        "headers": {"content-type": "text/plain; charset=utf-8"},
        "body": "Internal Server Error",
        "isBase64Encoded": False,
    }


def test_raises_before_start(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("boom")

    assert_500(run(make_handler, app))
    record = next(r for r in caplog.records if r.name == "bridge.http")
    assert "Exception in ASGI application (GET /" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)


def test_raises_after_start(make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(START)
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise ValueError("boom")

    assert_500(run(make_handler, app))
    assert "waiting for http.response.body" in caplog.text


def test_returns_without_responding(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    assert_500(run(make_handler, app))
    assert "returned without completing the response" in caplog.text


def test_returns_after_start_only(make_handler: HandlerFactory) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(START)

    assert_500(run(make_handler, app))


def test_sends_start_twice(make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture) -> None:
    errors: list[BaseException] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(START)
        try:
            await send(START)
        except ProtocolError as exc:
            errors.append(exc)
            raise

    assert_500(run(make_handler, app))
    assert str(errors[0]) == (
        "Expected ASGI message 'http.response.body', but got 'http.response.start'."
    )


def test_sends_after_completion_keeps_the_response(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(START)
        await send(BODY)
        await send(BODY)

    response = run(make_handler, app)
    assert (response["statusCode"], response["body"]) == (200, "ok")
    assert "after the response was complete" in caplog.text
    assert "sent after the response was already complete" in caplog.text


def test_returns_a_value(make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> Any:
        await send(START)
        await send(BODY)
        return "surprise"

    response = run(make_handler, app)
    assert (response["statusCode"], response["body"]) == (200, "ok")
    assert (
        "ASGI callable returned a str of 8 characters for GET /; it should return None."
        in caplog.text
    )
    assert "surprise" not in caplog.text  # a returned value may be anything, secrets too
    assert any(r.levelno == logging.ERROR for r in caplog.records)


def test_body_before_start_names_both_messages(make_handler: HandlerFactory) -> None:
    errors: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await send(BODY)
        except ProtocolError as exc:
            errors.append(str(exc))
            raise

    assert_500(run(make_handler, app))
    assert errors == ["Expected ASGI message 'http.response.start', but got 'http.response.body'."]


@pytest.mark.parametrize(
    ("message", "match"),
    [
        ({"type": "http.response.start", "status": "200"}, "integer from 100 to 999"),
        ({"type": "http.response.start", "status": 42}, "integer from 100 to 999"),
        ({"type": "http.response.start", "status": 200, "headers": [("a", "b")]}, "byte-string"),
        ({"type": "http.response.start", "status": 200, "headers": [(b"a",)]}, "byte-string"),
        ({"type": "http.response.start", "status": 200, "headers": 5}, "the int given is not"),
        (
            {"type": "http.response.start", "status": 200, "headers": [(b"set-cookie", "s=1")]},
            "entry 0 is (bytes, str)",
        ),
    ],
)
def test_malformed_start_messages(
    make_handler: HandlerFactory, message: dict[str, Any], match: str
) -> None:
    errors: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await send(message)
        except ProtocolError as exc:
            errors.append(str(exc))
            raise

    assert_500(run(make_handler, app))
    assert match in errors[0]
    assert "s=1" not in errors[0]  # header values may be secrets: never in messages


def test_non_bytes_body_is_a_protocol_error(make_handler: HandlerFactory) -> None:
    errors: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(START)
        try:
            await send({"type": "http.response.body", "body": "text"})
        except ProtocolError as exc:
            errors.append(str(exc))
            raise

    assert_500(run(make_handler, app))
    # Named by its type and size: a body is never shown.
    assert errors == [
        "Expected 'body' of http.response.body to be bytes, got a str of 4 characters."
    ]


def test_chunks_are_joined(make_handler: HandlerFactory) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(START)
        for part in (b"a", b"", b"b"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b"c"})

    assert run(make_handler, app)["body"] == "abc"


def test_disconnect_only_after_the_response_is_complete(make_handler: HandlerFactory) -> None:
    events: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "http.request"

        async def watch() -> None:
            message = await receive()
            events.append(message["type"])

        watcher = asyncio.get_running_loop().create_task(watch())
        await asyncio.sleep(0)
        events.append("start")
        await send(START)
        await asyncio.sleep(0)
        events.append("body")
        await send(BODY)
        await watcher

    assert run(make_handler, app)["statusCode"] == 200
    assert events == ["start", "body", "http.disconnect"]


def test_receive_between_body_parts_waits_for_the_last_part(
    make_handler: HandlerFactory,
) -> None:
    """receive() called after the start and before the final body part stays
    pending until that part is sent: an app that listens for the disconnect
    while it streams must not be told the client left."""
    events: list[str] = []
    listeners: list[asyncio.Task[None]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "http.request"

        async def listen() -> None:
            events.append((await receive())["type"])

        loop = asyncio.get_running_loop()
        await send(START)
        for part in (b"a", b"b", b"c"):
            listeners.append(loop.create_task(listen()))
            for _ in range(3):  # let the listener take its steps
                await asyncio.sleep(0)
            events.append(part.decode())
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await asyncio.sleep(0)
        events.append("last")
        await send({"type": "http.response.body", "body": b"d"})
        await asyncio.gather(*listeners)

    response = run(make_handler, app)
    assert (response["statusCode"], response["body"]) == (200, "abcd")
    assert events == ["a", "b", "c", "last", *["http.disconnect"] * 3]


def test_a_streaming_response_listening_for_disconnect_is_sent_whole(
    make_handler: HandlerFactory,
) -> None:
    """Starlette's StreamingResponse stops its stream when receive() reports
    http.disconnect (ASGI spec versions before 2.4): every chunk must arrive."""
    sent: list[str] = []

    async def numbers() -> AsyncIterator[str]:
        for number in range(5):
            await asyncio.sleep(0)  # the disconnect listener runs between chunks
            sent.append(str(number))
            yield f"{number},"

    async def stream(request: Request) -> StreamingResponse:
        return StreamingResponse(numbers(), media_type="text/plain")

    app = Starlette(routes=[Route("/numbers", stream)])
    response = make_handler(app, lifespan="off")(build_event("http", path="/numbers"))
    assert (response["statusCode"], response["body"]) == (200, "0,1,2,3,4,")
    assert sent == ["0", "1", "2", "3", "4"]


def test_receive_after_completion_is_disconnect(make_handler: HandlerFactory) -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send(START)
        await send(BODY)
        seen.append((await receive())["type"])

    run(make_handler, app)
    assert seen == ["http.disconnect"]


def test_request_message_carries_the_whole_body(make_handler: HandlerFactory) -> None:
    messages: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        messages.append(await receive())
        await send(START)
        await send(BODY)

    make_handler(app, lifespan="off")(build_event("http", method="POST", body=b"\x00payload"))
    assert messages == [{"type": "http.request", "body": b"\x00payload", "more_body": False}]


# The usual message shapes take a fast path (exact types); the others must
# take the full check and come out the same.


class IntLike(int):
    pass


@pytest.mark.parametrize("status", [HTTPStatus.CREATED, IntLike(201), 201])
def test_status_of_an_int_subclass_is_accepted(make_handler: HandlerFactory, status: int) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({**START, "status": status})
        await send(BODY)

    assert run(make_handler, app)["statusCode"] == 201


@pytest.mark.parametrize("status", [True, 200.0, 99, 1000, None])
def test_status_that_is_not_an_http_status_is_refused(
    make_handler: HandlerFactory, status: Any
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({**START, "status": status})
        await send(BODY)

    assert_500(run(make_handler, app))


def test_messages_may_be_any_mapping(make_handler: HandlerFactory) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(MappingProxyType(START))
        await send(MappingProxyType({**BODY, "more_body": True}))
        await send(MappingProxyType(BODY))

    response = run(make_handler, app)
    assert (response["statusCode"], response["body"]) == (200, "okok")


def test_a_message_that_is_not_a_mapping_is_named(make_handler: HandlerFactory) -> None:
    errors: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await send("http.response.start")
        except ProtocolError as exc:
            errors.append(str(exc))
            raise

    assert_500(run(make_handler, app))
    # Named by its type: a non-message may hold anything (a body, a cookie).
    assert errors == [
        "Expected ASGI message 'http.response.start', but got a str of 19 characters instead "
        "of a dict."
    ]


@pytest.mark.parametrize("body", [bytearray(b"ok"), memoryview(b"ok")])
def test_body_of_another_bytes_type_in_one_message(make_handler: HandlerFactory, body: Any) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(START)
        await send({"type": "http.response.body", "body": body})

    assert run(make_handler, app)["body"] == "ok"
