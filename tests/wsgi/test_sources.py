"""The same WSGI behaviour through every event source, served directly and
through ``WSGIMiddleware``."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from typing import Any

import pytest

from bridge.types import StartResponse
from tests.wsgi.conftest import MakeHandler
from tests.wsgi.events import BUILDERS, CLIENT_IP, STAGE_ROOT, Builder
from tests.wsgi.helpers import FakeContext, echo_app, read_reply, unwsgi

#: Sources whose events keep every value of a repeated request header.
KEEPS_REPEATED_HEADERS = {
    "rest",
    "http-v1",
    "http",
    "url",
    "alb-multi",
    "edge",
    "lattice",
    "lattice-v2",
}
#: Sources whose responses carry more than one Set-Cookie.
KEEPS_SET_COOKIES = {"rest", "http-v1", "http", "url", "alb-multi", "edge"}

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"


def echo(make_handler: MakeHandler, event: dict[str, Any], **options: Any) -> Any:
    reply = read_reply(make_handler(echo_app, **options)(event, FakeContext()))
    assert reply.status == 200
    assert reply.header("content-type") == "application/json"
    return reply.json()


def test_path_is_split_into_script_name_and_path_info(
    source: str, build: Builder, make_handler: MakeHandler
) -> None:
    seen = echo(make_handler, build(path="/caf%C3%A9/a%20b"))

    assert seen["script_name"] == STAGE_ROOT[source]
    assert seen["path_info"] == "/caf\xc3\xa9/a b"  # UTF-8 bytes read as latin-1
    assert unwsgi(seen["path_info"]) == "/café/a b"


def test_base_path_joins_script_name_on_a_segment_boundary(
    source: str, build: Builder, make_handler: MakeHandler
) -> None:
    inside = echo(make_handler, build(path="/api/items"), api_gateway_base_path="/api")
    beside = echo(make_handler, build(path="/apiary"), api_gateway_base_path="/api")

    assert (inside["script_name"], inside["path_info"]) == (STAGE_ROOT[source] + "/api", "/items")
    assert (beside["script_name"], beside["path_info"]) == (STAGE_ROOT[source], "/apiary")


def test_query_string(build: Builder, make_handler: MakeHandler) -> None:
    seen = echo(make_handler, build(path="/q", query="a=1&b=x+y&c=%2F%C3%A9"))

    assert seen["query_string"] == "a=1&b=x+y&c=%2F%C3%A9"


def test_empty_query_string(build: Builder, make_handler: MakeHandler) -> None:
    assert echo(make_handler, build(path="/q"))["query_string"] == ""


def test_binary_request_body(build: Builder, make_handler: MakeHandler) -> None:
    event = build(
        method="POST",
        path="/upload",
        headers=[("Content-Type", "application/octet-stream"), ("Content-Length", "12")],
        body=PNG,
        binary=True,
    )
    seen = echo(make_handler, event)

    assert seen["method"] == "POST"
    assert base64.b64decode(seen["body"]) == PNG
    assert seen["content_type"] == "application/octet-stream"
    assert seen["content_length"] == str(len(PNG))
    assert "HTTP_CONTENT_TYPE" not in seen["headers"]
    assert "HTTP_CONTENT_LENGTH" not in seen["headers"]


def test_text_request_body(build: Builder, make_handler: MakeHandler) -> None:
    body = '{"name": "Zoë"}'.encode()
    seen = echo(
        make_handler,
        build(method="PUT", path="/j", headers=[("Content-Type", "application/json")], body=body),
    )

    assert base64.b64decode(seen["body"]) == body
    assert (seen["content_type"], seen["content_length"]) == ("application/json", str(len(body)))


def test_repeated_headers_and_cookies(
    source: str, build: Builder, make_handler: MakeHandler
) -> None:
    headers = [("X-Multi", "a"), ("X-Multi", "b"), ("Cookie", "c1=1"), ("Cookie", "c2=2")]
    seen = echo(make_handler, build(path="/h", headers=headers))

    if source in KEEPS_REPEATED_HEADERS:
        assert seen["headers"]["HTTP_X_MULTI"] == "a,b"
        assert seen["headers"]["HTTP_COOKIE"] == "c1=1; c2=2"
    else:
        assert seen["headers"]["HTTP_X_MULTI"] == "b"
        assert seen["headers"]["HTTP_COOKIE"] == "c2=2"
    assert seen["headers"]["HTTP_HOST"] == seen["server_name"]


def test_server_client_and_scheme(source: str, build: Builder, make_handler: MakeHandler) -> None:
    event = build(path="/s")
    seen = echo(make_handler, event)

    assert seen["remote_addr"] == CLIENT_IP
    assert seen["url_scheme"] == "https"
    assert seen["server_name"] == seen["headers"]["HTTP_HOST"]
    assert seen["server_port"] == "443"
    assert seen["server_protocol"] in ("HTTP/1.1", "HTTP/2")


def test_lambda_event_and_context(build: Builder, make_handler: MakeHandler) -> None:
    event = build(path="/e")
    seen = echo(make_handler, event)

    assert seen["event_keys"] == sorted(event)
    assert seen["request_id"] == "request-id-1"


def test_served_directly_and_through_middleware_alike(build: Builder) -> None:
    from bridge import Bridge
    from bridge.wsgi import WSGIMiddleware

    event = build(
        method="POST",
        path="/x%20y",
        query="q=1",
        body=b"hi",
        headers=[("Content-Type", "text/plain"), ("Cookie", "a=1")],
    )
    direct = read_reply(Bridge(echo_app)(event, FakeContext())).json()
    threaded = read_reply(
        Bridge(WSGIMiddleware(echo_app), lifespan="off")(event, FakeContext())
    ).json()

    assert (direct.pop("multithread"), threaded.pop("multithread")) == (False, True)
    assert direct == threaded


def _cookies_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    start_response(
        "201 Created",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("X-Custom", "1"),
            ("Set-Cookie", "a=1; Path=/"),
            ("Set-Cookie", "b=2; Secure"),
        ],
    )
    return ["créé".encode()]


EXPECTED_RESPONSES: dict[str, dict[str, Any]] = {
    "rest": {
        "statusCode": 201,
        "headers": {"content-type": "text/plain; charset=utf-8", "x-custom": "1"},
        "multiValueHeaders": {"set-cookie": ["a=1; Path=/", "b=2; Secure"]},
        "body": "créé",
        "isBase64Encoded": False,
    },
    "http": {
        "statusCode": 201,
        "headers": {"content-type": "text/plain; charset=utf-8", "x-custom": "1"},
        "cookies": ["a=1; Path=/", "b=2; Secure"],
        "body": "créé",
        "isBase64Encoded": False,
    },
    "alb": {
        "statusCode": 201,
        "statusDescription": "201 Created",
        "headers": {
            "content-type": "text/plain; charset=utf-8",
            "x-custom": "1",
            "set-cookie": "b=2; Secure",
        },
        "body": "créé",
        "isBase64Encoded": False,
    },
    "alb-multi": {
        "statusCode": 201,
        "statusDescription": "201 Created",
        "multiValueHeaders": {
            "content-type": ["text/plain; charset=utf-8"],
            "x-custom": ["1"],
            "set-cookie": ["a=1; Path=/", "b=2; Secure"],
        },
        "body": "créé",
        "isBase64Encoded": False,
    },
    "edge": {
        "status": "201",
        "statusDescription": "Created",
        "headers": {
            "content-type": [{"key": "Content-Type", "value": "text/plain; charset=utf-8"}],
            "x-custom": [{"key": "X-Custom", "value": "1"}],
            "set-cookie": [
                {"key": "Set-Cookie", "value": "a=1; Path=/"},
                {"key": "Set-Cookie", "value": "b=2; Secure"},
            ],
        },
        "body": "créé",
        "bodyEncoding": "text",
    },
    "lattice": {
        "statusCode": 201,
        "statusDescription": "201 Created",
        "headers": {
            "content-type": "text/plain; charset=utf-8",
            "x-custom": "1",
            "set-cookie": "b=2; Secure",
        },
        "body": "créé",
        "isBase64Encoded": False,
    },
}
EXPECTED_RESPONSES["http-v1"] = EXPECTED_RESPONSES["rest"]
EXPECTED_RESPONSES["url"] = EXPECTED_RESPONSES["http"]
EXPECTED_RESPONSES["lattice-v2"] = EXPECTED_RESPONSES["lattice"]


def test_whole_response(
    source: str, build: Builder, make_handler: MakeHandler, caplog: pytest.LogCaptureFixture
) -> None:
    response = make_handler(_cookies_app)(build(path="/c"), FakeContext())

    assert response == EXPECTED_RESPONSES[source]
    dropped_cookies = [r for r in caplog.records if "Set-Cookie" in r.getMessage()]
    assert bool(dropped_cookies) == (source not in KEEPS_SET_COOKIES)


def _png_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "image/png"), ("Content-Length", str(len(PNG)))])
    return [PNG[:5], PNG[5:]]


def test_binary_response(build: Builder, make_handler: MakeHandler) -> None:
    reply = read_reply(make_handler(_png_app)(build(path="/logo.png"), FakeContext()))

    assert (reply.status, reply.binary, reply.body) == (200, True, PNG)
    assert reply.header("content-type") == "image/png"


def _failing_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    raise RuntimeError("boom")


def test_application_error_is_a_500(
    build: Builder, make_handler: MakeHandler, caplog: pytest.LogCaptureFixture
) -> None:
    reply = read_reply(make_handler(_failing_app)(build(path="/fail"), FakeContext()))

    assert (reply.status, reply.body) == (500, b"Internal Server Error")
    assert reply.header("content-type") == "text/plain; charset=utf-8"
    [record] = [r for r in caplog.records if r.name == "bridge.wsgi"]
    assert record.levelno == logging.ERROR
    assert "Exception in WSGI application (GET " in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


def test_every_source_is_covered() -> None:
    assert set(BUILDERS) == set(STAGE_ROOT) == set(EXPECTED_RESPONSES)
