"""The direct environ readers (``bridge.wsgi.direct``) and the general path agree.

For HTTP API 2.0, function URL, REST and HTTP API 1.0 events the WSGI environ
is built straight from the event when the event is plain.  Wherever the direct reader answers,
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
from bridge.errors import MalformedEventError, UnknownEventError
from bridge.local.events import build_event
from bridge.sources import (
    SourceConfig,
    alb,
    builtin_source,
    function_url,
    http_api_v1,
    http_api_v2,
    rest,
)
from bridge.wsgi import direct, request_environ
from tests.strategies import authorizers, queries, requests

SOURCES = {
    "http": (http_api_v2.read, direct.http_api_environ),
    "url": (function_url.read, direct.function_url_environ),
    "rest": (rest.read, direct.rest_environ),
    "http-v1": (http_api_v1.read, direct.http_api_v1_environ),
    "alb": (alb.read, direct.alb_environ),
    "alb-multi": (alb.read, direct.alb_environ),
}
#: The sources whose events carry headers as the client spelled them.
PAYLOAD_1 = ("rest", "http-v1")
ALB = ("alb", "alb-multi")
CONFIGS = {"plain": SourceConfig(), "base path": SourceConfig(base_path="/api")}


def comparable(environ: dict[str, Any]) -> dict[str, Any]:
    """The environ with ``wsgi.input`` read out, once checked that every CGI
    value is a PEP 3333 "bytes as str" (latin-1) string."""
    for key, value in environ.items():
        if key.isupper():
            assert isinstance(value, str), key
            value.encode("latin-1")
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
    spell = data.draw(st.sampled_from([str.upper, str.lower, str.title]))
    if source in PAYLOAD_1 + ALB:
        event["httpMethod"] = spell(event["httpMethod"])
    else:
        http = event["requestContext"]["http"]
        http["method"] = spell(http["method"])
    expected = general(source, event, config)  # also teaches the header names
    got = fast(source, event, config)
    note(f"direct: {got!r}")
    assert got is None or got == expected


def assert_bridge_answers_as_the_general_path(source: str, event: dict[str, Any]) -> None:
    """``Bridge`` gives the app the general path's environ, or answers 400
    without calling it where the general path refuses the event."""
    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["PATH_INFO"].encode("latin-1")]

    response = Bridge(app)(event, None)
    try:
        expected = request_environ(SOURCES[source][0](event, None, SourceConfig()))
    except MalformedEventError:
        assert response["statusCode"] == 400
        assert seen == []
        return
    assert response["statusCode"] == 200
    assert comparable(seen[0]) == comparable(expected)


def plain_event(source: str, query: str = "a=1&b=%20two", **fields: Any) -> dict[str, Any]:
    """A plain event of ``source``.  REST, HTTP API 1.0 and ALB events keep
    header names as the client spelled them (REST and HTTP API 1.0 in both
    ``headers`` and ``multiValueHeaders``); HTTP APIs 2.0 lower-case them."""
    spelled = source in PAYLOAD_1 + ALB
    event = build_event(
        source,
        method="post",
        path="/items/42",
        query=query,
        headers=[
            ("Host", "api.example.com"),
            ("content-type" if spelled else "Content-Type", "application/json"),
            ("X-Forwarded-Proto", "https"),
            ("X-FORWARDED-PORT" if spelled else "X-Forwarded-Port", "8443"),
            ("Cookie", "a=1; b=2"),
            ("X_Under" if spelled else "x_under", "dropped"),
        ],
        body=b'{"k": 1}',
        base64_body=False,
        stage=None if source in ("url", *ALB) else "prod",
    )
    if spelled:
        event["httpMethod"] = "post"  # as the client sent it
    else:
        event["requestContext"]["http"]["method"] = "post"
    event.update(fields)
    return event


#: Where the authorizer sits in the events of each source that has one.
AUTHORIZED = ("http", "url", "rest", "http-v1")


@given(query=queries(), authorizer=authorizers())
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_any_query_and_authorizer_of_a_plain_event_are_read_as_the_general_path_reads_them(
    source: str, query: str, authorizer: tuple[object, str | None]
) -> None:
    event = plain_event(source, query=query)
    if source in AUTHORIZED:
        event["requestContext"]["authorizer"] = authorizer[0]
    expected = general(source, event, SourceConfig())
    got = fast(source, event, SourceConfig())
    if source in ("http", "url") and not query.isascii():
        assert got is None  # left to the general path
    else:
        assert got == expected
    assert expected.get("REMOTE_USER") == (
        None
        if source not in AUTHORIZED or authorizer[1] is None
        else authorizer[1].encode().decode("latin-1")
    )


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
    assert got["CONTENT_TYPE"] == "application/json"
    assert got["wsgi.input"] == b'{"k": 1}'
    assert "HTTP_X_UNDER" not in got
    root = "" if source == "url" or source in ALB else "/prod"
    if config.base_path and source in ALB:
        assert got["SCRIPT_NAME"] == ""  # this path is not under /api
    assert (got["SCRIPT_NAME"], got["PATH_INFO"]) == (root, "/items/42")


@pytest.mark.parametrize("source", PAYLOAD_1)
def test_an_event_with_single_value_headers_only_is_read_directly(source: str) -> None:
    event = plain_event(source)
    del event["multiValueHeaders"]
    expected = general(source, event, SourceConfig())
    got = fast(source, event, SourceConfig())
    assert got is not None
    assert got == expected
    assert got["HTTP_HOST"] == "api.example.com"


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
}

#: Changes after which the direct reader still answers, as the general path does.
SERVERS: dict[str, Callable[[dict[str, Any]], object]] = {
    "no host at all": lambda e: (
        e["headers"].pop("host"),
        e["requestContext"].pop("domainName"),
    ),
    "non-ASCII domain, no host": lambda e: (
        e["headers"].pop("host"),
        e["requestContext"].update(domainName="exämple.com"),
    ),
    "host with a port": lambda e: e["headers"].update(host="api.example.com:9000"),
    "IPv6 host": lambda e: e["headers"].update(host="[2001:db8::1]:8080"),
    "no forwarded proto or port": lambda e: (
        e["headers"].pop("x-forwarded-proto"),
        e["headers"].pop("x-forwarded-port"),
    ),
}


@pytest.mark.parametrize("change", sorted(SERVERS))
@pytest.mark.parametrize("source", ["http", "url"])
def test_the_server_is_named_as_the_general_path_names_it(source: str, change: str) -> None:
    event = plain_event(source)
    SERVERS[change](event)
    got = fast(source, event, SourceConfig())
    assert got is not None
    assert got == general(source, event, SourceConfig())


@pytest.mark.parametrize("change", sorted(UNUSUAL))
@pytest.mark.parametrize("source", ["http", "url"])
def test_unusual_events_are_left_to_the_general_path(source: str, change: str) -> None:
    event = plain_event(source)
    general(source, event, SourceConfig())  # the usual names are known
    UNUSUAL[change](event)
    assert fast(source, event, SourceConfig()) is None


def _set_header(event: dict[str, Any], name: object, values: object) -> dict[str, Any]:
    event["multiValueHeaders"][name] = values
    return event


# The same for REST and HTTP API 1.0 events.
UNUSUAL_PAYLOAD_1: dict[str, Callable[[dict[str, Any]], object]] = {
    "repeated header": lambda e: _set_header(e, "Accept", ["a/b", "c/d"]),
    "one name in two spellings": lambda e: (
        _set_header(e, "Accept", ["a/b"]),
        _set_header(e, "ACCEPT", ["c/d"]),
    ),
    "no values": lambda e: _set_header(e, "Accept", []),
    "values not a list": lambda e: _set_header(e, "Accept", "a/b"),
    "null value": lambda e: _set_header(e, "Accept", [None]),
    "non-ASCII value": lambda e: _set_header(e, "Host", ["exämple.com"]),
    "non-ASCII name": lambda e: _set_header(e, "X-Naïve", ["1"]),
    "name not a string": lambda e: _set_header(e, 1, ["1"]),
    "multi-value headers not an object": lambda e: e.update(multiValueHeaders=[["a", ["b"]]]),
    "single-value headers only, non-ASCII value": lambda e: (
        e.pop("multiValueHeaders"),
        e["headers"].update(Host="exämple.com"),
    ),
    "single-value headers only, two spellings": lambda e: (
        e.pop("multiValueHeaders"),
        e["headers"].update(host="other.example"),
    ),
    "single-value headers only, null value": lambda e: (
        e.pop("multiValueHeaders"),
        e["headers"].update(Accept=None),
    ),
    "single-value headers not an object": lambda e: (
        e.pop("multiValueHeaders"),
        e.update(headers=["a"]),
    ),
    "encoded path": lambda e: e.update(path="/caf%C3%A9"),
    "non-ASCII path": lambda e: e.update(path="/café"),
    "path without slash": lambda e: e.update(path="items"),
    "null path": lambda e: e.update(path=None),
    "empty method": lambda e: e.update(httpMethod=""),
    "method not a string": lambda e: e.update(httpMethod=["GET"]),
    "no requestContext": lambda e: e.pop("requestContext"),
    "query not an object": lambda e: e.update(multiValueQueryStringParameters=["a"]),
    "single-value query not an object": lambda e: e.update(queryStringParameters="a=1"),
    "domain name an object": lambda e: e["requestContext"].update(domainName={"a": 1}),
}


@pytest.mark.parametrize("change", sorted(UNUSUAL_PAYLOAD_1))
@pytest.mark.parametrize("source", PAYLOAD_1)
def test_unusual_payload_1_events_are_left_to_the_general_path(source: str, change: str) -> None:
    event = plain_event(source)
    general(source, event, SourceConfig())  # the usual names are known
    UNUSUAL_PAYLOAD_1[change](event)
    assert fast(source, event, SourceConfig()) is None


@pytest.mark.parametrize("change", sorted(UNUSUAL_PAYLOAD_1))
def test_bridge_answers_unusual_rest_events_as_the_general_path_does(change: str) -> None:
    """Through ``Bridge``: the same answer, whether or not the direct reader took the event."""
    event = plain_event("rest")
    UNUSUAL_PAYLOAD_1[change](event)
    assert_bridge_answers_as_the_general_path("rest", event)


@pytest.mark.parametrize(
    "change",
    [
        "stage in front of the path",
        "no stage in the path (custom domain)",
        "no identity",
        "no query",
        "base64 body",
    ],
)
@pytest.mark.parametrize("source", PAYLOAD_1)
def test_plain_payload_1_variants_are_read_directly(source: str, change: str) -> None:
    event = plain_event(source)
    context = event["requestContext"]
    if change == "stage in front of the path":
        context["path"] = "/prod" + event["path"]
    elif change == "no stage in the path (custom domain)":
        context["path"] = event["path"] = "/items/42"
    elif change == "no identity":
        del context["identity"]
    elif change == "no query":
        event["multiValueQueryStringParameters"] = event["queryStringParameters"] = None
    else:
        event["body"] = base64.b64encode(b"\x00\xff").decode()
        event["isBase64Encoded"] = True
    expected = general(source, event, SourceConfig())
    got = fast(source, event, SourceConfig())
    assert got is not None
    assert got == expected


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


@pytest.mark.parametrize("source", ["http", "url"])
def test_bridge_answers_a_bad_base64_body_with_400_and_the_general_paths_reason(
    source: str, caplog: pytest.LogCaptureFixture
) -> None:
    event = plain_event(source, body="not base64!", isBase64Encoded=True)
    assert_bridge_answers_as_the_general_path(source, event)
    assert "not valid base64" in caplog.text


#: The changes after which the event is still recognised as HTTP API 2.0.
STILL_HTTP_API = sorted(set(UNUSUAL) - {"no requestContext", "http not an object"})


@pytest.mark.parametrize("change", STILL_HTTP_API)
def test_bridge_answers_unusual_events_as_the_general_path_does(change: str) -> None:
    """Through ``Bridge``: the same answer, whether or not the direct reader took the event."""
    event = plain_event("http")
    UNUSUAL[change](event)
    assert_bridge_answers_as_the_general_path("http", event)


def test_a_stage_name_ending_in_a_slash_splits_the_path_as_the_general_path_does() -> None:
    event = plain_event("http", rawPath="/odd//items")
    event["requestContext"]["stage"] = "odd/"
    expected = general("http", event, SourceConfig())
    assert (expected["SCRIPT_NAME"], expected["PATH_INFO"]) == ("/odd", "//items")
    assert fast("http", event, SourceConfig()) == expected


@pytest.mark.parametrize("source", PAYLOAD_1)
def test_a_payload_1_stage_ending_in_a_slash_splits_the_path_as_the_general_path_does(
    source: str,
) -> None:
    event = plain_event(source, path="/odd//items" if source == "http-v1" else "/items")
    event["requestContext"].update(stage="odd/", path="/odd//items")
    expected = general(source, event, SourceConfig())
    assert (expected["SCRIPT_NAME"], expected["PATH_INFO"]) == ("/odd", "//items")
    assert fast(source, event, SourceConfig()) == expected


#: Changes to an ALB event with multi-value headers that the direct reader
#: leaves to the general path.
UNUSUAL_ALB = {
    change: UNUSUAL_PAYLOAD_1[change]
    for change in (
        "repeated header",
        "one name in two spellings",
        "no values",
        "values not a list",
        "null value",
        "non-ASCII value",
        "non-ASCII name",
        "name not a string",
        "multi-value headers not an object",
        "encoded path",
        "non-ASCII path",
        "path without slash",
        "null path",
        "empty method",
        "method not a string",
        "query not an object",
    )
}


@pytest.mark.parametrize("change", sorted(UNUSUAL_ALB))
def test_unusual_alb_events_are_left_to_the_general_path(change: str) -> None:
    event = plain_event("alb-multi")
    general("alb-multi", event, SourceConfig())
    UNUSUAL_ALB[change](event)
    assert fast("alb-multi", event, SourceConfig()) is None


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e["headers"].update(Host="other.example"),  # two spellings
        lambda e: e["headers"].update(host="exämple.com"),
        lambda e: e["headers"].update(accept=None),
        lambda e: e.update(headers=""),
        lambda e: e.update(queryStringParameters=""),
    ],
)
def test_unusual_single_value_alb_events_are_left_to_the_general_path(
    change: Callable[[dict[str, Any]], object],
) -> None:
    event = plain_event("alb")
    change(event)
    assert fast("alb", event, SourceConfig()) is None


@pytest.mark.parametrize("source", ALB)
def test_an_alb_path_under_the_base_path_is_split_there(source: str) -> None:
    config = CONFIGS["base path"]
    event = plain_event(source, path="/api/items/42")
    expected = general(source, event, config)
    got = fast(source, event, config)
    assert got == expected
    assert (got["SCRIPT_NAME"], got["PATH_INFO"]) == ("/api", "/items/42")
    assert got["wsgi.url_scheme"] == "https"


def test_an_alb_event_without_forwarded_headers_is_http_on_its_host() -> None:
    event = plain_event("alb-multi")
    for name in ("X-Forwarded-Proto", "X-FORWARDED-PORT", "X-Forwarded-For"):
        event["multiValueHeaders"].pop(name, None)
        event["multiValueHeaders"].pop(name.lower(), None)
    expected = general("alb-multi", event, SourceConfig())
    got = fast("alb-multi", event, SourceConfig())
    assert got == expected
    assert (got["wsgi.url_scheme"], got["SERVER_PORT"]) == ("http", "80")
    assert "REMOTE_ADDR" not in got


def test_bridge_serves_a_multi_value_alb_event_read_directly() -> None:
    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ)
        start_response("200 OK", [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
        return [b"ok"]

    event = plain_event("alb-multi")
    response = Bridge(app)(event, None)
    assert comparable(seen[0]) == general("alb-multi", event, SourceConfig())
    assert response["multiValueHeaders"]["set-cookie"] == ["a=1", "b=2"]


class _Domain(str):
    """A domain name that is a str subclass."""


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change that sets one field (``a.b`` for a nested one) of an event."""

    def change(event: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = event
        for parent in parents:
            target = target[parent]
        target[last] = value

    return change


#: HTTP API 2.0 and function URL events, and events that only look like them:
#: (the event it starts from, the source builtin_source() picks, the change).
#: ``Bridge`` reads the first kind without ``builtin_source()``, so the test
#: checks it reaches the same source for each one.
LOOKALIKES: dict[str, tuple[str, str | None, Callable[[dict[str, Any]], None]]] = {
    "plain HTTP API": ("http", "http", lambda event: None),
    "plain function URL": ("url", "url", lambda event: None),
    "function URL domain as a str subclass": (
        "http",
        "url",
        _set("requestContext.domainName", _Domain("abc.lambda-url.us-east-1.on.aws")),
    ),
    "no domain name": ("http", "http", _set("requestContext.domainName", None)),
    "a domain name that is a number": ("http", "http", _set("requestContext.domainName", 5)),
    "a load balancer's requestContext": (
        "http",
        "alb",
        _set("requestContext.elb", {"targetGroupArn": "arn:aws:elasticloadbalancing:tg"}),
    ),
    "a Records list": ("http", "http", _set("Records", [])),
    "a CloudFront record": (
        "http",
        "edge",
        _set("Records", [{"cf": {"request": {}, "config": {}}}]),
    ),
    "a WebSocket eventType": ("http", "http", _set("requestContext.eventType", "MESSAGE")),
    "version 1.0": ("http", None, _set("version", "1.0")),
    "no rawPath": ("http", None, lambda event: event.pop("rawPath")),
    "no requestContext.http": ("url", None, lambda event: event["requestContext"].pop("http")),
    "an encoded function URL path": ("url", "url", _set("rawPath", "/a%2Fb")),
    "an upper-case header name": ("http", "http", _set("headers.X-Upper", "1")),
}


@pytest.mark.parametrize("case", sorted(LOOKALIKES))
def test_bridge_sends_each_http_api_lookalike_to_the_source_builtin_source_picks(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    start, expected, change = LOOKALIKES[case]
    event = plain_event(start)
    change(event)
    picked = builtin_source(event)
    assert (picked and picked.name) == expected
    used: list[str] = []

    def record(method: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(self: Bridge, source: Any, *args: Any) -> Any:
            used.append(source.name)
            return method(self, source, *args)

        return recorded

    # Every event a source takes ends in one of these two.
    monkeypatch.setattr(Bridge, "_wsgi_response", record(Bridge._wsgi_response))
    monkeypatch.setattr(Bridge, "_unreadable", record(Bridge._unreadable))

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    handler = Bridge(app)
    if expected is None:
        with pytest.raises(UnknownEventError):
            handler(event, None)
    else:
        handler(event, None)
    assert used == ([expected] if expected else [])
