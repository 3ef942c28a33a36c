"""How each source's request reaches the app, where real clients and hostile
input found it wrong (issue 18): paths decoded once, query strings under
either key and within PEP 3333, the scheme, non-object events, and the
authorizer's principal.  Through ``Bridge(app)(event, context)`` with a real
Flask app (WSGI) and an ASGI app that records its scope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, jsonify, request

from bridge import Bridge, UnknownEventError
from bridge.local.events import FakeContext, build_event
from bridge.local.responses import decode_response
from bridge.sources import BUILTIN_SOURCES
from tests.apps import read_body

flask_app = Flask("request_reading")


@flask_app.route("/", defaults={"rest": ""})
@flask_app.route("/<path:rest>")
def describe(rest: str) -> Any:
    environ = request.environ
    return jsonify(
        path=request.path,
        script_name=environ["SCRIPT_NAME"],
        query_string=request.query_string.decode("latin-1"),
        args=list(request.args.items(multi=True)),
        scheme=request.scheme,
        url_root=request.url_root,
        server_port=environ["SERVER_PORT"],
        remote_user=request.remote_user,
        remote_addr=request.remote_addr,
        authorizer=environ["aws.authorizer"],
    )


@pytest.fixture(scope="module")
def flask_handler() -> Iterator[Bridge]:
    handler = Bridge(flask_app)
    yield handler
    handler.close()


class ScopeRecorder:
    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await read_body(receive)
        self.scopes.append(dict(scope))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def asgi() -> Iterator[tuple[Bridge, ScopeRecorder]]:
    recorder = ScopeRecorder()
    handler = Bridge(recorder, lifespan="off")
    yield handler, recorder
    handler.close()


def flask_sees(handler: Bridge, source: str, event: dict[str, Any]) -> dict[str, Any]:
    status, _, body = decode_response(source, handler(event, FakeContext()))
    assert status == 200, body
    seen: dict[str, Any] = json.loads(body)
    return seen


def asgi_sees(asgi: tuple[Bridge, ScopeRecorder], event: dict[str, Any]) -> dict[str, Any]:
    handler, recorder = asgi
    recorder.scopes.clear()
    handler(event, FakeContext())
    (scope,) = recorder.scopes
    return scope


# ---------------------------------------------------------------- HTTP API paths


@pytest.mark.parametrize("source", ["http-v1", "http"])
def test_an_http_api_path_is_not_decoded_again(
    flask_handler: Bridge, asgi: tuple[Bridge, ScopeRecorder], source: str
) -> None:
    # The client sent /echo/pct%2541; the HTTP API delivers it decoded once.
    event = build_event(source, path="/echo/pct%2541")
    assert (event.get("path") or event.get("rawPath")) == "/echo/pct%41"

    assert flask_sees(flask_handler, source, event)["path"] == "/echo/pct%41"
    scope = asgi_sees(asgi, event)
    assert scope["path"] == "/echo/pct%41"
    assert scope["raw_path"] == b"/echo/pct%2541"


@pytest.mark.parametrize("source", ["http-v1", "http"])
def test_an_http_api_raw_path_is_the_decoded_path_encoded_again(
    asgi: tuple[Bridge, ScopeRecorder], source: str
) -> None:
    event = build_event(source, path="/a%20b/caf%C3%A9/%3Fx%23/100%25", stage="beta")

    scope = asgi_sees(asgi, event)

    assert scope["path"] == "/beta/a b/café/?x#/100%"
    assert scope["raw_path"] == b"/beta/a%20b/caf%C3%A9/%3Fx%23/100%25"
    assert scope["root_path"] == "/beta"


def test_a_plain_http_api_raw_path_is_the_path_itself(asgi: tuple[Bridge, ScopeRecorder]) -> None:
    event = build_event("http", path="/items/42;v=1/a:b@c/~x")
    assert asgi_sees(asgi, event)["raw_path"] == b"/items/42;v=1/a:b@c/~x"


# ---------------------------------------------------------------- query strings


@pytest.mark.parametrize("source", ["alb", "alb-multi"])
def test_a_raw_non_ascii_alb_query_reaches_a_wsgi_app_as_pep_3333_bytes(
    flask_handler: Bridge, asgi: tuple[Bridge, ScopeRecorder], source: str
) -> None:
    event = build_event(source, path="/q")
    key = "multiValueQueryStringParameters" if source == "alb-multi" else "queryStringParameters"
    event[key] = {"q": ["日本"] if source == "alb-multi" else "日本", "r": "a%20b"}

    seen = flask_sees(flask_handler, source, event)

    assert seen["query_string"] == "q=日本&r=a%20b".encode().decode("latin-1")
    assert seen["args"] == [["q", "日本"], ["r", "a b"]]
    assert asgi_sees(asgi, event)["query_string"] == "q=日本&r=a%20b".encode()


@pytest.mark.parametrize(
    ("source", "present", "value"),
    [
        ("alb-multi", "queryStringParameters", "1"),  # multi-value headers, single query
        ("alb", "multiValueQueryStringParameters", ["1", "2"]),  # the other way round
        ("lattice-v2", "query_string_parameters", ["1"]),  # a published 2.0 sample
        ("lattice", "queryStringParameters", "1"),
    ],
)
def test_query_parameters_are_read_under_whichever_key_the_event_has(
    flask_handler: Bridge,
    asgi: tuple[Bridge, ScopeRecorder],
    source: str,
    present: str,
    value: Any,
) -> None:
    event = build_event(source, path="/q")
    for key in (
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "query_string_parameters",
    ):
        event.pop(key, None)
    event[present] = {"order-id": value}
    expected = "&".join(f"order-id={v}" for v in (value if isinstance(value, list) else [value]))

    assert flask_sees(flask_handler, source, event)["query_string"] == expected
    assert asgi_sees(asgi, event)["query_string"] == expected.encode()


# ---------------------------------------------------------------- scheme


@pytest.mark.parametrize(
    ("proto", "scheme", "port"),
    [
        ("javascript://", "https", "443"),
        ("http, https", "https", "443"),
        ("https, http", "http", "80"),
        ("ftp", "https", "443"),
        ("", "https", "443"),
        ("http", "http", "80"),
        ("HTTPS", "https", "443"),
    ],
)
def test_cloudfront_forwarded_proto_is_checked_and_the_port_follows_it(
    flask_handler: Bridge,
    asgi: tuple[Bridge, ScopeRecorder],
    proto: str,
    scheme: str,
    port: str,
) -> None:
    event = build_event("edge", path="/x", headers=[("CloudFront-Forwarded-Proto", proto)])

    seen = flask_sees(flask_handler, "edge", event)
    assert (seen["scheme"], seen["server_port"]) == (scheme, port)
    assert seen["url_root"] == f"{scheme}://example.com/"
    scope = asgi_sees(asgi, event)
    assert (scope["scheme"], scope["server"]) == (scheme, ("example.com", int(port)))


def test_cloudfront_forwarded_proto_wins_over_a_viewers_x_forwarded_proto(
    asgi: tuple[Bridge, ScopeRecorder],
) -> None:
    event = build_event("edge", headers=[("CloudFront-Forwarded-Proto", "http")])
    event["Records"][0]["cf"]["request"]["headers"]["x-forwarded-proto"] = [
        {"key": "X-Forwarded-Proto", "value": "https"}
    ]
    assert asgi_sees(asgi, event)["scheme"] == "http"


# ---------------------------------------------------------------- not an object


@pytest.mark.parametrize("event", ["just a string", [1, 2], None, 5, ["Records"]])
def test_a_non_object_event_is_refused_naming_the_shapes_looked_for(event: Any) -> None:
    handler = Bridge(flask_app)
    with pytest.raises(UnknownEventError) as info:
        handler(event, FakeContext())
    message = str(info.value)
    assert f"JSON object, got {type(event).__name__}" in message
    for source in BUILTIN_SOURCES:
        assert f"{source.name}: {source.looks_for}" in message


# ---------------------------------------------------------------- authorizers

#: The authorizer blocks of the published sample events (values shortened),
#: and the principal each names.
AUTHORIZERS: dict[str, tuple[str, dict[str, Any], str | None]] = {
    "REST Lambda authorizer": (
        "rest",
        {"principalId": "admin", "clientId": 1, "clientName": "Exata"},
        "admin",
    ),
    "REST Cognito authorizer": (
        "rest",
        {"claims": {"sub": "d2f50444-0041", "cognito:username": "aamorosi"}},
        "d2f50444-0041",
    ),
    "HTTP API 1.0 without one": ("http-v1", {"claims": None, "scopes": None}, None),
    "HTTP API 1.0 Lambda authorizer": (
        "http-v1",
        {"principalId": "user", "integrationLatency": 422},
        "user",
    ),
    "HTTP API JWT authorizer": (
        "http",
        {"jwt": {"claims": {"sub": "d2f5", "cognito:username": "a"}, "scopes": ["s1"]}},
        "d2f5",
    ),
    "HTTP API JWT without sub": (
        "http",
        {"jwt": {"claims": {"claim1": "value1"}, "scopes": ["scope1"]}},
        None,
    ),
    "HTTP API IAM authorizer": (
        "http",
        {"iam": {"accessKey": "ARIA", "userArn": "arn:aws:iam::1234567890:user/Admin"}},
        "arn:aws:iam::1234567890:user/Admin",
    ),
    "HTTP API Lambda authorizer context": ("http", {"lambda": {"key": "value"}}, None),
    "HTTP API Lambda authorizer with a principal": (
        "http",
        {"lambda": {"principalId": "tenant-7", "tenantId": "123"}},
        "tenant-7",
    ),
    "function URL IAM": (
        "url",
        {"iam": {"userArn": "arn:aws:iam::111122223333:user/example-user"}},
        "arn:aws:iam::111122223333:user/example-user",
    ),
    "empty IAM of an unsigned call": ("url", {"iam": {"userArn": "", "userId": ""}}, None),
    "principalId first": (
        "http",
        {"principalId": "p", "jwt": {"claims": {"sub": "s"}}, "iam": {"userArn": "u"}},
        "p",
    ),
    "JWT before IAM": ("http", {"jwt": {"claims": {"sub": "s"}}, "iam": {"userArn": "u"}}, "s"),
    "a principal that is not a string is skipped": (
        "rest",
        {"principalId": 7, "claims": {"sub": "s"}},
        "s",
    ),
}


def with_authorizer(source: str, authorizer: object) -> dict[str, Any]:
    event = build_event(source, path="/who")
    event["requestContext"]["authorizer"] = authorizer
    result: dict[str, Any] = json.loads(json.dumps(event))
    return result


@pytest.mark.parametrize("case", sorted(AUTHORIZERS))
def test_the_authorizer_and_its_principal_reach_the_app(
    flask_handler: Bridge, asgi: tuple[Bridge, ScopeRecorder], case: str
) -> None:
    source, authorizer, principal = AUTHORIZERS[case]
    event = with_authorizer(source, authorizer)

    seen = flask_sees(flask_handler, source, event)
    assert seen["remote_user"] == principal
    assert seen["authorizer"] == authorizer
    assert asgi_sees(asgi, event)["aws.authorizer"] == authorizer


@pytest.mark.parametrize("source", ["rest", "http-v1", "http", "url", "alb", "edge", "lattice"])
def test_without_an_authorizer_there_is_no_remote_user(
    flask_handler: Bridge, asgi: tuple[Bridge, ScopeRecorder], source: str
) -> None:
    event = build_event(source, path="/who")
    seen = flask_sees(flask_handler, source, event)
    assert (seen["remote_user"], seen["authorizer"]) == (None, None)
    assert asgi_sees(asgi, event)["aws.authorizer"] is None


@pytest.mark.parametrize("authorizer", [None, "x", [1], 5])
def test_an_authorizer_that_is_not_an_object_is_left_out(
    flask_handler: Bridge, authorizer: object
) -> None:
    seen = flask_sees(flask_handler, "http", with_authorizer("http", authorizer))
    assert (seen["remote_user"], seen["authorizer"]) == (None, None)


def test_a_non_ascii_principal_is_pep_3333_bytes_and_a_lone_surrogate_is_left_out(
    flask_handler: Bridge,
) -> None:
    seen = flask_sees(flask_handler, "rest", with_authorizer("rest", {"principalId": "José"}))
    assert seen["remote_user"] == "José".encode().decode("latin-1")
    seen = flask_sees(flask_handler, "rest", with_authorizer("rest", {"principalId": "\ud800"}))
    assert seen["remote_user"] is None


# ---------------------------------------------------------------- found by the WSGI fuzz run

#: Where each source's event names the method and the client address.
METHOD_AND_CLIENT: dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]] = {
    "rest": (("httpMethod",), ("requestContext", "identity", "sourceIp")),
    "http-v1": (("httpMethod",), ("requestContext", "identity", "sourceIp")),
    "http": (("requestContext", "http", "method"), ("requestContext", "http", "sourceIp")),
    "url": (("requestContext", "http", "method"), ("requestContext", "http", "sourceIp")),
    "alb": (("httpMethod",), ("headers", "x-forwarded-for")),
    "edge": (
        ("Records", 0, "cf", "request", "method"),
        ("Records", 0, "cf", "request", "clientIp"),
    ),
    "lattice": (("method",), ("headers", "x-forwarded-for")),
}


def set_at(event: dict[str, Any], place: tuple[Any, ...], value: object) -> dict[str, Any]:
    parent: Any = event
    for step in place[:-1]:
        parent = parent[step]
    parent[place[-1]] = value
    return event


@pytest.mark.parametrize("source", sorted(METHOD_AND_CLIENT))
def test_a_method_beyond_ascii_is_a_bad_request(flask_handler: Bridge, source: str) -> None:
    event = set_at(build_event(source), METHOD_AND_CLIENT[source][0], "G\u0100T")
    status, _, body = decode_response(source, flask_handler(event, FakeContext()))
    assert status == 400
    assert body.startswith(f"Bad request: {source} event: expected ".encode())
    assert b"HTTP method (ASCII)" in body


@pytest.mark.parametrize("source", sorted(METHOD_AND_CLIENT))
def test_a_client_address_beyond_ascii_is_left_out(
    flask_handler: Bridge, asgi: tuple[Bridge, ScopeRecorder], source: str
) -> None:
    event = set_at(build_event(source, path="/who"), METHOD_AND_CLIENT[source][1], "10.0.0.\u0100")
    assert flask_sees(flask_handler, source, event)["remote_addr"] is None
    assert asgi_sees(asgi, event)["client"] is None
