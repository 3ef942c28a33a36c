"""Events that are not what AWS sends: each has one documented outcome.

An event a source recognizes but cannot read gets a 400 response naming the
problem (and a warning in the log); an event that is not an HTTP event at
all raises ``UnknownEventError``.  See "Failure modes" in README.rst.
"""

from __future__ import annotations

from typing import Any

import pytest

from bridge import UnknownEventError
from bridge.local.events import build_event
from tests.conftest import HandlerFactory


def answer(make_handler: HandlerFactory, event: dict[str, Any]) -> tuple[int, str]:
    response = make_handler(lifespan="off")(event)
    status = int(response.get("statusCode") or response["status"])
    return status, response["body"]


def assert_bad_request(make_handler: HandlerFactory, event: dict[str, Any], words: str) -> None:
    status, body = answer(make_handler, event)
    assert status == 400
    assert body.startswith("Bad request: ")
    assert words in body


def event_with(source: str, **changes: Any) -> dict[str, Any]:
    event = build_event(source, query="a=1", headers=[("X-A", "1")])
    for key, value in changes.items():
        if value is DELETE:
            event.pop(key, None)
        else:
            event[key] = value
    return event


DELETE = object()


@pytest.mark.parametrize(
    ("source", "key", "value", "words"),
    [
        ("rest", "httpMethod", None, "'httpMethod' is missing"),
        ("rest", "httpMethod", 5, "expected 'httpMethod' to be a string, got int"),
        ("http", "headers", "x", "expected 'headers' to be an object or null, got str"),
        ("rest", "multiValueHeaders", {"X-A": 5}, "header 'X-A' should be a list of strings"),
        ("rest", "multiValueHeaders", {"X-A": [5]}, "header 'X-A' should have a string value"),
        ("rest", "body", 5, "expected 'body' to be a string or null, got int"),
        ("http", "requestContext", {"http": "GET"}, "expected 'http' to be an object"),
        ("http", "rawQueryString", 5, "expected 'rawQueryString' to be a string, got int"),
        ("http", "cookies", "a=1", "expected 'cookies' to be a list of strings, got str"),
        ("alb", "path", ["/"], "expected 'path' to be a string, got list"),
        ("lattice", "headers", [], "expected 'headers' to be an object or null, got list"),
        ("lattice-v2", "method", "", "'method' is missing or empty"),
    ],
)
def test_wrong_types_are_bad_requests(
    make_handler: HandlerFactory, source: str, key: str, value: Any, words: str
) -> None:
    assert_bad_request(make_handler, event_with(source, **{key: value}), words)


@pytest.mark.parametrize("source", ["rest", "http-v1", "http", "url", "alb", "lattice-v2"])
def test_invalid_base64_body_is_a_bad_request(make_handler: HandlerFactory, source: str) -> None:
    event = event_with(source, body="not base64!", isBase64Encoded=True)
    assert_bad_request(make_handler, event, "flagged as base64 but is not valid base64")


@pytest.mark.parametrize("source", ["rest", "http-v1", "http", "url", "alb", "lattice-v2"])
@pytest.mark.parametrize("key", ["headers", "body", "multiValueHeaders", "cookies"])
@pytest.mark.parametrize("value", [None, DELETE])
def test_missing_or_null_optional_parts_are_served(
    make_handler: HandlerFactory, source: str, key: str, value: object
) -> None:
    status, _ = answer(make_handler, event_with(source, **{key: value}))
    assert status == 200


@pytest.mark.parametrize("value", [None, DELETE])
def test_rest_event_without_request_context_is_served(
    make_handler: HandlerFactory, value: object
) -> None:
    status, _ = answer(make_handler, event_with("rest", requestContext=value))
    assert status == 200


@pytest.mark.parametrize("source", ["http-v1", "http", "url", "lattice-v2"])
@pytest.mark.parametrize("value", [None, DELETE, "x"])
def test_event_without_request_context_is_not_an_http_event(
    make_handler: HandlerFactory, source: str, value: object
) -> None:
    """These sources are recognized by their requestContext; without it the
    event is nothing bridge knows, and says so.  (An ALB event without one
    has the shape of a REST API test invocation and is served as one.)"""
    with pytest.raises(UnknownEventError, match="Looked for"):
        make_handler(lifespan="off")(event_with(source, requestContext=value))


@pytest.mark.parametrize("event", [None, [], "GET /", 5, {}, {"Records": []}])
def test_non_http_events_raise_unknown_event_error(
    make_handler: HandlerFactory, event: Any
) -> None:
    with pytest.raises(UnknownEventError):
        make_handler(lifespan="off")(event)


# ------------------------------------------- found by tests/test_fuzz_events.py


@pytest.mark.parametrize(
    ("source", "key", "value", "words"),
    [
        ("rest", "multiValueQueryStringParameters", {"a": [5]}, "query parameter 'a' has"),
        ("rest", "multiValueQueryStringParameters", {"a": 5}, "query parameter 'a' should"),
        ("rest", "queryStringParameters", {"a": {"b": "c"}}, "query parameter 'a' should"),
        ("alb-multi", "multiValueQueryStringParameters", {"a": [True]}, "'a' has a value"),
        ("alb", "queryStringParameters", {"a": 1.5}, "query parameter 'a' should"),
        ("lattice", "query_string_parameters", {"a": [[]]}, "query parameter 'a' has"),
    ],
)
def test_query_parameters_of_the_wrong_type_are_bad_requests(
    make_handler: HandlerFactory, source: str, key: str, value: Any, words: str
) -> None:
    event = event_with(source, **{key: value})
    if key == "queryStringParameters" and source == "rest":
        del event["multiValueQueryStringParameters"]  # read first when present
    if source == "lattice":
        event["raw_path"] = "/"  # no query in the path: the parameters are read
    assert_bad_request(make_handler, event, words)


@pytest.mark.parametrize(
    ("source", "key", "value", "words"),
    [
        ("http", "rawPath", "/\ud800", "'rawPath' is not valid Unicode"),
        ("url", "rawQueryString", "a=\udfff", "'rawQueryString' is not valid Unicode"),
        ("rest", "multiValueHeaders", {"X-A": ["\ud800"]}, "header 'x-a' is not valid Unicode"),
        ("http", "headers", {"x-a": "\ud800"}, "header 'x-a' is not valid Unicode"),
        ("http", "cookies", ["a=\ud800"], "header 'cookie' is not valid Unicode"),
        ("rest", "multiValueQueryStringParameters", {"a": ["\ud800"]}, "parameter 'a' is not"),
        ("alb", "queryStringParameters", {"a": "\ud800"}, "the query string is not valid"),
    ],
)
def test_lone_surrogates_are_bad_requests(
    make_handler: HandlerFactory, source: str, key: str, value: Any, words: str
) -> None:
    """JSON can carry a lone surrogate (``"\\ud800"``); HTTP cannot."""
    assert_bad_request(make_handler, event_with(source, **{key: value}), words)


def test_header_names_beyond_latin_1_are_kept_as_utf_8(make_handler: HandlerFactory) -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["headers"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    event = build_event("http")
    event["headers"]["x-\u0100"] = "v"
    assert make_handler(app, lifespan="off")(event)["statusCode"] == 204
    assert ("x-\u0101".encode(), b"v") in seen[0]


def test_an_event_type_that_is_not_a_string_is_not_a_websocket_event(
    make_handler: HandlerFactory,
) -> None:
    """``requestContext.eventType`` as an object raised TypeError (unhashable)
    from the WebSocket check before any source was asked."""
    event = event_with("rest")
    event["requestContext"]["eventType"] = {"CONNECT": 1}
    event["requestContext"]["connectionId"] = "c1="
    assert answer(make_handler, event)[0] == 200


@pytest.mark.parametrize("source", ["rest", "http", "edge"])
def test_a_client_address_that_is_not_valid_unicode_is_left_out(
    make_handler: HandlerFactory, source: str
) -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["client"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    event = build_event(source)
    if source == "rest":
        event["requestContext"]["identity"]["sourceIp"] = "\ud800"
    elif source == "http":
        event["requestContext"]["http"]["sourceIp"] = "\ud800"
    else:
        event["Records"][0]["cf"]["request"]["clientIp"] = "\ud800"
    response = make_handler(app, lifespan="off")(event)
    assert int(response.get("statusCode") or response["status"]) == 204
    assert seen == [None]
