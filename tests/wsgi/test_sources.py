"""The same WSGI behaviour through every event source, served directly and
through ``WSGIMiddleware``."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from typing import Any

import pytest

from bridge import Bridge
from bridge.local.events import SOURCE_NAMES, build_event
from bridge.types import StartResponse
from bridge.wsgi import WSGIMiddleware
from tests.sources.traits import TRAITS
from tests.wsgi.conftest import Serve
from tests.wsgi.helpers import call, echo_app, unwsgi

CLIENT_IP = "203.0.113.7"

#: How each source's event delivers two ``X-Multi`` and two ``Cookie`` headers.
REPEATED_HEADERS = {
    "alb": ("b", "c2=2"),  # single-value mode: the last one
    "lattice": ("a,b", "c1=1,c2=2"),  # comma-joined by the service
}

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"


def root(source: str) -> str:
    """The root path of a request sent with ``stage="prod"``."""
    return "/prod" if TRAITS[source].staged else ""


def echo(
    serve: Serve, source: str, *, options: dict[str, Any] | None = None, **request: Any
) -> Any:
    reply = call(serve(echo_app, **(options or {})), source, stage="prod", **request)
    assert reply.status == 200
    assert reply.header("content-type") == "application/json"
    return reply.json()


def test_path_is_split_into_script_name_and_path_info(source: str, serve: Serve) -> None:
    seen = echo(serve, source, path="/caf%C3%A9/a%20b")

    assert seen["script_name"] == root(source)
    assert seen["path_info"] == "/caf\xc3\xa9/a b"  # UTF-8 bytes read as latin-1
    assert unwsgi(seen["path_info"]) == "/café/a b"


def test_base_path_joins_script_name_on_a_segment_boundary(source: str, serve: Serve) -> None:
    options = {"api_gateway_base_path": "/api"}
    inside = echo(serve, source, path="/api/items", options=options)
    beside = echo(serve, source, path="/apiary", options=options)

    assert (inside["script_name"], inside["path_info"]) == (root(source) + "/api", "/items")
    assert (beside["script_name"], beside["path_info"]) == (root(source), "/apiary")


def test_query_string(source: str, serve: Serve) -> None:
    seen = echo(serve, source, path="/q", query="a=1&b=x+y&c=%2F%C3%A9")

    assert seen["query_string"] == "a=1&b=x+y&c=%2F%C3%A9"


def test_empty_query_string(source: str, serve: Serve) -> None:
    assert echo(serve, source, path="/q")["query_string"] == ""


def test_binary_request_body(source: str, serve: Serve) -> None:
    seen = echo(
        serve,
        source,
        method="POST",
        path="/upload",
        headers=[("Content-Type", "application/octet-stream"), ("Content-Length", "12")],
        body=PNG,
    )

    assert seen["method"] == "POST"
    assert base64.b64decode(seen["body"]) == PNG
    assert seen["content_type"] == "application/octet-stream"
    assert seen["content_length"] == str(len(PNG))
    assert "HTTP_CONTENT_TYPE" not in seen["headers"]
    assert "HTTP_CONTENT_LENGTH" not in seen["headers"]


def test_text_request_body(source: str, serve: Serve) -> None:
    body = '{"name": "Zoë"}'.encode()
    seen = echo(
        serve,
        source,
        method="PUT",
        path="/j",
        headers=[("Content-Type", "application/json")],
        body=body,
    )

    assert base64.b64decode(seen["body"]) == body
    assert (seen["content_type"], seen["content_length"]) == ("application/json", str(len(body)))


def test_repeated_headers_and_cookies(source: str, serve: Serve) -> None:
    headers = [("X-Multi", "a"), ("X-Multi", "b"), ("Cookie", "c1=1"), ("Cookie", "c2=2")]
    seen = echo(serve, source, path="/h", headers=headers)

    expected = REPEATED_HEADERS.get(source, ("a,b", "c1=1; c2=2"))
    assert (seen["headers"]["HTTP_X_MULTI"], seen["headers"]["HTTP_COOKIE"]) == expected


def test_server_client_and_scheme(source: str, serve: Serve) -> None:
    seen = echo(serve, source, path="/s", host="api.example.com")

    assert seen["remote_addr"] == CLIENT_IP
    assert seen["url_scheme"] == "https"
    assert (seen["server_name"], seen["server_port"]) == ("api.example.com", "443")
    assert seen["headers"]["HTTP_HOST"] == "api.example.com"
    assert seen["server_protocol"] == "HTTP/1.1"


def test_lambda_event_and_context(source: str, serve: Serve) -> None:
    reply = call(serve(echo_app), source, path="/e")

    assert reply.json()["event_keys"] == sorted(reply.event)
    assert reply.context is not None
    assert reply.json()["request_id"] == reply.context.aws_request_id


def test_served_directly_and_through_middleware_alike(source: str) -> None:
    request: dict[str, Any] = {
        "method": "POST",
        "path": "/x%20y",
        "query": "q=1",
        "body": b"hi",
        "headers": [("Content-Type", "text/plain"), ("Cookie", "a=1")],
        "stage": "prod",
    }
    direct = call(Bridge(echo_app), source, **request).json()
    threaded = call(Bridge(WSGIMiddleware(echo_app), lifespan="off"), source, **request).json()

    assert (direct.pop("multithread"), threaded.pop("multithread")) == (False, True)
    assert None not in (direct.pop("request_id"), threaded.pop("request_id"))
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
    "alb": {  # each cookie under a casing of its own
        "statusCode": 201,
        "statusDescription": "201 Created",
        "headers": {
            "content-type": "text/plain; charset=utf-8",
            "x-custom": "1",
            "set-cookie": "a=1; Path=/",
            "Set-cookie": "b=2; Secure",
        },
        "body": "créé",
        "isBase64Encoded": False,
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
}
# Same response shapes: REST and HTTP API 1.0; HTTP API 2.0 and function URLs;
# both VPC Lattice versions.
EXPECTED_RESPONSES["http-v1"] = EXPECTED_RESPONSES["rest"]
EXPECTED_RESPONSES["url"] = EXPECTED_RESPONSES["http"]
EXPECTED_RESPONSES["lattice-v2"] = EXPECTED_RESPONSES["lattice"]


def test_whole_response(source: str, serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    response = call(serve(_cookies_app), source, path="/c").response

    assert response == EXPECTED_RESPONSES[source]
    # A WARNING where several cookies need a trick (ALB) or lose all but one.
    cookie_warnings = [r for r in caplog.records if "Set-Cookie" in r.getMessage()]
    assert bool(cookie_warnings) == (TRAITS[source].set_cookies != "all")


def _png_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "image/png"), ("Content-Length", str(len(PNG)))])
    return [PNG[:5], PNG[5:]]


def test_binary_response(source: str, serve: Serve) -> None:
    reply = call(serve(_png_app), source, path="/logo.png")

    assert (reply.status, reply.binary, reply.body) == (200, True, PNG)
    assert reply.header("content-type") == "image/png"


def _failing_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    raise RuntimeError("boom")


def test_application_error_is_a_500(
    source: str, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    reply = call(serve(_failing_app), source, path="/fail")

    assert (reply.status, reply.body) == (500, b"Internal Server Error")
    assert reply.header("content-type") == "text/plain; charset=utf-8"
    [record] = [r for r in caplog.records if r.name == "bridge.wsgi"]
    assert record.levelno == logging.ERROR
    assert "Exception in WSGI application (GET " in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


def test_every_source_is_covered() -> None:
    assert set(SOURCE_NAMES) == set(EXPECTED_RESPONSES)


def _vendor_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    start_response(
        "200 OK",
        [("Content-Type", "application/vnd.acme+text"), ("X-Internal", "1"), ("X-Public", "2")],
    )
    return [b"plain words"]


def test_options_apply_to_wsgi_apps(serve: Serve) -> None:
    default = call(serve(_vendor_app), "http", path="/v")
    configured = call(
        serve(
            _vendor_app,
            exclude_headers=["X-Internal"],
            text_mime_types=["application/vnd.acme+text"],
        ),
        "http",
        path="/v",
    )

    assert (default.binary, default.header("x-internal")) == (True, "1")
    assert configured.response == {
        "statusCode": 200,
        "headers": {"content-type": "application/vnd.acme+text", "x-public": "2"},
        "body": "plain words",
        "isBase64Encoded": False,
    }


def test_a_custom_source_with_a_reader_gets_raw_headers_from_a_wsgi_app() -> None:
    # A source of the user's own that can read events as text: a WSGI app's
    # answer reaches its to_response with the headers as ASGI carries them,
    # lower-case latin-1 bytes, stripped, in order.
    from bridge.sources import EventSource, http_api_v2

    seen: list[Any] = []

    def to_response(
        event: Any, status: int, headers: Any, body: bytes, config: Any
    ) -> dict[str, Any]:
        seen.append(headers)
        return {"status": status, "body": body.decode("latin-1")}

    custom = EventSource(
        name="mine",
        matches=lambda event: "rawPath" in event,
        to_request=http_api_v2.SOURCE.to_request,
        to_response=to_response,
        read=http_api_v2.read,
    )

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response(
            "201 Created",
            [("X-Trace", " caf\xe9 "), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
        )
        return [b"made"]

    handler = Bridge(app, custom_handlers=[custom])
    assert handler(build_event("http")) == {"status": 201, "body": "made"}
    assert seen == [[(b"x-trace", b"caf\xe9"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]]
