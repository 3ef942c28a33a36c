"""``LocalStream`` without a server: what reaches the sink, in order, and nothing after the
invocation is over (a timed-out app still sending)."""

from __future__ import annotations

import asyncio
from typing import Any

from bridge.local.responses import HTTPResponse
from bridge.local.streaming import LocalStream


class Recorder:
    """A sink that keeps what it is given."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def head(self, response: HTTPResponse, prelude: dict[str, Any] | None) -> None:
        self.calls.append(("head", response.status, response.headers, prelude))

    def body(self, data: bytes) -> None:
        self.calls.append(("body", data))

    def end(self, failed: bool) -> None:
        self.calls.append(("end", failed))


def test_the_head_is_what_a_function_url_makes_of_the_prelude() -> None:
    sink = Recorder()
    stream = LocalStream(sink)
    headers = [
        ("content-type", "text/plain"),
        ("x-a", "1"),
        ("x-a", "2"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
        ("date", "Mon, 07 Dec 2026 00:00:00 GMT"),
        ("content-length", "5"),
    ]

    async def run() -> None:
        await stream.start(201, headers)
        await stream.write(b"hello")
        await stream.end(None)

    asyncio.run(run())
    assert sink.calls == [
        (
            "head",
            201,
            [
                ("content-type", "text/plain"),
                ("x-a", "1, 2"),
                ("date", "Mon, 07 Dec 2026 00:00:00 GMT"),
                ("set-cookie", "a=1"),
                ("set-cookie", "b=2"),
            ],
            {
                "statusCode": 201,
                "headers": {
                    "content-type": "text/plain",
                    "x-a": "1, 2",
                    "date": "Mon, 07 Dec 2026 00:00:00 GMT",
                    "content-length": "5",
                },
                "cookies": ["a=1", "b=2"],
            },
        ),
        ("body", b"hello"),
        ("end", False),
    ]
    assert (stream.status, stream.sent, stream.error) == (201, 5, None)


def test_a_stream_left_open_ends_failed_and_later_sends_are_dropped() -> None:
    sink = Recorder()
    stream = LocalStream(sink)

    async def begin() -> None:
        await stream.start(200, [])
        await stream.write(b"a")

    async def late() -> None:
        await stream.write(b"b")
        await stream.end(None)

    asyncio.run(begin())
    stream.finish(HTTPResponse(504, [], b"timed out"))  # the head went out: not sent
    asyncio.run(late())
    assert [call[0] for call in sink.calls] == ["head", "body", "end"]
    assert sink.calls[1:] == [("body", b"a"), ("end", True)]


def test_a_response_made_before_any_byte_is_sent_whole() -> None:
    sink = Recorder()
    stream = LocalStream(sink)
    stream.finish(HTTPResponse(502, [("content-length", "3")], b"bad"))
    assert sink.calls == [
        ("head", 502, [("content-length", "3")], None),
        ("body", b"bad"),
        ("end", False),
    ]
    assert (stream.status, stream.sent) == (502, 3)
