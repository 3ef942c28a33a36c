"""The sans-IO layers of ``bridge.runtime``: HTTP/1.1, the Runtime API, streaming framing."""

from __future__ import annotations

import base64
import io
import json
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.runtime.api import (
    Invocation,
    RuntimeAPIError,
    check_accepted,
    decode_event,
    error_body,
    error_request,
    exception_error,
    init_error_request,
    next_request,
    read_invocation,
    response_request,
    restore_next_request,
)
from bridge.runtime.framing import (
    SEPARATOR,
    chunk,
    last_chunk,
    prelude,
    stream_request,
)
from bridge.runtime.http import (
    HTTPProtocolError,
    Request,
    Response,
    ResponseParser,
    encode_request,
)
from tests.runtime_api import read_chunked

HOST = "127.0.0.1:9001"


def parse(data: bytes, method: str = "GET", *, eof: bool = False) -> Response | None:
    parser = ResponseParser()
    parser.expect(method)
    parser.feed(data)
    if eof:
        parser.feed(b"")
    return parser.next_response()


# -- HTTP/1.1 ------------------------------------------------------------------------------------


def test_a_request_gets_host_and_content_length() -> None:
    request = Request("POST", "/a", (("Content-Type", "application/json"),), b"{}")
    assert encode_request(request, HOST) == (
        b"POST /a HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2\r\n\r\n{}"
    )


def test_a_chunked_request_is_only_its_head() -> None:
    request = Request("POST", "/a", (("Transfer-Encoding", "chunked"),), b"ignored")
    assert encode_request(request, HOST) == (
        b"POST /a HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nTransfer-Encoding: chunked\r\n\r\n"
    )


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb"])
def test_a_header_with_a_line_break_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        encode_request(Request("GET", "/", (("X", value),)), HOST)


def test_a_content_length_response() -> None:
    response = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhello")
    assert response == Response(200, "OK", {"content-length": "5", "x-a": "1, 2"}, b"hello")


def test_a_response_fed_byte_by_byte() -> None:
    data = b"HTTP/1.1 202 Accepted\r\nContent-Length: 3\r\n\r\nabc"
    parser = ResponseParser()
    parser.expect("POST")
    for n in range(len(data)):
        assert parser.next_response() is None
        parser.feed(data[n : n + 1])
    response = parser.next_response()
    assert response is not None
    assert (response.status, response.body, response.keep_alive) == (202, b"abc", True)


def test_a_chunked_response_with_trailers() -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=1\r\nabc\r\n2\r\n\r\n\r\n0\r\nX-Done: yes\r\n\r\n"
    )
    response = parse(data)
    assert response is not None
    assert response.body == b"abc\r\n"
    assert response.trailers == {"x-done": "yes"}


def test_two_responses_on_one_connection_in_order() -> None:
    parser = ResponseParser()
    parser.expect("GET")
    parser.expect("HEAD")
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n")
    first, second = parser.next_response(), parser.next_response()
    assert first is not None
    assert second is not None
    assert (first.body, second.body) == (b"a", b"")  # a HEAD answer has no body


def test_connection_close_ends_keep_alive() -> None:
    response = parse(b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    assert response is not None
    assert not response.keep_alive


def test_a_body_delimited_by_the_end_of_the_connection() -> None:
    assert parse(b"HTTP/1.0 200 OK\r\n\r\npartial") is None
    response = parse(b"HTTP/1.0 200 OK\r\n\r\nall of it", eof=True)
    assert response is not None
    assert (response.body, response.keep_alive) == (b"all of it", False)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "expected an HTTP/1.x status line"),
        (b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "expected a 'Name: value' header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length number"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "hexadecimal chunk"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", "hexadecimal chunk"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc", "not followed by CRLF"),
    ],
)
def test_malformed_responses_are_named(data: bytes, message: str) -> None:
    with pytest.raises(HTTPProtocolError, match=message):
        parse(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "closed before a response arrived"),
        (b"HTTP/1.1 200 OK\r\n", "in the middle of a response head"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", "after 2 of the 5 body bytes"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "middle of a chunk"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n", "the trailers"),
    ],
)
def test_a_connection_closed_mid_response_is_named(data: bytes, message: str) -> None:
    with pytest.raises(HTTPProtocolError, match=message):
        parse(data, eof=True)


def test_a_response_for_no_request_is_refused() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\n\r\n")
    with pytest.raises(HTTPProtocolError, match="for no request"):
        parser.next_response()


def test_an_endless_head_is_refused() -> None:
    parser = ResponseParser()
    parser.expect("GET")
    parser.feed(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 300_000)
    with pytest.raises(HTTPProtocolError, match="longer than"):
        parser.next_response()


# -- The Runtime API -----------------------------------------------------------------------------


def next_response(**headers: str) -> Response:
    base = {
        "lambda-runtime-aws-request-id": "id-1",
        "lambda-runtime-deadline-ms": "1700000000000",
        "content-type": "application/json",
    }
    return Response(200, "OK", {**base, **headers}, b'{"a": 1}')


@given(st.text(max_size=20))
def test_a_request_id_is_one_quoted_path_segment(request_id: str) -> None:
    from urllib.parse import quote

    expected = f"/2018-06-01/runtime/invocation/{quote(request_id, safe='')}"
    assert response_request(request_id, b"").target == f"{expected}/response"
    assert stream_request(request_id).target == f"{expected}/response"


def test_routes() -> None:
    assert next_request() == Request("GET", "/2018-06-01/runtime/invocation/next")
    assert restore_next_request() == Request("GET", "/2018-06-01/runtime/restore/next")
    assert response_request("id/1", b"{}") == Request(
        "POST",
        "/2018-06-01/runtime/invocation/id%2F1/response",
        (("Content-Type", "application/json"),),
        b"{}",
    )


def test_every_runtime_header_is_read() -> None:
    invocation = read_invocation(
        next_response(
            **{
                "lambda-runtime-invoked-function-arn": "arn:f",
                "lambda-runtime-trace-id": "Root=1",
                "lambda-runtime-client-context": "{}",
                "lambda-runtime-cognito-identity": '{"cognitoIdentityId": "c"}',
                "lambda-runtime-aws-tenant-id": "t-1",
            }
        )
    )
    assert invocation == Invocation(
        request_id="id-1",
        deadline_ms=1700000000000,
        invoked_function_arn="arn:f",
        trace_id="Root=1",
        client_context="{}",
        cognito_identity='{"cognitoIdentityId": "c"}',
        tenant_id="t-1",
        content_type="application/json",
        body=b'{"a": 1}',
    )


def test_absent_optional_headers_are_none() -> None:
    invocation = read_invocation(next_response())
    assert invocation.tenant_id is None
    assert invocation.trace_id is None
    assert invocation.client_context is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"]


def loaded(body: bytes) -> tuple[str, Any]:
    """What ``json.loads(body)`` gives, or the kind of error it raises."""
    try:
        return "ok", json.loads(body)
    except ValueError:
        return "error", None


def decoded(body: bytes) -> tuple[str, Any]:
    try:
        return "ok", decode_event(body)
    except ValueError:
        return "error", None


@given(JSON, st.sampled_from(ENCODINGS), st.booleans())
def test_an_event_is_decoded_as_json_loads_decodes_it(
    value: Any, encoding: str, compact: bool
) -> None:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":") if compact else None)
    body = text.encode(encoding, "surrogatepass")
    assert decoded(body) == loaded(body)


@given(st.binary(max_size=12), st.binary(max_size=12))
def test_any_bytes_are_decoded_or_refused_as_json_loads_does(head: bytes, tail: bytes) -> None:
    for body in (head + tail, b"{" + head + tail, b'{"a":' + head + b"}" + tail):
        assert decoded(body) == loaded(body)


def test_an_event_with_an_encoded_surrogate_is_read_as_json_loads_reads_it() -> None:
    body = b'{"a":"\xed\xa0\x80"}'
    assert decode_event(body) == json.loads(body) == {"a": "\ud800"}


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (Response(500, "Error", {}, b"boom"), "answered 500"),
        (next_response(**{"lambda-runtime-aws-request-id": ""}), "without a Lambda-Runtime-Aws"),
        (next_response(**{"lambda-runtime-deadline-ms": "soon"}), "got 'soon'"),
    ],
)
def test_an_unusable_next_answer_is_an_error(response: Response, message: str) -> None:
    with pytest.raises(RuntimeAPIError, match=message):
        read_invocation(response)


def test_an_invocation_error_in_lambdas_shape() -> None:
    request = error_request("id-1", error_body("Runtime.Thing", "it broke", ["frame"]))
    assert request.target == "/2018-06-01/runtime/invocation/id-1/error"
    assert dict(request.headers) == {
        "Content-Type": "application/json",
        "Lambda-Runtime-Function-Error-Type": "Runtime.Thing",
    }
    assert json.loads(request.body) == {
        "errorMessage": "it broke",
        "errorType": "Runtime.Thing",
        "stackTrace": ["frame"],
    }


def test_an_init_error_and_a_type_header_kept_to_one_ascii_line() -> None:
    request = init_error_request(error_body("Bad\r\nType\u00e9", "m"))
    assert request.target == "/2018-06-01/runtime/init/error"
    assert dict(request.headers)["Lambda-Runtime-Function-Error-Type"] == "Bad Type?"
    assert json.loads(request.body)["errorType"] == "Bad\r\nType\u00e9"


def test_an_exception_with_its_frames() -> None:
    def fail() -> None:
        raise KeyError("missing")

    try:
        fail()
    except KeyError as exc:
        error = exception_error(exc)
    assert error["errorType"] == "KeyError"
    assert error["errorMessage"] == "'missing'"
    assert any("in fail" in frame for frame in error["stackTrace"])


def test_check_accepted() -> None:
    check_accepted(Response(202, "Accepted", {}, b""), "/response")
    with pytest.raises(RuntimeAPIError, match="refused /response: 413") as caught:
        check_accepted(Response(413, "Too Large", {}, b""), "/response")
    assert caught.value.status == 413


# -- Streaming framing ---------------------------------------------------------------------------


def test_the_head_of_a_streamed_response() -> None:
    request = stream_request("id-1")
    assert request.target == "/2018-06-01/runtime/invocation/id-1/response"
    assert dict(request.headers) == {
        "Lambda-Runtime-Function-Response-Mode": "streaming",
        "Transfer-Encoding": "chunked",
        "Content-Type": "application/vnd.awslambda.http-integration-response",
        "Trailer": "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
    }


def test_the_prelude_joins_headers_and_collects_cookies() -> None:
    data = prelude(
        201,
        [("Content-Type", "text/plain"), ("X-A", "1"), ("x-a", "2"), ("Set-Cookie", "a=1")],
        ["b=2"],
    )
    assert data.endswith(SEPARATOR)
    assert json.loads(data[: -len(SEPARATOR)]) == {
        "statusCode": 200 + 1,
        "headers": {"content-type": "text/plain", "x-a": "1, 2"},
        "cookies": ["b=2", "a=1"],
    }


def test_a_whole_stream_read_back_with_an_empty_chunk_skipped() -> None:
    stream = (
        chunk(prelude(200, [])) + chunk(b"data: 1\n\n") + chunk(b"") + chunk(b"\0x") + last_chunk()
    )
    body, trailers = read_chunked(io.BytesIO(stream))
    assert body == b'{"statusCode":200,"headers":{}}' + SEPARATOR + b"data: 1\n\n\0x"
    assert trailers == {}


def test_an_empty_body_still_sends_the_prelude() -> None:
    body, trailers = read_chunked(io.BytesIO(chunk(prelude(204, [])) + last_chunk()))
    assert body == b'{"statusCode":204,"headers":{}}' + SEPARATOR
    assert trailers == {}


def test_an_error_after_the_first_byte_goes_in_the_trailers() -> None:
    error = error_body("Runtime.StreamError", "the app failed mid-stream")
    body, trailers = read_chunked(io.BytesIO(chunk(b"partial") + last_chunk(error)))
    assert body == b"partial"
    assert trailers["lambda-runtime-function-error-type"] == "Runtime.StreamError"
    decoded = json.loads(base64.b64decode(trailers["lambda-runtime-function-error-body"]))
    assert decoded == error


def test_a_deadline_in_the_past_leaves_no_time() -> None:
    from bridge.runtime.context import LambdaContext

    past = Invocation("id", int(time.time() * 1000) - 5000, None, None, None, None, None, "", b"")
    assert LambdaContext(past, {}).get_remaining_time_in_millis() == 0
