"""Application faults bridge must contain: unsafe headers, responses Lambda
would refuse, applications that run into the Lambda deadline, and
cancellation that does not come from bridge."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge import Bridge, ConfigurationError
from bridge.checks import LAMBDA_RESPONSE_LIMIT, might_be_too_large, small_response
from bridge.local.events import FakeContext, build_event
from bridge.local.responses import decode_response
from tests.apps import read_body, respond_with
from tests.conftest import HandlerFactory
from tests.contract import assert_contract
from tests.sources.traits import TRAITS

# ------------------------------------------------------------ unsafe headers


UNSAFE_HEADERS = [
    (b"x-next", b"a\r\nSet-Cookie: evil=1", "value"),
    (b"x-next", b"a\nb", "value"),
    (b"x-next", b"a\rb", "value"),
    (b"x-next", b"a\x00b", "value"),
    (b"x-a\r\nx-b", b"1", "name"),
]


@pytest.mark.parametrize("unsafe", UNSAFE_HEADERS)
def test_header_with_cr_lf_or_nul_is_never_passed_on(
    make_handler: HandlerFactory,
    source: str,
    unsafe: tuple[bytes, bytes, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    name, value, part = unsafe
    app = respond_with(200, [(b"x-fine", b"1"), (name, value)], b"secret body")
    response = make_handler(app)(build_event(source), FakeContext())

    assert_contract(source, response)
    status, headers, body = decode_response(source, response)
    assert status == 500
    assert body == b"Internal Server Error"
    assert all(n.lower() not in ("x-fine", "x-next") for n, _ in headers)
    # Refused where the answer enters bridge: the log names the request and
    # what is wrong, never the name (it may be a whole header line) or value.
    (record,) = [r for r in caplog.records if r.name == "bridge.http"]
    if part == "name":
        assert "is not an HTTP token" in caplog.text
        assert name.decode("latin-1") not in caplog.text
    else:
        assert "header 'x-next' (entry 1) has CR, LF or NUL" in caplog.text
        assert value.decode("latin-1") not in caplog.text
    assert "GET /" in record.getMessage()


@given(
    value=st.binary(max_size=20),
    bad=st.sampled_from([b"\r", b"\n", b"\x00"]),
    at=st.integers(0, 20),
)
def test_any_header_value_with_a_control_break_is_refused(
    value: bytes, bad: bytes, at: int
) -> None:
    app = respond_with(200, [(b"x-v", value[:at] + bad + value[at:])])
    handler = Bridge(app, lifespan="off")
    assert handler(build_event("rest"), FakeContext())["statusCode"] == 500


# ----------------------------------------------------- Lambda's response limit


def _overhead(source: str, content_type: bytes) -> int:
    """JSON bytes of the response to an empty text body."""
    handler = Bridge(respond_with(200, [(b"content-type", content_type)], b""), lifespan="off")
    return len(json.dumps(handler(build_event(source), FakeContext())))


#: The limit each source's responses are held to: Lambda's, or the service's
#: own when it is lower (an Application Load Balancer takes 1 MB of JSON).
#: Lambda@Edge counts headers and body, not JSON: its tests are further down.
LIMITS = {
    source: limit
    for source in ("http", "rest", "alb", "alb-multi")
    if (limit := TRAITS[source].response_limit) is not None
}


@pytest.mark.parametrize("source", sorted(LIMITS))
def test_response_exactly_at_the_limit_is_returned(
    make_handler: HandlerFactory, source: str
) -> None:
    body = b"a" * (LIMITS[source] - _overhead(source, b"text/plain"))
    handler = make_handler(respond_with(200, [(b"content-type", b"text/plain")], body))
    response = handler(build_event(source), FakeContext())
    assert len(json.dumps(response)) == LIMITS[source]
    assert decode_response(source, response)[2] == body


@pytest.mark.parametrize("source", sorted(LIMITS))
def test_response_one_byte_over_the_limit_is_an_error_response(
    make_handler: HandlerFactory, source: str, caplog: pytest.LogCaptureFixture
) -> None:
    limit = LIMITS[source]
    body = b"a" * (limit - _overhead(source, b"text/plain") + 1)
    handler = make_handler(respond_with(200, [(b"content-type", b"text/plain")], body))
    response = handler(build_event(source, path="/big"), FakeContext())

    assert_contract(source, response)
    status, _, text = decode_response(source, response)
    assert status == 500
    assert b"too large for AWS Lambda" in text
    (record,) = [r for r in caplog.records if r.name == "bridge"]
    message = record.getMessage()
    assert f"is {limit + 1} bytes" in message
    assert f"limit of {limit} bytes" in message
    assert "GET /big" in message
    assert ("alb source's" in message) == source.startswith("alb")


def test_an_alb_response_between_its_limit_and_lambdas_is_refused_in_both_interfaces(
    make_handler: HandlerFactory,
) -> None:
    """2 MB of text: fine for Lambda, over the load balancer's 1 MB."""
    body = b"a" * 2_000_000
    headers = [(b"content-type", b"text/plain")]
    for app in (respond_with(200, headers, body), _wsgi_text_app(body)):
        response = make_handler(app)(build_event("alb"), FakeContext())
        assert response["statusCode"] == 500
        response = make_handler(app)(build_event("http"), FakeContext())
        assert response["statusCode"] == 200


def _wsgi_text_app(body: bytes, content_type: str = "text/plain") -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", content_type)])
        return [body]

    return app


@given(
    st.sampled_from([0, 1_024, 2_000, 100_000, 1_048_576, LAMBDA_RESPONSE_LIMIT]),
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0, max_value=1),
)
def test_a_response_within_the_small_size_is_never_near_the_limit(
    limit: int, header_share: float, headers_per_byte: float
) -> None:
    # The largest response the bound lets through, split between body and
    # headers; at worst every header byte is a header of its own.
    total = small_response(limit)
    header_size = round(max(total, 0) * header_share)
    body_size = max(total, 0) - header_size
    header_count = round(header_size * headers_per_byte)
    if total >= 0:
        assert not might_be_too_large(body_size, header_size, header_count, limit)
    else:  # below the fixed overhead: nothing is small enough
        assert might_be_too_large(0, 0, 0, limit)


def test_a_custom_source_with_a_low_limit_has_it_enforced_in_both_interfaces(
    make_handler: HandlerFactory,
) -> None:
    """A user's source whose service takes 2,000 bytes of response JSON: a
    2,500-byte body, small by every built-in limit, is over it."""
    from bridge.sources import EventSource, http_api_v2

    small = EventSource(
        name="small",
        matches=lambda event: "rawPath" in event,
        to_request=http_api_v2.SOURCE.to_request,
        to_response=http_api_v2.SOURCE.to_response,
        read=http_api_v2.read,
        response_limit=2_000,
    )
    for body_size, status in ((2_500, 500), (500, 200)):
        body = b"a" * body_size
        for app in (
            respond_with(200, [(b"content-type", b"text/plain")], body),
            _wsgi_text_app(body),
        ):
            handler = make_handler(app, custom_handlers=[small])
            response = handler(build_event("http"), FakeContext())
            assert response["statusCode"] == status


# ------------------------------------------- Lambda@Edge's generated responses


def _edge_event(trigger: str | None, path: str = "/big") -> dict[str, Any]:
    event = build_event("edge", path=path)
    config = event["Records"][0]["cf"]["config"]
    if trigger is None:
        del config["eventType"]
    else:
        config["eventType"] = trigger
    return event


def _edge_apps(body: bytes, content_type: bytes = b"text/plain") -> list[Any]:
    """The same response from an ASGI and a WSGI application."""
    return [
        respond_with(200, [(b"content-type", content_type)], body),
        _wsgi_text_app(body, content_type.decode()),
    ]


#: One header, ``Content-Type: text/plain``, as the edge response counts it.
EDGE_HEADER_BYTES = len("Content-Type") + len("text/plain")


@pytest.mark.parametrize(
    ("trigger", "limit"),
    [("viewer-request", 40_960), ("origin-request", 1_048_576), (None, 1_048_576)],
)
def test_an_edge_response_at_its_triggers_limit_passes_and_one_byte_over_is_refused(
    make_handler: HandlerFactory,
    caplog: pytest.LogCaptureFixture,
    trigger: str | None,
    limit: int,
) -> None:
    fits = b"a" * (limit - EDGE_HEADER_BYTES)
    for app in _edge_apps(fits):
        response = make_handler(app)(_edge_event(trigger), FakeContext())
        assert response["status"] == "200"
        assert decode_response("edge", response)[2] == fits
    assert not [r for r in caplog.records if r.levelname == "ERROR"]

    for app in _edge_apps(fits + b"a"):
        caplog.clear()
        response = make_handler(app)(_edge_event(trigger), FakeContext())
        assert_contract("edge", response)
        status, _, text = decode_response("edge", response)
        assert status == 500
        assert text == b"Internal Server Error: the response is too large for Lambda@Edge."
        (record,) = [r for r in caplog.records if r.levelname == "ERROR"]
        assert record.name == "bridge.sources.edge"
        message = record.getMessage()
        assert "GET /big" in message
        assert f"is {limit + 1} bytes of headers and body" in message
        assert f"limit of {limit} bytes" in message
        assert (f"a {trigger} trigger" if trigger else "a request trigger") in message


def test_an_edge_response_fine_for_an_origin_request_is_refused_for_a_viewer_request(
    make_handler: HandlerFactory,
) -> None:
    body = b"a" * 100_000
    for app in _edge_apps(body):
        handler = make_handler(app)
        assert handler(_edge_event("origin-request"), FakeContext())["status"] == "200"
        assert handler(_edge_event("viewer-request"), FakeContext())["status"] == "500"


def test_an_edge_binary_body_counts_its_own_bytes_not_its_base64(
    make_handler: HandlerFactory,
) -> None:
    """32,000 bytes of binary is 42,668 characters of base64: the bytes are
    what is certainly counted, and they are under the viewer-request limit."""
    body = bytes(range(256)) * 125
    for app in _edge_apps(body, b"application/octet-stream"):
        response = make_handler(app)(_edge_event("viewer-request"), FakeContext())
        assert response["bodyEncoding"] == "base64"
        assert len(response["body"]) == 42_668
        assert decode_response("edge", response)[2] == body


def test_an_edge_body_over_the_limit_is_never_encoded(
    make_handler: HandlerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A binary body refused for its size is not turned into base64 first:
    the only body encoded is the 500's, which is text."""
    import bridge.body

    encoded: list[int] = []
    encode = bridge.body._b64encode

    def counting_encode(data: bytes) -> str:
        encoded.append(len(data))
        return encode(data)

    monkeypatch.setattr(bridge.body, "_b64encode", counting_encode)
    fits = bytes(range(256)) * 100
    over = bytes(range(256)) * 200
    for app in _edge_apps(fits, b"application/octet-stream"):
        response = make_handler(app)(_edge_event("viewer-request"), FakeContext())
        assert response["bodyEncoding"] == "base64"
    assert encoded == [len(fits), len(fits)]
    encoded.clear()
    for app in _edge_apps(over, b"application/octet-stream"):
        response = make_handler(app)(_edge_event("viewer-request"), FakeContext())
        assert (response["status"], response["bodyEncoding"]) == ("500", "text")
    assert encoded == []


def test_an_edge_limit_counts_the_headers(make_handler: HandlerFactory) -> None:
    """A body under the limit with a header that takes it over."""
    body = b"a" * (40_960 - EDGE_HEADER_BYTES - 100)
    padding = ("x-pad", "p" * 96)  # 101 bytes: one over
    for padded in (False, True):

        def app(environ: dict[str, Any], start_response: Any, padded: bool = padded) -> Any:
            start_response("200 OK", [("Content-Type", "text/plain"), *([padding] * padded)])
            return [body]

        response = make_handler(app)(_edge_event("viewer-request"), FakeContext())
        assert response["status"] == ("500" if padded else "200")


def test_binary_body_counts_after_base64(make_handler: HandlerFactory) -> None:
    """4.8 MB of bytes is 6.4 MB of base64: over the limit."""
    body = bytes(range(256)) * 18_750
    response = make_handler(respond_with(200, [], body))(build_event("http"), FakeContext())
    assert response["statusCode"] == 500


def test_escaped_characters_count_as_sent(make_handler: HandlerFactory) -> None:
    """1.1 MB of control characters is 6.6 MB of JSON escapes."""
    body = b"\x01" * 1_100_000
    app = respond_with(200, [(b"content-type", b"text/plain")], body)
    assert make_handler(app)(build_event("http"), FakeContext())["statusCode"] == 500


def test_non_ascii_text_counts_as_the_runtime_sends_it(make_handler: HandlerFactory) -> None:
    """Runtimes before Python 3.12 escape non-ASCII (six bytes per ``é``);
    later ones send UTF-8 (two bytes)."""
    body = "é".encode() * 1_500_000  # 3 MB as UTF-8, 9 MB escaped
    app = respond_with(200, [(b"content-type", b"text/plain; charset=utf-8")], body)
    status = make_handler(app)(build_event("http"), FakeContext())["statusCode"]
    assert status == (500 if sys.version_info < (3, 12) else 200)


def test_many_large_headers_count(make_handler: HandlerFactory) -> None:
    headers = [(b"x-h%d" % i, b"v" * 8000) for i in range(800)]
    response = make_handler(respond_with(200, headers, b"small"))(build_event("rest"))
    assert response["statusCode"] == 500


def test_small_responses_are_not_measured(
    make_handler: HandlerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(response: Any) -> int:
        raise AssertionError("measured a small response")

    monkeypatch.setattr("bridge.response.encoded_size", fail)
    app = respond_with(200, [(b"content-type", b"text/plain")], b"x" * 900_000)
    assert make_handler(app)(build_event("http"), FakeContext())["statusCode"] == 200


# ------------------------------------------------------------- the deadline


class Context:
    """A Lambda context whose remaining time is fixed."""

    aws_request_id = "test"

    def __init__(self, remaining_ms: Any) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> Any:
        return self.remaining_ms


class Hangs:
    """An app that starts (or not) and then waits forever, recording how it ended."""

    def __init__(self, *, start: bool = False, finish: bool = False, swallow: bool = False):
        self.start = start
        self.finish = finish
        self.swallow = swallow
        self.cancelled = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await read_body(receive)
        if self.start:
            headers = [(b"content-type", b"text/plain")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
        if self.finish:
            await send({"type": "http.response.body", "body": b"done"})
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            if not self.swallow:
                raise


def run_with_deadline(
    make_handler: HandlerFactory, app: Any, remaining_ms: Any = 501, **options: Any
) -> dict[str, Any]:
    handler = make_handler(app, lifespan="off", **options)
    result: dict[str, Any] = handler(build_event("http", path="/slow"), Context(remaining_ms))
    return result


def test_app_running_into_the_deadline_gets_504(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = Hangs()
    response = run_with_deadline(make_handler, app)
    assert response == {
        "statusCode": 504,
        "headers": {"content-type": "text/plain; charset=utf-8"},
        "body": "Gateway Timeout",
        "isBase64Encoded": False,
    }
    assert app.cancelled
    (record,) = [r for r in caplog.records if r.name == "bridge.http"]
    message = record.getMessage()
    assert "still running at its time limit (1 ms" in message
    assert "GET /slow" in message
    assert "answered 504" in message


def test_deadline_after_start_still_gives_504(make_handler: HandlerFactory) -> None:
    assert run_with_deadline(make_handler, Hangs(start=True))["statusCode"] == 504


def test_app_that_swallows_the_cancellation_gets_504(make_handler: HandlerFactory) -> None:
    app = Hangs(swallow=True)
    assert run_with_deadline(make_handler, app)["statusCode"] == 504
    assert app.cancelled


def test_app_that_turns_the_cancellation_into_an_error_gets_504(
    make_handler: HandlerFactory,
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise RuntimeError("interrupted") from None

    assert run_with_deadline(make_handler, app)["statusCode"] == 504


def test_complete_response_stands_when_background_work_hits_the_deadline(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = Hangs(start=True, finish=True)
    response = run_with_deadline(make_handler, app)
    assert (response["statusCode"], response["body"]) == (200, "done")
    assert app.cancelled
    assert "The response stands" in caplog.text


@pytest.mark.parametrize("remaining", [None, 0, -5, "soon"])
def test_no_deadline_without_a_usable_remaining_time(
    make_handler: HandlerFactory, remaining: Any
) -> None:
    """A context that knows no deadline (a stub answering 0, a mock) means no time limit."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(0.01)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    assert run_with_deadline(make_handler, app, remaining)["statusCode"] == 200


def test_no_deadline_without_a_context(make_handler: HandlerFactory) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(0.01)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    handler = make_handler(app, lifespan="off")
    assert handler(build_event("http"))["statusCode"] == 200
    assert handler(build_event("http"), object())["statusCode"] == 200  # type: ignore[arg-type]


def test_margin_none_turns_the_deadline_off(make_handler: HandlerFactory) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(0.01)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    response = run_with_deadline(make_handler, app, 1, timeout_margin_ms=None)
    assert response["statusCode"] == 200


def test_margin_is_configurable(make_handler: HandlerFactory) -> None:
    """With 10 s left and a 10 s margin, the app has no time at all."""
    response = run_with_deadline(make_handler, Hangs(), 10_000, timeout_margin_ms=10_000)
    assert response["statusCode"] == 504


def test_next_invocation_after_a_timeout_is_served(make_handler: HandlerFactory) -> None:
    handler = make_handler(Hangs(), lifespan="off")
    assert handler(build_event("http"), Context(501))["statusCode"] == 504
    fine = make_handler(respond_with(200, [], b"ok"), lifespan="off")
    assert fine(build_event("http"), Context(60_000))["statusCode"] == 200


def test_one_timer_serves_invocations_with_later_deadlines(make_handler: HandlerFactory) -> None:
    """A timer armed for an earlier, short deadline fires during a later
    invocation with time to spare: it is re-armed, not acted on."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(float(scope["path"].strip("/")))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    handler = make_handler(app, lifespan="off", timeout_margin_ms=0)
    assert handler(build_event("http", path="/0"), Context(50))["statusCode"] == 200
    assert handler(build_event("http", path="/0.2"), Context(60_000))["statusCode"] == 200
    assert handler(build_event("http", path="/3600"), Context(50))["statusCode"] == 504
    assert handler(build_event("http", path="/0"), Context(60_000))["statusCode"] == 200


class CountingContext(Context):
    """Counts the calls for the remaining time; raises on them if told to."""

    def __init__(self, remaining_ms: Any, error: Exception | None = None) -> None:
        super().__init__(remaining_ms)
        self.error = error
        self.calls = 0

    def get_remaining_time_in_millis(self) -> Any:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.remaining_ms


async def waits_then_answers(scope: Any, receive: Any, send: Any) -> None:
    await asyncio.sleep(0.001)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_an_app_that_never_waits_is_not_watched(make_handler: HandlerFactory) -> None:
    """It finishes in its first step on the loop, where no timer could stop it."""
    context = CountingContext(501)
    handler = make_handler(respond_with(200, [], b"ok"), lifespan="off")
    assert handler(build_event("http"), context)["statusCode"] == 200
    assert context.calls == 0


def test_an_app_that_waits_is_watched_once(make_handler: HandlerFactory) -> None:
    context = CountingContext(60_000)
    handler = make_handler(waits_then_answers, lifespan="off")
    assert handler(build_event("http"), context)["statusCode"] == 200
    assert context.calls == 1


def test_a_context_that_cannot_tell_its_remaining_time_means_no_limit(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    context = CountingContext(501, RuntimeError("no deadline here"))
    handler = make_handler(waits_then_answers, lifespan="off")
    assert handler(build_event("http", path="/p"), context)["statusCode"] == 200
    assert context.calls == 1
    assert "get_remaining_time_in_millis() failed; no time limit for GET /p" in caplog.text
    assert "no deadline here" in caplog.text


def test_a_timer_left_from_a_slow_invocation_spares_later_ones(
    make_handler: HandlerFactory,
) -> None:
    """Armed for a 504, the timer stays on the loop; later invocations, waiting
    or not, are watched against their own deadlines only."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] != "/fast":
            await asyncio.sleep(float(scope["path"].strip("/")))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    handler = make_handler(app, lifespan="off", timeout_margin_ms=0)
    assert handler(build_event("http", path="/0.001"), Context(60_000))["statusCode"] == 200
    assert handler(build_event("http", path="/fast"), Context(1))["statusCode"] == 200
    assert handler(build_event("http", path="/3600"), Context(30))["statusCode"] == 504
    assert handler(build_event("http", path="/fast"), Context(60_000))["statusCode"] == 200
    assert handler(build_event("http", path="/0.05"), Context(60_000))["statusCode"] == 200


@pytest.mark.parametrize("bad", [-1, 1.5, "500", True])
def test_bad_margin_is_a_configuration_error(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="timeout_margin_ms"):
        Bridge(respond_with(), timeout_margin_ms=bad)


# ------------------------------------------- cancellation not from bridge


def test_app_raising_cancelled_error_gets_500_not_an_exception(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise asyncio.CancelledError

    handler = make_handler(app, lifespan="off")
    assert handler(build_event("http"), FakeContext())["statusCode"] == 500
    assert "Exception in ASGI application" in caplog.text


def test_app_awaiting_a_cancelled_task_gets_500(make_handler: HandlerFactory) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        task = asyncio.get_running_loop().create_task(asyncio.sleep(3600))
        await asyncio.sleep(0)
        task.cancel()
        await task

    handler = make_handler(app, lifespan="off")
    assert handler(build_event("http"), FakeContext())["statusCode"] == 500


def test_every_source_answers_504_in_its_own_shape(
    make_handler: HandlerFactory, source: str
) -> None:
    handler = make_handler(Hangs(), lifespan="off")
    response = handler(build_event(source), Context(501))
    assert_contract(source, response)
    assert decode_response(source, response)[0] == 504
