"""The one body serializer."""

from __future__ import annotations

import pytest

from bridge import MalformedEventError
from bridge.body import BodySerializer, decode_request_body


@pytest.mark.parametrize(
    "content_type",
    [
        b"text/plain",
        b"text/html; charset=utf-8",
        b"application/json",
        b"application/problem+json",
        b"application/atom+xml; charset=utf-8",
        b"APPLICATION/JSON",
        b"image/svg+xml",
    ],
)
def test_textual_types_go_as_text(content_type: bytes) -> None:
    assert BodySerializer().encode([(b"content-type", content_type)], "é".encode()) == ("é", False)


@pytest.mark.parametrize(
    "content_type", [b"image/png", b"application/octet-stream", b"application/pdf", b""]
)
def test_other_types_go_as_base64(content_type: bytes) -> None:
    assert BodySerializer().encode([(b"content-type", content_type)], b"abc") == ("YWJj", True)


def test_missing_content_type_is_base64() -> None:
    assert BodySerializer().encode([], b"abc") == ("YWJj", True)


def test_any_content_encoding_means_base64() -> None:
    headers = [(b"Content-Type", b"text/plain"), (b"Content-Encoding", b"gzip")]
    assert BodySerializer().encode(headers, b"abc") == ("YWJj", True)


def test_identity_encoding_is_no_encoding() -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-encoding", b"identity")]
    assert BodySerializer().encode(headers, b"abc") == ("abc", False)


def test_text_type_that_is_not_utf8_falls_back_to_base64() -> None:
    assert BodySerializer().encode([(b"content-type", b"text/plain")], b"\xff") == ("/w==", True)


def test_configured_types_add_to_the_defaults() -> None:
    serializer = BodySerializer(["application/vnd.custom", "font/"])
    assert serializer.is_text_type("application/vnd.custom; v=1")
    assert serializer.is_text_type("font/woff2")
    assert serializer.is_text_type("application/json")
    assert not serializer.is_text_type("image/png")


def test_empty_body_is_empty_text() -> None:
    assert BodySerializer().encode([(b"content-type", b"image/png")], b"") == ("", False)


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
