"""Behaviour every HTTP event source shares, run against each of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qsl

from tests.apps import respond_with
from tests.conftest import HandlerFactory, Reply
from tests.sources.traits import TRAITS


def test_method_path_and_query_reach_the_app_exactly(
    make_handler: HandlerFactory, exchange: Callable[..., Reply], source: str
) -> None:
    query = "a=1&a=2&blank=&plus=x+y&space=x%20y&slash=%2Fz&uni=%CE%BB"
    result = exchange(make_handler(), source, method="PATCH", path="/caf%C3%A9/x%20y", query=query)

    seen = result.json()
    assert result.status == 200
    assert seen["method"] == "PATCH"
    assert seen["path"] == "/café/x y"
    received = parse_qsl(seen["query_string"], keep_blank_values=True)
    sent = parse_qsl(query, keep_blank_values=True)
    if source == "alb":  # single-value mode: the load balancer passes the last value per key
        assert dict(received) == dict(sent)
        assert len(received) == len(dict(sent))
    else:
        assert received == sent


def test_binary_request_body_is_byte_exact(
    make_handler: HandlerFactory, exchange: Callable[..., Reply], source: str
) -> None:
    body = bytes(range(256)) * 3
    result = exchange(
        make_handler(),
        source,
        method="POST",
        headers=[("Content-Type", "application/octet-stream")],
        body=body,
    )
    assert result.echoed_body() == body


def test_text_request_body_is_byte_exact(
    make_handler: HandlerFactory, exchange: Callable[..., Reply], source: str
) -> None:
    body = '{"greeting": "grüße, λ, 世界"}'.encode()
    result = exchange(
        make_handler(),
        source,
        method="POST",
        headers=[("Content-Type", "application/json")],
        body=body,
    )
    assert result.echoed_body() == body


def test_every_request_header_value_is_kept(
    make_handler: HandlerFactory, exchange: Callable[..., Reply], source: str
) -> None:
    result = exchange(
        make_handler(), source, headers=[("X-Multi", "one"), ("X-Multi", "two"), ("X-Case", "v")]
    )
    headers = result.json()["headers"]
    values = [v for n, v in headers if n == "x-multi"]
    if TRAITS[source].request_headers in ("grouped", "ordered"):
        assert values == ["one", "two"]
    elif TRAITS[source].request_headers == "last":  # ALB single-value mode
        assert values == ["two"]
    else:
        assert values == ["one,two"]
    assert ["x-case", "v"] in headers
    assert all(name == name.lower() for name, _ in headers)


def test_cookies_reach_the_app_as_one_header(
    make_handler: HandlerFactory, exchange: Callable[..., Reply], source: str
) -> None:
    result = exchange(make_handler(), source, headers=[("Cookie", "a=1; b=2")])
    cookies = [v for n, v in result.json()["headers"] if n == "cookie"]
    assert cookies == ["a=1; b=2"]


def test_binary_response_body_is_byte_exact(
    make_handler: HandlerFactory, exchange: Callable[..., Reply], source: str
) -> None:
    payload = bytes(range(255, -1, -1)) * 4
    result = exchange(make_handler(), source, method="POST", path="/raw", body=payload)
    assert result.body == payload
    assert result.all("content-type") == ["application/octet-stream"]


def test_status_and_headers_come_back(
    make_handler: HandlerFactory, exchange: Callable[..., Reply], source: str
) -> None:
    app = respond_with(418, [(b"x-answer", b"42"), (b"x-dup", b"1"), (b"x-dup", b"2")])
    result = exchange(make_handler(app), source)
    assert result.status == 418
    assert result.all("x-answer") == ["42"]
    assert result.all("x-dup") in (["1", "2"], ["1,2"])


def test_several_set_cookie_headers_survive_where_the_format_allows(
    make_handler: HandlerFactory, exchange: Callable[..., Reply], source: str
) -> None:
    app = respond_with(
        headers=[
            (b"set-cookie", b"a=1; Path=/"),
            (b"set-cookie", b"b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"),
        ]
    )
    result = exchange(make_handler(app), source)
    cookies = result.all("set-cookie")
    if TRAITS[source].set_cookies != "last":
        assert cookies == ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"]
    else:  # one value per header: the last one, never a comma-joined mangle
        assert cookies == ["b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"]


def test_exclude_headers_applies(
    make_handler: HandlerFactory, exchange: Callable[..., Reply], source: str
) -> None:
    app = respond_with(headers=[(b"x-secret", b"1"), (b"X-Public", b"2")])
    result = exchange(make_handler(app, exclude_headers=["X-Secret"]), source)
    assert result.all("x-secret") == []
    assert result.all("x-public") == ["2"]


def test_response_is_json_serializable_and_round_trips(
    make_handler: HandlerFactory, exchange: Callable[..., Reply], source: str
) -> None:
    result = exchange(make_handler(), source, method="POST", path="/raw", body=b"\x00\xff")
    assert json.loads(json.dumps(result.response)) == result.response


def test_the_event_and_context_are_in_the_scope(
    make_handler: HandlerFactory, exchange: Callable[..., Reply], source: str
) -> None:
    seen: dict[str, object] = {}

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen["event"] = scope["aws.event"]
        seen["context"] = scope["aws.context"]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    result = exchange(make_handler(app, lifespan="off"), source)
    assert result.status == 204
    assert seen["event"] is result.event
    assert seen["context"] is not None
    assert hasattr(seen["context"], "get_remaining_time_in_millis")


def test_client_address_is_the_callers(
    make_handler: HandlerFactory, exchange: Callable[..., Reply], source: str
) -> None:
    result = exchange(make_handler(), source, source_ip="198.51.100.23")
    assert result.json()["client"] == ["198.51.100.23", 0]


def test_text_response_is_sent_as_text(
    make_handler: HandlerFactory, exchange: Callable[..., Reply], source: str
) -> None:
    result = exchange(
        make_handler(), source, headers=[("X-Content-Type", "text/html; charset=utf-8")]
    )
    encoded = result.response.get("isBase64Encoded", result.response.get("bodyEncoding"))
    assert encoded in (False, "text")
    assert result.json()["method"] == "GET"
