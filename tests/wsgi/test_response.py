"""Every way a WSGI application can end, through ``run_app``."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.validate import validator

import pytest

from bridge._cache import LIMIT
from bridge.types import Headers, StartResponse
from bridge.wsgi import run_app

Environ = dict[str, Any]
ERROR = (500, [(b"content-type", b"text/plain; charset=utf-8")], b"Internal Server Error")
TEXT = [("Content-Type", "text/plain")]
RAW_TEXT = [(b"content-type", b"text/plain")]


def make_scope(**overrides: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/thing",
        "raw_path": b"/thing",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"example.com")],
        "client": ("203.0.113.9", 0),
        "server": ("example.com", 443),
    }
    scope.update(overrides)
    return scope


def call(
    app: Callable[[Environ, StartResponse], Any], body: bytes = b""
) -> tuple[int, Headers, bytes]:
    return run_app(app, make_scope(), body)


def wsgi_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bridge.wsgi"]


class Body:
    """A response iterable that records how far it was read and whether it was closed."""

    def __init__(self, chunks: list[Any], fail_at: int | None = None) -> None:
        self.chunks = chunks
        self.fail_at = fail_at
        self.read = 0
        self.closed = 0

    def __iter__(self) -> Iterator[Any]:
        for index, chunk in enumerate(self.chunks):
            if index == self.fail_at:
                raise ValueError("failed while iterating")
            self.read += 1
            yield chunk

    def close(self) -> None:
        self.closed += 1


# -- complete responses


def test_list_response() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-A", "1")])
        return [b"Hello, ", b"world"]

    assert call(validator(app)) == (
        200,
        [(b"content-type", b"text/plain"), (b"x-a", b"1")],
        b"Hello, world",
    )


def test_generator_calls_start_response_late() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("404 Not Found", TEXT)
        yield b"late"
        yield b" body"

    assert call(validator(app)) == (404, RAW_TEXT, b"late body")


def test_empty_chunks_before_start_response_are_allowed() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        yield b""  # nothing is "sent" yet
        start_response("200 OK", TEXT)
        yield b"body"

    assert call(app) == (200, RAW_TEXT, b"body")


def test_write_callable_and_iterable_together() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        write = start_response("200 OK", TEXT)
        write(b"written ")
        write(b"")
        return [b"then ", b"returned"]

    assert call(validator(app)) == (200, RAW_TEXT, b"written then returned")


def test_several_set_cookie_headers_keep_their_order() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response(
            "200 OK",
            [("Set-Cookie", "a=1"), ("Content-Type", "text/plain"), ("Set-Cookie", "b=2")],
        )
        return [b"ok"]

    assert call(app)[1] == [
        (b"set-cookie", b"a=1"),
        (b"content-type", b"text/plain"),
        (b"set-cookie", b"b=2"),
    ]


def test_header_values_lose_surrounding_whitespace() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Set-Cookie", " a=1; Path=/"), ("X-A", "\tv w \t")])
        return []

    assert call(app)[1] == [(b"set-cookie", b"a=1; Path=/"), (b"x-a", b"v w")]


def test_status_without_reason_phrase_is_accepted() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("204", [])
        return []

    assert call(app) == (204, [], b"")


def test_bytes_like_chunks_are_accepted() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[Any]:
        start_response("200 OK", TEXT)
        return [bytearray(b"ab"), memoryview(b"cd")]

    assert call(app) == (200, RAW_TEXT, b"abcd")


def test_request_body_is_the_whole_input() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", TEXT)
        stream = environ["wsgi.input"]
        return [stream.readline(), b"|", stream.read(), b"|", stream.read()]

    assert call(app, b"line one\nrest")[2] == b"line one\n|rest|"


# -- Content-Length


def test_body_longer_than_content_length_is_cut_and_iteration_stops() -> None:
    body = Body([b"12345", b"67890", b"never read"])

    def app(environ: Environ, start_response: StartResponse) -> Body:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "7")])
        return body

    assert call(app) == (200, [*RAW_TEXT, (b"content-length", b"7")], b"1234567")
    assert (body.read, body.closed) == (2, 1)


def test_a_body_that_meets_content_length_exactly_stops_the_iteration() -> None:
    body = Body([b"12", b"34567", b"never read"])

    def app(environ: Environ, start_response: StartResponse) -> Body:
        start_response("200 OK", [("Content-Length", "7")])
        return body

    assert call(app)[2] == b"1234567"
    assert (body.read, body.closed) == (2, 1)


def test_content_length_set_while_the_first_chunk_is_made_still_cuts() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Length", "3")])  # on the first next()
        yield b"abcdef"
        yield b"ghi"

    assert call(app) == (200, [(b"content-length", b"3")], b"abc")


def test_bytes_like_chunks_from_a_generator_are_accepted() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterator[Any]:
        start_response("200 OK", TEXT)
        yield b""
        yield bytearray(b"ab")
        yield memoryview(b"cd")
        yield b"ef"

    assert call(app) == (200, RAW_TEXT, b"abcdef")


@pytest.mark.parametrize(
    ("length", "chunks", "expected"),
    [
        ("7", [b"12345", b"67890"], b"1234567"),
        (" 7\t", [b"12345", bytearray(b"67890")], b"1234567"),  # spaces around the digits
        ("0", [b"unwanted"], b""),
        ("9", [b"123", b"", b"45"], b"12345"),  # shorter: as it is
        ("ten", [b"0123456789ab"], b"0123456789ab"),  # not a length: no cut
    ],
)
def test_a_returned_list_is_cut_to_content_length(
    length: str, chunks: list[bytes], expected: bytes
) -> None:
    def app(environ: Environ, start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("Content-Length", length)])
        return chunks

    for _ in range(2):  # the length read the first time, and remembered
        assert call(app)[2] == expected


def test_every_content_length_is_read_as_it_is() -> None:
    from bridge.wsgi import response

    for i in range(1500):
        assert response.check_headers([("Content-Length", str(i))]) == (
            [("content-length", str(i))],
            i,
            len(f"content-length{i}"),
        )


def test_write_past_content_length_is_cut() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        write = start_response("200 OK", [("Content-Length", "3"), ("Content-Type", "a/b")])
        write(b"abcdef")
        return [b"more"]

    assert call(app)[2] == b"abc"


def test_zero_content_length_reads_nothing() -> None:
    body = Body([b"unwanted"])

    def app(environ: Environ, start_response: StartResponse) -> Body:
        start_response("200 OK", [("Content-Length", "0")])
        return body

    assert call(app) == (200, [(b"content-length", b"0")], b"")
    assert (body.read, body.closed) == (0, 1)


def test_shorter_body_than_content_length_is_passed_as_is() -> None:
    """A HEAD response announces the GET length with no body."""

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Length", "100")])
        return []

    assert call(app) == (200, [(b"content-length", b"100")], b"")


def test_invalid_content_length_is_not_used_to_cut() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Length", "ten")])
        return [b"0123456789ab"]

    assert call(app)[2] == b"0123456789ab"


# -- close()


def test_close_is_called_once_after_a_complete_response() -> None:
    body = Body([b"a", b"b"])

    def app(environ: Environ, start_response: StartResponse) -> Body:
        start_response("200 OK", TEXT)
        return body

    assert call(app) == (200, RAW_TEXT, b"ab")
    assert (body.read, body.closed) == (2, 1)


def test_close_is_called_when_iteration_fails(caplog: pytest.LogCaptureFixture) -> None:
    body = Body([b"a", b"b"], fail_at=1)

    def app(environ: Environ, start_response: StartResponse) -> Body:
        start_response("200 OK", TEXT)
        return body

    assert call(app) == ERROR
    assert body.closed == 1
    assert wsgi_messages(caplog) == [
        "Exception in WSGI application (GET /thing, body bytes produced); answering 500."
    ]


def test_close_is_called_after_a_protocol_error() -> None:
    body = Body(["text, not bytes"])

    def app(environ: Environ, start_response: StartResponse) -> Body:
        start_response("200 OK", TEXT)
        return body

    assert call(app) == ERROR
    assert body.closed == 1


def test_base_exceptions_pass_through_and_close_is_still_called() -> None:
    class Stop(BaseException):
        pass

    class Stopping(Body):
        def __iter__(self) -> Iterator[Any]:
            raise Stop

    body = Stopping([])

    def app(environ: Environ, start_response: StartResponse) -> Body:
        start_response("200 OK", TEXT)
        return body

    with pytest.raises(Stop):
        call(app)
    assert body.closed == 1


def test_close_failing_after_a_complete_response_keeps_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Failing(Body):
        def close(self) -> None:
            raise OSError("cannot close")

    def app(environ: Environ, start_response: StartResponse) -> Body:
        start_response("200 OK", TEXT)
        return Failing([b"fine"])

    assert call(app) == (200, RAW_TEXT, b"fine")
    assert wsgi_messages(caplog) == [
        "Exception in close() of the WSGI response iterable (GET /thing); the response stands."
    ]


def test_close_failing_without_a_response_is_a_500(caplog: pytest.LogCaptureFixture) -> None:
    class Failing(Body):
        def close(self) -> None:
            raise OSError("cannot close")

    def app(environ: Environ, start_response: StartResponse) -> Body:
        return Failing([])

    assert call(app) == ERROR
    assert wsgi_messages(caplog) == [
        "Exception in close() of the WSGI response iterable (GET /thing); answering 500."
    ]


def test_close_failing_after_a_failure_is_logged_too(caplog: pytest.LogCaptureFixture) -> None:
    class Failing(Body):
        def close(self) -> None:
            raise OSError("cannot close")

    def app(environ: Environ, start_response: StartResponse) -> Body:
        start_response("200 OK", TEXT)
        return Failing([b"a", b"b"], fail_at=1)

    assert call(app) == ERROR
    assert wsgi_messages(caplog) == [
        "Exception in WSGI application (GET /thing, body bytes produced); answering 500.",
        "Exception in close() of the WSGI response iterable (GET /thing); answering 500.",
    ]


# -- exc_info


def test_exc_info_before_the_body_replaces_the_status() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Partial", "1")])
        try:
            raise KeyError("while rendering")
        except KeyError:
            start_response(
                "503 Service Unavailable", [("Content-Type", "text/html")], sys.exc_info()
            )
        return [b"<p>error page</p>"]

    assert call(validator(app)) == (503, [(b"content-type", b"text/html")], b"<p>error page</p>")


def test_exc_info_on_the_first_call_is_accepted() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:
            raise KeyError("early")
        except KeyError:
            start_response("500 Internal Server Error", TEXT, sys.exc_info())
        return [b"custom error page"]

    assert call(app) == (500, RAW_TEXT, b"custom error page")


def test_exc_info_after_body_bytes_reraises(caplog: pytest.LogCaptureFixture) -> None:
    reraised: list[BaseException] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", TEXT)
        yield b"partial"
        try:
            raise KeyError("late failure")
        except KeyError as exc:
            try:
                start_response("500 Internal Server Error", TEXT, sys.exc_info())
            except KeyError as again:
                reraised.append(again)
                raise
            raise AssertionError("start_response should have re-raised") from exc

    assert call(app) == ERROR
    assert [type(e) for e in reraised] == [KeyError]
    [record] = [r for r in caplog.records if r.name == "bridge.wsgi"]
    assert record.exc_info is not None
    assert record.exc_info[1] is reraised[0]


def test_exc_info_after_write_reraises() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        write = start_response("200 OK", TEXT)
        write(b"partial")
        try:
            raise KeyError("late failure")
        except KeyError:
            start_response("500 Internal Server Error", TEXT, sys.exc_info())
        return [b"unreachable"]

    assert call(app) == ERROR


# -- misbehaving applications: a 500 and a log line that says what arrived


def test_raises_before_start_response(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        raise RuntimeError("no luck")

    assert call(app) == ERROR
    [record] = [r for r in caplog.records if r.name == "bridge.wsgi"]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == (
        "Exception in WSGI application (GET /thing, start_response() not called yet); "
        "answering 500."
    )
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "no luck"


def test_raises_after_start_response(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", TEXT)
        raise RuntimeError("no luck")

    assert call(app) == ERROR
    assert wsgi_messages(caplog) == [
        "Exception in WSGI application (GET /thing, status and headers set, no body yet); "
        "answering 500."
    ]


def test_never_calls_start_response(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        return [b""]

    assert call(app) == ERROR
    assert wsgi_messages(caplog) == [
        "WSGI application returned without calling start_response() (GET /thing); expected "
        "start_response(status, headers) before the end of the response iterable, got a list of "
        "1 item. Answering 500."
    ]


@pytest.mark.parametrize(
    ("result", "arrived"),
    [
        (None, "None"),
        (42, "an int"),
        (b"body", "a bytes object of 4 bytes; return [body] instead"),
        ("body", "a str of 4 characters; return [body] instead"),
    ],
)
def test_returns_something_that_is_not_an_iterable_of_bytes(
    result: object, arrived: str, caplog: pytest.LogCaptureFixture
) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Any:
        start_response("200 OK", TEXT)
        return result

    assert call(app) == ERROR
    assert wsgi_messages(caplog) == [
        "WSGI protocol error (GET /thing, status and headers set, no body yet): Expected the "
        f"WSGI application to return an iterable of bytes, got {arrived}. Answering 500."
    ]


def test_yields_str(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[Any]:
        start_response("200 OK", TEXT)
        return [b"fine", "not bytes"]

    assert call(app) == ERROR
    assert wsgi_messages(caplog) == [
        "WSGI protocol error (GET /thing, body bytes produced): Expected the WSGI response "
        "body to be bytes, got a str of 9 characters. Answering 500."
    ]


def test_writes_str(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        write: Callable[[Any], object] = start_response("200 OK", TEXT)
        write("text")
        return []

    assert call(app) == ERROR
    assert (
        "Expected the WSGI response body to be bytes, got a str of 4 characters."
        in (wsgi_messages(caplog)[0])
    )


def test_body_before_start_response(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        yield b"too early"
        start_response("200 OK", TEXT)

    assert call(app) == ERROR
    assert wsgi_messages(caplog) == [
        "WSGI protocol error (GET /thing, start_response() not called yet): The WSGI "
        "application produced body bytes before calling start_response(); expected "
        "start_response() first. Answering 500."
    ]


def test_write_before_start_response(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        write = start_response.__self__.write  # type: ignore[attr-defined]
        write(b"x")
        return []

    assert call(app) == ERROR
    assert "write() was called before start_response()." in wsgi_messages(caplog)[0]


def test_start_response_twice_without_exc_info(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", TEXT)
        start_response("201 Created", TEXT)
        return [b"x"]

    assert call(app) == ERROR
    assert wsgi_messages(caplog) == [
        "WSGI protocol error (GET /thing, status and headers set, no body yet): "
        "start_response() was called a second time without exc_info; expected one call, or a "
        "second one with exc_info to replace the status after an error. Answering 500."
    ]


@pytest.mark.parametrize(
    ("status", "arrived"),
    [
        (200, ", got an int"),
        ("OK", " (three digits from 100, then a space or the end), got a str of 2 characters"),
        ("2000 Too Long", " (three digits from 100, then a space or the end), got a str of 13"),
        ("099 Low", " (three digits from 100, then a space or the end), got a str of 7 "),
        (b"200 OK", ", got a bytes object of 6 bytes"),
        ("200 OK\r\nX: 1", ", with no control character but tab in its reason phrase, got a str"),
    ],
)
def test_invalid_status(status: object, arrived: str, caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response(status, TEXT)
        return [b"x"]

    assert call(app) == ERROR
    [message] = wsgi_messages(caplog)
    assert message.startswith(
        "WSGI protocol error (GET /thing, start_response() not called yet): Expected the WSGI "
        f"status to be a str such as '200 OK'{arrived}"
    )
    assert message.endswith("Answering 500.")
    if isinstance(status, str) and status != "OK":
        assert status not in message


@pytest.mark.parametrize(
    ("headers", "arrived"),
    [
        ({"Content-Type": "text/plain"}, "list of (name, value) tuples, got a dict of 1 item"),
        ((("Content-Type", "text/plain"),), "list of (name, value) tuples, got a tuple of 1"),
        ([(b"Content-Type", b"text/plain")], "latin-1 str, got a tuple of (bytes, bytes)"),
        ([("Content-Type",)], "(name, value) tuple of latin-1 str, got a tuple of 1 item"),
        ([("X-Name", 3)], "(name, value) tuple of latin-1 str, got a tuple of (str, int)"),
        ([("X-Name", "€")], "header 'x-name' to have a latin-1 str value, got one with other"),
        (
            [("Bad Name", "v")],
            "an HTTP token (letters, digits and !#$%&'*+-.^_`|~), got a str of 8",
        ),
        ([("X-A:", "v")], "got a str of 4 characters, not an HTTP token (not shown)"),
        ([("", "v")], "got a str of 0 characters, not an HTTP token (not shown)"),
        ([("X-A", "v\r\nSet-Cookie: x=1")], "'x-a' without line breaks or NUL, got a value with"),
        ([("X-A", "v\nw")], "'x-a' without line breaks or NUL, got a value with CR, LF or NUL"),
        ([("X-A", "v\0w")], "'x-a' without line breaks or NUL, got a value with CR, LF or NUL"),
    ],
)
def test_invalid_headers(headers: object, arrived: str, caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", headers)
        return [b"x"]

    assert call(app) == ERROR
    [message] = wsgi_messages(caplog)
    assert arrived in message
    assert message.endswith("Answering 500.")
    # The values never reach the log, nor the exception chain the log shows.
    (record,) = [r for r in caplog.records if r.name == "bridge.wsgi"]
    assert record.exc_info is not None
    error = record.exc_info[1]
    assert error is not None
    assert error.__context__ is None
    for value in ("text/plain", "v\nw", "€", "x=1"):
        assert value not in caplog.text


def test_a_broken_scope_is_a_500_not_an_exception(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        raise AssertionError("not called")

    assert run_app(app, {"type": "http", "method": "GET", "path": "/"}, b"") == ERROR
    assert wsgi_messages(caplog) == ["Could not build the WSGI environ for GET /; answering 500."]


def test_header_names_are_cached_lower_case() -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("X-Mixed-Case", "1"), ("x-mixed-case", "2")])
        return []

    for _ in range(2):
        assert call(app)[1] == [(b"x-mixed-case", b"1"), (b"x-mixed-case", b"2")]


def test_header_values_checked_before_give_the_same_as_the_first_time() -> None:
    from bridge.wsgi import response

    headers = [
        ("Content-Type", " text/plain; charset=utf-8\t"),
        ("Content-Length", "0001"),
        ("X-Empty", ""),
        ("X-Long", "v" * 200),
        ("X-Latin", "caf\xe9"),
    ]

    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", headers)
        return [b"xyz"]

    expected = (
        200,
        [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", b"0001"),
            (b"x-empty", b""),
            (b"x-long", b"v" * 200),
            (b"x-latin", b"caf\xe9"),
        ],
        b"x",
    )
    for _ in range(2):
        assert call(app) == expected
    assert ("X-Long", "v" * 200) not in response._CHECKED  # long values vary: not kept
    assert response._CHECKED[headers[0]][0] == ("content-type", "text/plain; charset=utf-8")


@pytest.mark.parametrize("value", ["text/plain\r\nX-A: 1", "text/plain\0", "\u20ac", None, 3])
def test_header_values_that_fail_are_checked_every_time(
    value: object, caplog: pytest.LogCaptureFixture
) -> None:
    def app(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", value)])
        return [b"x"]

    for _ in range(2):
        assert call(app) == ERROR
    assert len(wsgi_messages(caplog)) == 2


def test_a_header_first_sent_after_the_cache_filled_is_still_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bridge.wsgi import response

    monkeypatch.setattr(response, "_CHECKED", {})
    for i in range(LIMIT + 10):
        response.check_headers([("ETag", f'"v{i}"')])
    late = ("Content-Type", "application/x-seen-late")
    checked, length, _ = response.check_headers([late])
    assert checked == [("content-type", "application/x-seen-late")]
    assert length is None
    assert late in response._CHECKED
    assert len(response._CHECKED) <= LIMIT
    assert response.check_headers([("ETag", '"v700"')])[0] == [("etag", '"v700"')]


def test_cookie_values_are_checked_but_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    from bridge.wsgi import response

    monkeypatch.setattr(response, "_CHECKED", {})
    for name in ("Set-Cookie", "set-cookie", "SET-COOKIE"):
        checked, _, _ = response.check_headers([(name, "session=abc123; HttpOnly")])
        assert checked == [("set-cookie", "session=abc123; HttpOnly")]
    assert not response._CHECKED


def test_headers_sent_again_give_what_they_gave_the_first_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bridge.wsgi import response

    monkeypatch.setattr(response, "_CHECKED", {})
    headers = [("Content-Type", " text/plain\t"), ("Content-Length", "12"), ("X-A", "1")]
    first = response.check_headers(headers)
    assert first == (
        [("content-type", "text/plain"), ("content-length", "12"), ("x-a", "1")],
        12,
        len("content-typetext/plaincontent-length12x-a1"),
    )
    assert len(response._CHECKED) == 3
    assert response.check_headers([tuple(h) for h in headers]) == first  # equal, not the same


class _Text(str):
    pass


class _Pair(tuple[str, str]):
    pass


@pytest.mark.parametrize(
    "item",
    [
        ["X-A", "1"],  # a list: not hashable
        _Pair(("X-A", "1")),  # a tuple subclass
        ("X-A", _Text("1")),
        (_Text("X-A"), "1"),
        ("X-A", "v" * 200),  # long values vary too much to keep
    ],
    ids=["list", "tuple-subclass", "str-subclass-value", "str-subclass-name", "long"],
)
def test_only_plain_short_values_are_remembered(item: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from bridge.wsgi import response

    monkeypatch.setattr(response, "_CHECKED", {})
    for _ in range(2):
        checked, _, _ = response.check_headers([item])
        assert checked == [("x-a", str(item[1]))]
    assert not response._CHECKED
