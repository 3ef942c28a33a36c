"""The one body serializer."""

from __future__ import annotations

import pytest

from bridge import MalformedEventError
from bridge.body import BodySerializer, decode_request_body


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/html; charset=utf-8",
        "application/json",
        "application/problem+json",
        "application/atom+xml; charset=utf-8",
        "APPLICATION/JSON",
        "image/svg+xml",
    ],
)
def test_textual_types_go_as_text(content_type: str) -> None:
    assert BodySerializer().encode("é".encode(), [("content-type", content_type)]) == ("é", False)


@pytest.mark.parametrize(
    "content_type", ["image/png", "application/octet-stream", "application/pdf", ""]
)
def test_other_types_go_as_base64(content_type: str) -> None:
    assert BodySerializer().encode(b"abc", [("content-type", content_type)]) == ("YWJj", True)


def test_missing_content_type_is_base64() -> None:
    assert BodySerializer().encode(b"abc", []) == ("YWJj", True)


def test_any_content_encoding_means_base64() -> None:
    headers = [("content-type", "text/plain"), ("content-encoding", "gzip")]
    assert BodySerializer().encode(b"abc", headers) == ("YWJj", True)


@pytest.mark.parametrize("value", ["identity", " Identity ", ""])
def test_identity_encoding_is_no_encoding(value: str) -> None:
    headers = [("content-type", "text/plain"), ("content-encoding", value)]
    assert BodySerializer().encode(b"abc", headers) == ("abc", False)


def test_the_last_content_type_decides() -> None:
    headers = [("content-type", "image/png"), ("content-type", "text/html")]
    assert BodySerializer().encode(b"abc", headers) == ("abc", False)
    assert BodySerializer().encode(b"abc", headers[::-1]) == ("YWJj", True)


def test_a_decision_remembered_is_the_same_decision() -> None:
    serializer = BodySerializer()
    for _ in range(2):
        assert serializer.encode(b"hi", [("content-type", "text/plain")]) == ("hi", False)
        assert serializer.encode(b"hi", [("content-type", "image/png")]) == ("aGk=", True)


def test_text_type_that_is_not_utf8_falls_back_to_base64() -> None:
    assert BodySerializer().encode(b"\xff", [("content-type", "text/plain")]) == ("/w==", True)


def test_configured_types_add_to_the_defaults() -> None:
    serializer = BodySerializer(["application/vnd.custom", "font/"])
    assert serializer.is_text_type("application/vnd.custom; v=1")
    assert serializer.is_text_type("font/woff2")
    assert serializer.is_text_type("application/json")
    assert not serializer.is_text_type("image/png")


def test_empty_body_is_empty_text() -> None:
    assert BodySerializer().encode(b"", [("content-type", "image/png")]) == ("", False)


def test_request_body_decoding() -> None:
    assert decode_request_body("aGk=", True, source="http") == b"hi"
    assert decode_request_body("hé", False, source="http") == "hé".encode()
    assert decode_request_body(None, False, source="http") == b""
    assert decode_request_body("", True, source="http") == b""


@pytest.mark.parametrize(
    ("body", "flag", "match"),
    [
        ("not base64!", True, "not valid base64"),
        (5, False, "expected 'body' to be a string"),
        ("\ud800", False, "cannot be encoded as UTF-8"),
    ],
)
def test_bad_request_bodies_are_named(body: object, flag: bool, match: str) -> None:
    with pytest.raises(MalformedEventError, match=match):
        decode_request_body(body, flag, source="rest")
