"""Lambda responses read back into HTTP, as each AWS service reads them."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from bridge.local.events import SOURCE_NAMES
from bridge.local.responses import READERS, HTTPResponse, InvalidResponseError, read_response

PNG = b"\x89PNG\r\n\x1a\n\x00\xff"
PNG_B64 = base64.b64encode(PNG).decode()


def test_every_source_has_a_reader() -> None:
    assert set(READERS) == set(SOURCE_NAMES)


@pytest.mark.parametrize("source", ["rest", "http-v1"])
def test_payload_v1_merges_headers_and_multi_value_headers(source: str) -> None:
    result = {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain", "Set-Cookie": "a=1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "Vary": ["Accept"]},
        "body": "made",
        "isBase64Encoded": False,
    }
    assert read_response(source, result) == HTTPResponse(
        201,
        [
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
            ("Vary", "Accept"),
            ("Content-Type", "text/plain"),
        ],
        b"made",
    )


@pytest.mark.parametrize("source", ["http", "url"])
def test_payload_v2_expands_cookies_and_decodes_base64(source: str) -> None:
    result = {
        "statusCode": 200,
        "headers": {"content-type": "image/png", "vary": "Accept, Origin"},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": PNG_B64,
        "isBase64Encoded": True,
    }
    assert read_response(source, result) == HTTPResponse(
        200,
        [
            ("content-type", "image/png"),
            ("vary", "Accept, Origin"),
            ("set-cookie", "a=1; Path=/"),
            ("set-cookie", "b=2"),
        ],
        PNG,
    )


@pytest.mark.parametrize("result", [{"hello": "world"}, ["a", 1], "text", None])
def test_payload_v2_infers_a_json_response_without_status_code(result: Any) -> None:
    import json

    assert read_response("http", result) == HTTPResponse(
        200, [("content-type", "application/json")], json.dumps(result).encode()
    )


def test_alb_single_value_keeps_the_status_description() -> None:
    result = {
        "statusCode": 404,
        "statusDescription": "404 Not Here",
        "headers": {"content-type": "text/plain"},
        "multiValueHeaders": {"ignored": ["by single-value mode"]},
        "body": "",
        "isBase64Encoded": False,
    }
    response = read_response("alb", result)
    assert response == HTTPResponse(404, [("content-type", "text/plain")], b"", "Not Here")
    assert response.status_line() == "HTTP/1.1 404 Not Here"


def test_alb_multi_value_reads_only_multi_value_headers() -> None:
    result = {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "headers": {"ignored": "in multi-value mode"},
        "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]},
        "body": PNG_B64,
        "isBase64Encoded": True,
    }
    assert read_response("alb-multi", result) == HTTPResponse(
        200, [("set-cookie", "a=1"), ("set-cookie", "b=2")], PNG, "OK"
    )


def test_edge_uses_each_entrys_key_and_body_encoding() -> None:
    result = {
        "status": "302",
        "statusDescription": "Found",
        "headers": {
            "location": [{"key": "Location", "value": "/there"}],
            "set-cookie": [{"key": "Set-Cookie", "value": "a=1"}, {"value": "b=2"}],
        },
        "body": PNG_B64,
        "bodyEncoding": "base64",
    }
    assert read_response("edge", result) == HTTPResponse(
        302,
        [("Location", "/there"), ("Set-Cookie", "a=1"), ("set-cookie", "b=2")],
        PNG,
        "Found",
    )


@pytest.mark.parametrize("source", ["lattice", "lattice-v2"])
def test_lattice_accepts_string_or_list_values(source: str) -> None:
    result = {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "headers": {"content-type": "text/plain", "set-cookie": ["a=1", "b=2"]},
        "body": "ok",
        "isBase64Encoded": False,
    }
    assert read_response(source, result) == HTTPResponse(
        200,
        [("content-type", "text/plain"), ("set-cookie", "a=1"), ("set-cookie", "b=2")],
        b"ok",
        "OK",
    )


def test_missing_body_is_empty_and_numeric_header_values_become_text() -> None:
    result = {"statusCode": "204", "headers": {"content-length": 0}}
    assert read_response("rest", result) == HTTPResponse(204, [("content-length", "0")], b"")


@pytest.mark.parametrize(
    ("source", "result", "message"),
    [
        ("rest", ["not", "an", "object"], "must be a JSON object, got list"),
        ("rest", {"body": "x"}, "the result has no 'statusCode'"),
        ("alb", {"statusCode": "abc"}, "'statusCode' must be a number"),
        ("alb", {"statusCode": 99}, "must be an HTTP status code"),
        ("http", {"statusCode": True}, "must be an HTTP status code"),
        ("edge", {"statusCode": 200}, "the result has no 'status'"),
        ("rest", {"statusCode": 200, "headers": {"a": ["b"]}}, "header 'a' must be a string"),
        ("alb-multi", {"statusCode": 200, "multiValueHeaders": {"a": "b"}}, "must be a list"),
        ("http", {"statusCode": 200, "cookies": "a=1"}, "'cookies' must be a list"),
        ("http", {"statusCode": 200, "body": {"a": 1}}, "'body' must be a string, got dict"),
        ("url", {"statusCode": 200, "body": "%%", "isBase64Encoded": True}, "is not"),
        ("edge", {"status": "200", "headers": {"a": "b"}}, "must be a list of {key, value}"),
        ("edge", {"status": "200", "headers": {"a": [{"key": "A"}]}}, "without a string value"),
        ("edge", {"status": "200", "bodyEncoding": "gzip"}, "'bodyEncoding' must be"),
        ("lattice", {"statusCode": 200, "headers": {"a": 1}}, "a string or a list of strings"),
    ],
)
def test_malformed_responses_name_the_problem(source: str, result: Any, message: str) -> None:
    with pytest.raises(InvalidResponseError) as caught:
        read_response(source, result)
    assert message in str(caught.value)


def test_unknown_source_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown event source 'soap'"):
        read_response("soap", {})


def test_status_line_of_an_unregistered_code_has_no_phrase() -> None:
    assert HTTPResponse(599).status_line() == "HTTP/1.1 599"
    assert HTTPResponse(418).status_line() == "HTTP/1.1 418 I'm a Teapot"
