"""The direct environ reader (``bridge.wsgi.direct``) and the general path agree.

For HTTP API 2.0 and function URL events the WSGI environ is built straight
from the event when the event is plain.  Wherever the direct reader answers,
its environ must be the one the general path builds; where it declines
(``None``), the general path runs, so a malformed event is still refused with
the general path's explanation.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from bridge import Bridge
from bridge.errors import MalformedEventError
from bridge.local.events import build_event
from bridge.sources import SourceConfig, function_url, http_api_v2
from bridge.wsgi import direct, request_environ
from tests.strategies import requests

SOURCES = {
    "http": (http_api_v2.read, direct.http_api_environ),
    "url": (function_url.read, direct.function_url_environ),
}
CONFIGS = {"plain": SourceConfig(), "base path": SourceConfig(base_path="/api")}


def comparable(environ: dict[str, Any]) -> dict[str, Any]:
    result = dict(environ)
    result["wsgi.input"] = environ["wsgi.input"].read()
    return result


def general(source: str, event: dict[str, Any], config: SourceConfig) -> Any:
    read = SOURCES[source][0]
    try:
        return comparable(request_environ(read(event, None, config)))
    except MalformedEventError as exc:
        return ("rejected", str(exc))


def fast(source: str, event: dict[str, Any], config: SourceConfig) -> Any:
    reader = SOURCES[source][1]
    try:
        environ = reader(event, None, config)
    except MalformedEventError as exc:
        return ("rejected", str(exc))
    return None if environ is None else comparable(environ)


@given(data=st.data())
@pytest.mark.parametrize("config_name", sorted(CONFIGS))
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_where_the_direct_reader_answers_it_gives_the_general_environ(
    source: str, config_name: str, data: st.DataObject
) -> None:
    config = CONFIGS[config_name]
    event = data.draw(requests(base_path=config.base_path)).event(source)
    http = event["requestContext"]["http"]
    http["method"] = data.draw(st.sampled_from([str.upper, str.lower, str.title]))(http["method"])
    expected = general(source, event, config)  # also teaches the header names
    got = fast(source, event, config)
    note(f"direct: {got!r}")
    assert got is None or got == expected


def plain_event(source: str, **fields: Any) -> dict[str, Any]:
    event = build_event(
        source,
        method="post",
        path="/items/42",
        query="a=1&b=%20two",
        headers=[
            ("Host", "api.example.com"),
            ("Content-Type", "application/json"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Port", "8443"),
            ("Cookie", "a=1; b=2"),
            ("x_under", "dropped"),
        ],
        body=b'{"k": 1}',
        base64_body=False,
        stage="prod" if source == "http" else None,
    )
    event["requestContext"]["http"]["method"] = "post"  # as the client sent it
    event.update(fields)
    return event


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_a_plain_event_is_read_directly(source: str, config_name: str) -> None:
    config = CONFIGS[config_name]
    event = plain_event(source)
    expected = general(source, event, config)
    got = fast(source, event, config)
    assert got == expected
    assert got["HTTP_COOKIE"] == "a=1; b=2"
    assert got["SERVER_PORT"] == "8443"
    assert got["REQUEST_METHOD"] == "POST"
    assert got["wsgi.input"] == b'{"k": 1}'
    assert "HTTP_X_UNDER" not in got
    root = "/prod" if source == "http" else ""
    assert (got["SCRIPT_NAME"], got["PATH_INFO"]) == (root, "/items/42")


def test_a_base64_body_is_decoded_directly() -> None:
    body = bytes(range(256))
    event = plain_event("http", body=base64.b64encode(body).decode(), isBase64Encoded=True)
    general("http", event, SourceConfig())
    got = fast("http", event, SourceConfig())
    assert got["wsgi.input"] == body
    assert got["CONTENT_LENGTH"] == "256"


@pytest.mark.parametrize(
    "name", ["x-first-seen-here", "x_first_seen_here", "123", "x!#$%&'*+.^`|~"]
)
def test_a_lower_case_header_name_not_seen_before_is_read_directly(name: str) -> None:
    event = plain_event("http")
    event["headers"][name] = "1"
    got = fast("http", event, SourceConfig())
    assert got is not None
    assert got == general("http", event, SourceConfig())


def test_the_direct_reader_still_answers_when_the_name_table_is_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bridge.wsgi import environ

    full = dict(environ._TEXT_KEYS)
    for i in range(environ._KEYS_LIMIT):
        full.setdefault(f"x-filler-{i}", f"HTTP_X_FILLER_{i}")
    monkeypatch.setattr(environ, "_TEXT_KEYS", full)
    monkeypatch.setattr(direct, "_TEXT_KEYS", full)
    event = plain_event("http")
    event["headers"]["x-never-seen-before-the-table-filled"] = "1"
    got = fast("http", event, SourceConfig())
    assert got is not None
    assert got["HTTP_X_NEVER_SEEN_BEFORE_THE_TABLE_FILLED"] == "1"
    assert got == general("http", event, SourceConfig())
    assert "x-never-seen-before-the-table-filled" not in full  # the bound holds


def test_the_server_table_keeps_its_bound_and_answers_each_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    full = {(None, f"filler-{i}", None, None): ("https", f"filler-{i}", "443") for i in range(256)}
    monkeypatch.setattr(direct, "_SERVERS", full)
    for host, port in (("one.example", "8443"), ("two.example", "8443"), ("one.example", "9000")):
        event = plain_event("http")
        event["headers"].update({"host": host, "x-forwarded-port": port})
        got = fast("http", event, SourceConfig())
        assert (got["SERVER_NAME"], got["SERVER_PORT"]) == (host, port)
        assert got == general("http", event, SourceConfig())
    assert len(full) == 256


# Each change makes the event one the direct reader leaves to the general path.
UNUSUAL: dict[str, Callable[[dict[str, Any]], object]] = {
    "upper-case header name": lambda e: e["headers"].update({"X-Upper": "1"}),
    "non-ASCII header name": lambda e: e["headers"].update({"x-naïve": "1"}),
    "header name not a string": lambda e: e["headers"].update({1: "1"}),
    "non-ASCII header value": lambda e: e["headers"].update({"host": "exämple.com"}),
    "null header value": lambda e: e["headers"].update({"host": None}),
    "non-ASCII cookie": lambda e: e.update(cookies=["a=名"]),
    "cookies not a list": lambda e: e.update(cookies="a=1"),
    "cookie not a string": lambda e: e.update(cookies=["a=1", 2]),
    "headers not an object": lambda e: e.update(headers=[["host", "x"]]),
    "no requestContext": lambda e: e.pop("requestContext"),
    "http not an object": lambda e: e["requestContext"].update(http=None),
    "empty method": lambda e: e["requestContext"]["http"].update(method=""),
    "non-ASCII path": lambda e: e.update(rawPath="/café"),
    "path without slash": lambda e: e.update(rawPath="items"),
    "null query": lambda e: e.update(rawQueryString=None),
    "method not a string": lambda e: e["requestContext"]["http"].update(method=["GET"]),
    "path not a string": lambda e: e.update(rawPath={"/": 1}),
    "no client address": lambda e: e["requestContext"]["http"].pop("sourceIp"),
    "domain name an object": lambda e: e["requestContext"].update(domainName={"a": 1}),
    "no host at all": lambda e: (
        e["headers"].pop("host"),
        e["requestContext"].pop("domainName"),
    ),
    "non-ASCII domain, no host": lambda e: (
        e["headers"].pop("host"),
        e["requestContext"].update(domainName="exämple.com"),
    ),
}


@pytest.mark.parametrize("change", sorted(UNUSUAL))
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_unusual_events_are_left_to_the_general_path(source: str, change: str) -> None:
    event = plain_event(source)
    general(source, event, SourceConfig())  # the usual names are known
    UNUSUAL[change](event)
    assert fast(source, event, SourceConfig()) is None


def test_an_encoded_function_url_path_is_left_to_the_general_path() -> None:
    event = plain_event("url", rawPath="/caf%C3%A9")
    general("url", event, SourceConfig())
    assert fast("url", event, SourceConfig()) is None
    assert general("url", event, SourceConfig())["PATH_INFO"] == "/café".encode().decode("latin-1")


def test_a_bad_base64_body_gets_the_general_paths_error() -> None:
    event = plain_event("http", body="not base64!", isBase64Encoded=True)
    expected = general("http", event, SourceConfig())
    assert expected[0] == "rejected"
    assert fast("http", event, SourceConfig()) == expected


#: The changes after which the event is still recognised as HTTP API 2.0.
STILL_HTTP_API = sorted(set(UNUSUAL) - {"no requestContext", "http not an object"})


@pytest.mark.parametrize("change", STILL_HTTP_API)
def test_bridge_answers_unusual_events_as_the_general_path_does(change: str) -> None:
    """Through ``Bridge``: the same answer, whether or not the direct reader took the event."""

    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["PATH_INFO"].encode("latin-1")]

    event = plain_event("http")
    UNUSUAL[change](event)
    response = Bridge(app)(event, None)
    try:
        expected = request_environ(http_api_v2.read(event, None, SourceConfig()))
    except MalformedEventError:
        assert response["statusCode"] == 400
        assert seen == []
        return
    assert response["statusCode"] == 200
    assert comparable(seen[0]) == comparable(expected)


def test_a_stage_name_ending_in_a_slash_splits_the_path_as_the_general_path_does() -> None:
    event = plain_event("http", rawPath="/odd//items")
    event["requestContext"]["stage"] = "odd/"
    expected = general("http", event, SourceConfig())
    assert (expected["SCRIPT_NAME"], expected["PATH_INFO"]) == ("/odd", "//items")
    assert fast("http", event, SourceConfig()) == expected
