"""Application faults bridge must contain: unsafe headers, responses Lambda
would refuse, applications that run into the Lambda deadline, and
cancellation that does not come from bridge."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge import Bridge
from bridge.checks import LAMBDA_RESPONSE_LIMIT
from bridge.local.events import FakeContext, build_event
from bridge.local.responses import decode_response
from tests.apps import respond_with
from tests.conftest import HandlerFactory
from tests.contract import assert_contract

# ------------------------------------------------------------ unsafe headers


@pytest.mark.parametrize(
    ("name", "value", "part"),
    [
        (b"x-next", b"a\r\nSet-Cookie: evil=1", "value"),
        (b"x-next", b"a\nb", "value"),
        (b"x-next", b"a\rb", "value"),
        (b"x-next", b"a\x00b", "value"),
        (b"x-a\r\nx-b", b"1", "name"),
    ],
)
def test_header_with_cr_lf_or_nul_is_never_passed_on(
    make_handler: HandlerFactory,
    source: str,
    name: bytes,
    value: bytes,
    part: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = respond_with(200, [(b"x-fine", b"1"), (name, value)], b"secret body")
    response = make_handler(app)(build_event(source), FakeContext())

    assert_contract(source, response)
    status, headers, body = decode_response(source.removesuffix("-multi"), response)
    assert status == 500
    assert body == b"Internal Server Error"
    assert all(n.lower() not in ("x-fine", "x-next") for n, _ in headers)
    (record,) = [r for r in caplog.records if r.name == "bridge"]
    assert f"whose {part} contains CR, LF or NUL" in record.getMessage()
    assert "GET /" in record.getMessage()
    if part == "value":
        assert value.decode("latin-1") not in record.getMessage()


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


@pytest.mark.parametrize("source", ["http", "rest", "alb", "edge"])
def test_response_exactly_at_the_limit_is_returned(
    make_handler: HandlerFactory, source: str
) -> None:
    body = b"a" * (LAMBDA_RESPONSE_LIMIT - _overhead(source, b"text/plain"))
    handler = make_handler(respond_with(200, [(b"content-type", b"text/plain")], body))
    response = handler(build_event(source), FakeContext())
    assert len(json.dumps(response)) == LAMBDA_RESPONSE_LIMIT
    assert decode_response(source, response)[2] == body


@pytest.mark.parametrize("source", ["http", "rest", "alb", "edge"])
def test_response_one_byte_over_the_limit_is_an_error_response(
    make_handler: HandlerFactory, source: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = b"a" * (LAMBDA_RESPONSE_LIMIT - _overhead(source, b"text/plain") + 1)
    handler = make_handler(respond_with(200, [(b"content-type", b"text/plain")], body))
    response = handler(build_event(source, path="/big"), FakeContext())

    assert_contract(source, response)
    status, _, text = decode_response(source, response)
    assert status == 500
    assert b"too large for AWS Lambda" in text
    (record,) = [r for r in caplog.records if r.name == "bridge"]
    message = record.getMessage()
    assert f"is {LAMBDA_RESPONSE_LIMIT + 1} bytes" in message
    assert f"limit of {LAMBDA_RESPONSE_LIMIT} bytes" in message
    assert "GET /big" in message


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

    monkeypatch.setattr("bridge.adapter.encoded_size", fail)
    app = respond_with(200, [(b"content-type", b"text/plain")], b"x" * 900_000)
    assert make_handler(app)(build_event("http"), FakeContext())["statusCode"] == 200
