"""One response path: the same answer gives the same Lambda response from a
WSGI app and an ASGI app, for every event source, and the same status,
headers and body whether it is buffered or streamed."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask import Response as FlaskResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from bridge import Bridge
from bridge.local.events import FakeContext, build_event
from bridge.local.responses import decode_response
from bridge.types import TextHeaders

#: The answer both apps give: repeated headers, several Set-Cookie, names in
#: mixed case (they reach every writer lower-cased).
HEADERS = [
    ("X-Multi", "one"),
    ("Set-Cookie", "a=1; Path=/"),
    ("x-multi", "two"),
    ("Set-Cookie", "b=2; HttpOnly"),
    ("X-Mixed-CASE", "Value Kept As Sent"),
]

BODIES = {
    "text": ("text/plain; charset=utf-8", "héllo, wörld".encode()),
    "binary": ("application/octet-stream", bytes(range(256))),
    "json": ("application/json", b'{"a": [1, 2]}'),
    "empty": ("text/plain; charset=utf-8", b""),
}


def flask_app(content_type: str, body: bytes) -> Flask:
    app = Flask(__name__)

    @app.route("/answer")
    def answer() -> FlaskResponse:
        response = FlaskResponse(body, status=201, content_type=content_type)
        for name, value in HEADERS:
            response.headers.add(name, value)
        return response

    return app


def starlette_app(content_type: str, body: bytes) -> Starlette:
    async def answer(request: Request) -> StarletteResponse:
        response = StarletteResponse(body, status_code=201)
        response.raw_headers.append((b"content-type", content_type.encode("latin-1")))
        for name, value in HEADERS:
            response.raw_headers.append((name.encode("latin-1"), value.encode("latin-1")))
        return response

    return Starlette(routes=[Route("/answer", answer)])


def _without_length(response: dict[str, Any]) -> dict[str, Any]:
    """The response less Content-Length, which only Flask sends for an empty body."""
    result = dict(response)
    for key in ("headers", "multiValueHeaders"):
        if isinstance(result.get(key), dict):
            result[key] = {k: v for k, v in result[key].items() if k.lower() != "content-length"}
    return result


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_a_wsgi_and_an_asgi_app_giving_the_same_answer_get_the_same_response(
    kind: str, source: str
) -> None:
    content_type, body = BODIES[kind]
    wsgi = Bridge(flask_app(content_type, body))
    asgi = Bridge(starlette_app(content_type, body), lifespan="off")
    try:
        from_wsgi = wsgi(build_event(source, path="/answer"), FakeContext())
        from_asgi = asgi(build_event(source, path="/answer"), FakeContext())
    finally:
        asgi.close()
    assert _without_length(from_wsgi) == _without_length(from_asgi)
    status, headers, data = decode_response(source, from_wsgi)
    assert (status, data) == (201, body)
    sent = {name.lower() for name, _ in headers}
    assert {"content-type", "x-multi", "x-mixed-case", "set-cookie"} <= sent


# ------------------------------------------------------ streamed and buffered


class Recorder:
    """A response stream that keeps what it is given."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: TextHeaders = []
        self.chunks: list[bytes] = []
        self.error: BaseException | None = None

    async def start(self, status: int, headers: TextHeaders) -> None:
        self.status, self.headers = status, headers

    async def write(self, data: bytes) -> None:
        self.chunks.append(data)

    async def end(self, error: BaseException | None) -> None:
        self.error = error


def _respond(handler: Bridge, event: dict[str, Any], recorder: Recorder | None) -> Any:
    from bridge.asgi.loop import get_runner

    async def respond() -> Any:
        answer = await handler.respond(
            event, FakeContext(), None if recorder is None else (lambda: recorder)
        )
        if answer.rest is not None:
            await answer.rest
        return answer.result

    return get_runner().run(respond())


def _grouped(headers: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Header values by lower-case name, comma-joined ones taken apart."""
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        parts = [value] if name.lower() == "set-cookie" else [v.strip() for v in value.split(",")]
        grouped.setdefault(name.lower(), []).extend(parts)
    return grouped


@pytest.mark.parametrize("stream_source", ["url", "rest"])
@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
@pytest.mark.parametrize("kind", ["text", "binary", "empty"])
def test_a_streamed_answer_carries_what_the_buffered_one_does(
    stream_source: str, interface: str, kind: str
) -> None:
    content_type, body = BODIES[kind]
    app = (flask_app if interface == "wsgi" else starlette_app)(content_type, body)
    options: dict[str, Any] = {"lifespan": "off"} if interface == "asgi" else {}
    streaming = Bridge(app, invoke_mode="RESPONSE_STREAM", **options)
    buffering = Bridge(app, **options)
    try:
        recorder = Recorder()
        assert _respond(streaming, build_event(stream_source, path="/answer"), recorder) is None
        buffered = _respond(buffering, build_event(stream_source, path="/answer"), None)
    finally:
        streaming.close()
        buffering.close()
    status, headers, data = decode_response(stream_source, buffered)
    assert recorder.error is None
    assert (recorder.status, b"".join(recorder.chunks)) == (status, data) == (201, body)
    assert _grouped(recorder.headers) == _grouped(headers)
    assert all(name == name.lower() for name, _ in recorder.headers)


def test_excluded_headers_are_left_out_of_both() -> None:
    content_type, body = BODIES["text"]
    app = starlette_app(content_type, body)
    options: dict[str, Any] = {"lifespan": "off", "exclude_headers": ["X-MULTI", "set-cookie"]}
    streaming = Bridge(app, invoke_mode="RESPONSE_STREAM", **options)
    buffering = Bridge(app, **options)
    try:
        recorder = Recorder()
        _respond(streaming, build_event("url", path="/answer"), recorder)
        buffered = buffering(build_event("url", path="/answer"), FakeContext())
    finally:
        streaming.close()
        buffering.close()
    assert "x-multi" not in buffered["headers"]
    assert "cookies" not in buffered
    assert [n for n, _ in recorder.headers if n in ("x-multi", "set-cookie")] == []
    assert ("x-mixed-case", "Value Kept As Sent") in recorder.headers


def test_the_streamed_limit_ends_a_stream_with_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bridge.response.STREAM_LIMIT", 10)
    app = starlette_app("application/octet-stream", b"x" * 11)
    handler = Bridge(app, lifespan="off", invoke_mode="RESPONSE_STREAM")
    try:
        recorder = Recorder()
        _respond(handler, build_event("url", path="/answer"), recorder)
    finally:
        handler.close()
    assert recorder.chunks == []
    assert "limit of 10 bytes" in str(recorder.error)


def test_an_asgi_header_value_with_a_line_break_never_reaches_the_stream() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"x-a", b"1\r\nx-b: 2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"body"})

    handler = Bridge(app, lifespan="off", invoke_mode="RESPONSE_STREAM")
    try:
        recorder = Recorder()
        _respond(handler, build_event("url"), recorder)
    finally:
        handler.close()
    assert recorder.status == 500
    assert recorder.headers == [("content-type", "text/plain; charset=utf-8")]
    assert b"".join(recorder.chunks) == b"Internal Server Error"
