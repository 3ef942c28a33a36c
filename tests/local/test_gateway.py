"""The gateway in this process, every source: HTTP request -> event -> handler -> HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from http import HTTPStatus

import httpx
import pytest

from bridge import Bridge
from bridge.local.events import SOURCE_NAMES, FakeContext
from bridge.local.gateway import Gateway, LocalRequest, canonical_header_name, outgoing_headers
from bridge.local.invoker import Invoker
from bridge.local.responses import HTTPResponse
from bridge.local.server import ASGIFrontend
from tests.sources.traits import TRAITS

from .apps import BINARY, echo


def make_context(request_id: str, timeout_ms: int) -> FakeContext:
    context = FakeContext(timeout_ms=timeout_ms)
    context.aws_request_id = request_id
    return context


@pytest.fixture(scope="module")
def invoker() -> Iterator[Invoker]:
    with Invoker(Bridge(echo, lifespan="off"), timeout=30, make_context=make_context) as running:
        yield running


@pytest.fixture(params=SOURCE_NAMES)
def gateway(request: pytest.FixtureRequest, invoker: Invoker) -> Gateway:
    return Gateway(invoker, request.param)


def request(
    method: str, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b""
) -> LocalRequest:
    path, _, query = target.partition("?")
    return LocalRequest(
        method=method,
        path=path,
        query=query,
        headers=[("Host", "127.0.0.1:8000"), *(headers or [])],
        body=body,
        client=("127.0.0.1", 50000),
        server=("127.0.0.1", 8000),
    )


def test_the_app_sees_method_query_headers_and_a_binary_body(gateway: Gateway) -> None:
    response = gateway.respond(
        request("PUT", "/echo?q=1&q=2", [("X-Custom", "yes"), ("Cookie", "a=1; b=2")], BINARY)
    )
    assert response.status == 200
    seen = json.loads(response.body)
    headers = dict(seen["headers"])
    # A load balancer without multi-value mode passes the last value of a repeated parameter.
    query = "q=2" if gateway.source == "alb" else "q=1&q=2"
    assert (seen["method"], seen["path"], seen["query"]) == ("PUT", "/echo", query)
    assert base64.b64decode(seen["body"]) == BINARY
    assert headers["x-custom"] == "yes"
    assert headers["host"] == "127.0.0.1:8000"
    assert headers["cookie"].replace(" ", "") == "a=1;b=2"


def test_a_binary_response_comes_back_exactly(gateway: Gateway) -> None:
    response = gateway.respond(request("GET", "/binary"))
    assert (response.status, response.body) == (200, BINARY)
    assert ("content-type", "application/octet-stream") in [
        (k.lower(), v) for k, v in response.headers
    ]


def test_set_cookie_headers_as_the_source_can_carry_them(gateway: Gateway) -> None:
    response = gateway.respond(request("GET", "/cookies"))
    cookies = [v for k, v in response.headers if k.lower() == "set-cookie"]
    if TRAITS[gateway.source].set_cookies != "last":
        assert cookies == ["a=1; Path=/", "b=2; HttpOnly"]
    else:
        assert cookies == ["b=2; HttpOnly"]  # one value per header name: the last one


def test_an_empty_response_with_its_status(gateway: Gateway) -> None:
    response = gateway.respond(request("DELETE", "/status/204"))
    assert (response.status, response.body) == (204, b"")


def test_a_request_too_large_to_read_is_413_without_an_invocation(gateway: Gateway) -> None:
    response = gateway.respond(request("POST", "/echo"), 7 * 1024 * 1024)
    assert response.status == 413
    assert response.body.startswith(
        f"413 {HTTPStatus(413).phrase}: RequestEntityTooLarge: ".encode()
    )


def test_outgoing_headers_replace_the_length_except_for_head() -> None:
    date = ("Date", "Mon, 07 Dec 2026 12:00:00 GMT")
    response = HTTPResponse(
        200, [date, ("Content-Length", "99"), ("Connection", "close"), ("X-A", "1")], b"abc"
    )
    assert outgoing_headers(response, "GET") == [date, ("X-A", "1"), ("content-length", "3")]
    empty = HTTPResponse(200, [date, ("Content-Length", "99")], b"")
    assert outgoing_headers(empty, "HEAD") == [date, ("content-length", "99")]


def test_outgoing_headers_have_a_date_unless_the_function_sent_one() -> None:
    headers = outgoing_headers(HTTPResponse(200), "HEAD")
    assert [name for name, _ in headers] == ["date", "content-length"]
    assert parsedate_to_datetime(headers[0][1]).tzinfo is not None
    assert headers[1] == ("content-length", "0")


def test_canonical_header_names() -> None:
    assert canonical_header_name("content-type") == "Content-Type"
    assert canonical_header_name("x-amz-date") == "X-Amz-Date"
    assert canonical_header_name("dnt") == "Dnt"


def test_host_and_port_come_from_the_host_header() -> None:
    assert request("GET", "/").host_and_port() == ("127.0.0.1", 8000)
    ipv6 = LocalRequest("GET", "/", "", [("host", "[::1]:9000")], b"", ("::1", 1), ("::1", 9000))
    assert ipv6.host_and_port() == ("::1", 9000)
    no_host = LocalRequest("GET", "/", "", [], b"", ("127.0.0.1", 1), ("127.0.0.2", 81))
    assert no_host.host_and_port() == ("127.0.0.2", 81)


def through_asgi_frontend(
    invoker: Invoker, method: str, target: str, body: bytes
) -> httpx.Response:
    """One request through the ASGI app uvicorn runs, in this process."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=ASGIFrontend(Gateway(invoker, "http")))
        async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
            return await client.request(method, target, content=body)

    return asyncio.run(send())


def test_the_asgi_frontend_passes_the_request_and_response(invoker: Invoker) -> None:
    response = through_asgi_frontend(invoker, "POST", "/echo?x=%2F", BINARY)
    assert response.status_code == 200
    seen = response.json()
    assert (seen["path"], seen["query"]) == ("/echo", "x=%2F")
    assert base64.b64decode(seen["body"]) == BINARY
    assert response.headers["content-length"] == str(len(response.content))


def test_the_asgi_frontend_counts_a_whole_oversized_body(invoker: Invoker) -> None:
    size = 6 * 1024 * 1024 + 10
    response = through_asgi_frontend(invoker, "POST", "/echo", b"x" * size)
    assert response.status_code == 413
    assert f"Request payload size ({size} bytes)" in response.text
