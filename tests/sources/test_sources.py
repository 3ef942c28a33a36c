"""Source-specific request and response mapping."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bridge import Bridge
from bridge.local.events import FakeContext, build_event
from bridge.local.responses import decode_response
from tests.apps import respond_with
from tests.conftest import HandlerFactory, Reply

COOKIES = [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]
APP_HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"x-one", b"1"), *COOKIES]


def respond(handler: Bridge, event: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = handler(event, FakeContext())
    return response


# ---------------------------------------------------------------- REST API


def test_rest_stage_becomes_root_path(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    seen = exchange(make_handler(), "rest", path="/items/a%20b", stage="prod").json()
    assert seen["path"] == "/prod/items/a b"
    assert seen["root_path"] == "/prod"
    assert seen["raw_path"] == "/prod/items/a%20b"


def test_rest_without_stage_in_url_has_no_root_path(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    seen = exchange(make_handler(), "rest", path="/items").json()
    assert (seen["path"], seen["root_path"]) == ("/items", "")


def test_base_path_is_stripped_on_segment_boundaries_only(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    handler = make_handler(api_gateway_base_path="/test")
    inside = exchange(handler, "rest", path="/test/x").json()
    lookalike = exchange(handler, "rest", path="/testing/x").json()
    exact = exchange(handler, "rest", path="/test").json()
    assert (inside["path"], inside["root_path"]) == ("/test/x", "/test")
    assert (lookalike["path"], lookalike["root_path"]) == ("/testing/x", "")
    assert (exact["path"], exact["root_path"]) == ("/test", "/test")


def test_base_path_follows_the_stage(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    handler = make_handler(api_gateway_base_path="api/")
    seen = exchange(handler, "rest", path="/api/x", stage="v1").json()
    assert (seen["path"], seen["root_path"]) == ("/v1/api/x", "/v1/api")


def test_rest_query_is_rebuilt_in_order_and_encoded(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    result = exchange(make_handler(), "rest", query="b=2&a=x+y&a=%2B&url=https%3A%2F%2Fe.com%2F&e=")
    assert result.json()["query_string"] == "b=2&a=x+y&a=%2B&url=https%3A%2F%2Fe.com%2F&e="


def test_rest_response_shape(make_handler: HandlerFactory) -> None:
    handler = make_handler(respond_with(201, APP_HEADERS, b"done"))
    assert respond(handler, build_event("rest")) == {
        "statusCode": 201,
        "headers": {"content-type": "text/plain; charset=utf-8", "x-one": "1"},
        "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]},
        "body": "done",
        "isBase64Encoded": False,
    }


def test_http_v1_stage_in_path_becomes_root_path(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    seen = exchange(make_handler(), "http-v1", path="/x", stage="beta").json()
    assert (seen["path"], seen["root_path"]) == ("/beta/x", "/beta")


# ---------------------------------------------------------------- HTTP API 2.0


def test_http_v2_path_is_not_decoded_twice(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    # The client sent /a%2541; API Gateway decodes it to /a%41 before Lambda.
    seen = exchange(make_handler(), "http", path="/a%2541").json()
    assert seen["path"] == "/a%41"


def test_http_v2_named_stage_becomes_root_path(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    seen = exchange(make_handler(), "http", path="/x", stage="beta").json()
    assert (seen["path"], seen["root_path"]) == ("/beta/x", "/beta")


def test_http_v2_raw_query_string_is_verbatim(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    query = "z=1&a=%2B+b&a=%20&k"
    assert exchange(make_handler(), "http", query=query).json()["query_string"] == query


def test_http_v2_cookies_array_replaces_cookie_header(make_handler: HandlerFactory) -> None:
    event = build_event("http")
    event["cookies"] = ["a=1", "b=2"]
    event["headers"]["cookie"] = "a=1; b=2"
    headers = json.loads(respond(make_handler(), event)["body"])["headers"]
    assert [v for n, v in headers if n == "cookie"] == ["a=1; b=2"]


def test_http_v2_response_shape(make_handler: HandlerFactory) -> None:
    app = respond_with(200, [*APP_HEADERS, (b"x-one", b"2")], b"\xff\x00")
    response = respond(make_handler(app), build_event("http"))
    assert response == {
        "statusCode": 200,
        "headers": {"content-type": "text/plain; charset=utf-8", "x-one": "1,2"},
        "cookies": ["a=1", "b=2"],
        "body": "/wA=",
        "isBase64Encoded": True,
    }


def test_function_url_path_is_decoded_once(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    seen = exchange(make_handler(), "url", path="/a%2541/b%2Fc").json()
    assert seen["path"] == "/a%41/b/c"
    assert seen["raw_path"] == "/a%2541/b%2Fc"


# ---------------------------------------------------------------- ALB


def test_alb_query_is_never_re_encoded(
    make_handler: HandlerFactory, exchange: Callable[..., Reply]
) -> None:
    query = "redirect=https%3A%2F%2Fe.com%2Fa&plus=a+b&enc=a%2Bb"
    for source in ("alb", "alb-multi"):
        assert exchange(make_handler(), source, query=query).json()["query_string"] == query


def test_alb_client_is_the_rightmost_forwarded_for(make_handler: HandlerFactory) -> None:
    event = build_event("alb")
    event["headers"]["x-forwarded-for"] = "10.0.0.1, 192.0.2.9"
    body = json.loads(respond(make_handler(), event)["body"])
    assert body["client"] == ["192.0.2.9", 0]


@pytest.mark.parametrize("multi", [False, True], ids=["single-value", "multi-value"])
@pytest.mark.parametrize("name", ["x-forwarded-for", "X-Forwarded-For"])
@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_alb_client_and_server_in_any_header_spelling(
    make_handler: HandlerFactory, multi: bool, name: str, kind: str
) -> None:
    """The load balancer's own X-Forwarded-For entry is the client and the
    Host header the server, whichever mode and spelling the event has."""

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        found = {
            "client": environ.get("REMOTE_ADDR"),
            "server": [environ["SERVER_NAME"], environ["SERVER_PORT"]],
            "scheme": environ["wsgi.url_scheme"],
        }
        return [json.dumps(found).encode()]

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        found = {
            "client": scope["client"][0] if scope["client"] else None,
            "server": [scope["server"][0], str(scope["server"][1])],
            "scheme": scope["scheme"],
        }
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(found).encode()})

    event = build_event("alb-multi" if multi else "alb")
    key = "multiValueHeaders" if multi else "headers"
    headers = {n: v for n, v in event[key].items() if not n.lower().startswith(("x-", "host"))}
    forwarded = "10.0.0.1, 192.0.2.9"
    added = {
        name: forwarded,
        "Host" if name[0] == "X" else "host": "lb.example:8080",
        "x-forwarded-proto": "http",
        "x-forwarded-port": "8080",
    }
    headers.update({n: [v] if multi else v for n, v in added.items()})
    event[key] = headers
    app = wsgi_app if kind == "wsgi" else asgi_app
    assert json.loads(respond(make_handler(app), event)["body"]) == {
        "client": "192.0.2.9",
        "server": ["lb.example", "8080"],
        "scheme": "http",
    }


def test_alb_single_value_response_shape(make_handler: HandlerFactory) -> None:
    app = respond_with(404, [*APP_HEADERS, (b"x-one", b"2")], b"gone")
    assert respond(make_handler(app), build_event("alb")) == {
        "statusCode": 404,
        "statusDescription": "404 Not Found",
        "headers": {
            "content-type": "text/plain; charset=utf-8",
            "x-one": "1,2",
            "set-cookie": "a=1",
            "Set-cookie": "b=2",
        },
        "body": "gone",
        "isBase64Encoded": False,
    }


def test_alb_single_value_mode_sends_each_cookie_under_its_own_casing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The load balancer passes differently-cased names on as separate header
    lines: every cookie arrives, in order, as Mangum and serverless-wsgi send
    them.  A WARNING recommends multi-value mode, which needs no trick."""
    from flask import Flask, Response

    flask_app = Flask(__name__)

    @flask_app.get("/")
    def index() -> Response:
        response = Response("ok")
        for name in ("a", "b", "c", "d"):
            response.set_cookie(name, "1")
        return response

    response = respond(Bridge(flask_app), build_event("alb"))
    cookies = [(n, v) for n, v in response["headers"].items() if n.lower() == "set-cookie"]
    assert cookies == [
        ("set-cookie", "a=1; Path=/"),
        ("Set-cookie", "b=1; Path=/"),
        ("sEt-cookie", "c=1; Path=/"),
        ("SEt-cookie", "d=1; Path=/"),
    ]
    _, headers, _ = decode_response("alb", response)
    assert [v for n, v in headers if n.lower() == "set-cookie"] == [v for _, v in cookies]
    assert [r.getMessage() for r in caplog.records if r.name == "bridge.sources"] == [
        "alb responses carry one value per header: 4 Set-Cookie headers were sent under "
        "differently-cased names (set-cookie, Set-cookie, ...), which the load balancer passes "
        "on as separate headers. Turn on multi-value headers for the target group to send "
        "them as a list."
    ]


def test_alb_single_value_mode_keeps_as_many_cookies_as_the_name_has_casings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The name has 9 letters: 512 casings.  Beyond them a cookie cannot
    be sent in this mode; the WARNING says how many were left out."""
    cookies = [(b"set-cookie", b"c%d=1" % i) for i in range(514)]
    response = respond(Bridge(respond_with(200, cookies), lifespan="off"), build_event("alb"))
    sent = [v for n, v in response["headers"].items() if n.lower() == "set-cookie"]
    assert sent == [f"c{i}=1" for i in range(512)]
    assert len({n for n in response["headers"] if n.lower() == "set-cookie"}) == 512
    (message,) = [r.getMessage() for r in caplog.records if r.name == "bridge.sources"]
    assert "514 Set-Cookie headers" in message
    assert "the last 2 were left out" in message


def test_alb_multi_value_mode_logs_nothing_for_several_cookies(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    respond(make_handler(respond_with(200, COOKIES), lifespan="off"), build_event("alb-multi"))
    assert not [r for r in caplog.records if r.name == "bridge.sources"]


def test_alb_multi_value_response_mirrors_the_request(make_handler: HandlerFactory) -> None:
    app = respond_with(200, APP_HEADERS, b"ok")
    assert respond(make_handler(app), build_event("alb-multi")) == {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "multiValueHeaders": {
            "content-type": ["text/plain; charset=utf-8"],
            "x-one": ["1"],
            "set-cookie": ["a=1", "b=2"],
        },
        "body": "ok",
        "isBase64Encoded": False,
    }


# ---------------------------------------------------------------- CloudFront


def test_edge_response_uses_cloudfronts_schema_and_drops_rejected_headers(
    make_handler: HandlerFactory,
) -> None:
    app = respond_with(
        302,
        [
            (b"location", b"/next"),
            (b"Content-Length", b"0"),
            (b"connection", b"keep-alive"),
            (b"x-amz-cf-pop", b"x"),
            (b"Set-Cookie", b"a=1"),
            (b"set-cookie", b"b=2"),
        ],
    )
    assert respond(make_handler(app), build_event("edge")) == {
        "status": "302",
        "statusDescription": "Found",
        "headers": {
            "location": [{"key": "Location", "value": "/next"}],
            "set-cookie": [
                {"key": "Set-Cookie", "value": "a=1"},
                {"key": "Set-Cookie", "value": "b=2"},
            ],
        },
        "body": "",
        "bodyEncoding": "text",
    }


def test_edge_truncated_body_is_refused(make_handler: HandlerFactory) -> None:
    event = build_event("edge", method="POST", body=b"x")
    event["Records"][0]["cf"]["request"]["body"]["inputTruncated"] = True
    response = respond(make_handler(), event)
    assert response["status"] == "413"
    assert "truncated" in str(response["body"])


# ---------------------------------------------------------------- VPC Lattice


@pytest.mark.parametrize("source", ["lattice", "lattice-v2"])
def test_lattice_response_shape(make_handler: HandlerFactory, source: str) -> None:
    app = respond_with(200, APP_HEADERS, b"ok")
    assert respond(make_handler(app), build_event(source)) == {
        "statusCode": 200,
        "statusDescription": "200 OK",
        "headers": {"content-type": "text/plain; charset=utf-8", "x-one": "1", "set-cookie": "b=2"},
        "body": "ok",
        "isBase64Encoded": False,
    }


def test_lattice_v1_query_in_raw_path(make_handler: HandlerFactory) -> None:
    event = build_event("lattice", path="/p%20q", query="a=1&a=2")
    assert event["raw_path"] == "/p%20q?a=1&a=2"
    body = json.loads(respond(make_handler(), event)["body"])
    assert (body["path"], body["query_string"]) == ("/p q", "a=1&a=2")


# ---------------------------------------------------------------- host, port, scheme


@pytest.mark.parametrize(
    ("host", "forwarded_port", "expected"),
    [
        ("[2001:db8::1]:8443", None, ["2001:db8::1", 8443]),
        ("[2001:db8::1]", None, ["2001:db8::1", 443]),
        ("example.com:", None, ["example.com", 443]),
        ("example.com", "443,80", ["example.com", 80]),
        ("example.com:8080", "junk", ["example.com", 8080]),
        ("2001:db8::1", None, ["2001:db8::1", 443]),
        ("example.com:\u00b2", None, ["example.com", 443]),  # a digit int() refuses
        ("[2001:db8::1]:\u00b2", "\u00b2", ["2001:db8::1", 443]),
        ("example.com:99999", "123456", ["example.com", 443]),
    ],
)
def test_unusual_host_and_port_never_crash(
    make_handler: HandlerFactory,
    exchange: Callable[..., Reply],
    host: str,
    forwarded_port: str | None,
    expected: list[object],
) -> None:
    headers = [("Host", host)]
    if forwarded_port is not None:
        headers.append(("X-Forwarded-Port", forwarded_port))
    event = build_event("http", headers=headers)
    if forwarded_port is None:
        del event["headers"]["x-forwarded-port"]
    body = json.loads(respond(make_handler(), event)["body"])
    assert body["server"] == expected
