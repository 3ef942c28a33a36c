"""The two ways to an environ give the same one.

Each built-in source has one reader, which hands what it read to a builder:
``to_environ`` builds the WSGI environ straight from that text, ``to_scope``
the ASGI scope, from which ``build_environ`` builds the environ a custom
source or ``WSGIMiddleware`` gives.  Whatever the request, the two environs
must agree, key by key, and both builders must fail on the same events.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge import Bridge
from bridge.errors import MalformedEventError
from bridge.local.events import SOURCE_NAMES, build_event
from bridge.sources import EventSource, SourceConfig, SourceSelector
from bridge.sources.request import header_items, read_single_headers
from bridge.wsgi import build_environ, to_environ
from tests.strategies import header_names, header_values, requests

CONFIGS = {
    "plain": SourceConfig(),
    "base path": SourceConfig(base_path="/api"),
}


def comparable(environ: dict[str, Any]) -> dict[str, Any]:
    """The environ with ``wsgi.input`` read out (each is a new stream)."""
    result = dict(environ)
    result["wsgi.input"] = environ["wsgi.input"].read()
    return result


def both_environs(event: dict[str, Any], config: SourceConfig) -> tuple[Any, Any]:
    source = SourceSelector().select(event)
    assert isinstance(source, EventSource)
    assert source.read is not None
    try:
        direct: Any = comparable(source.read(event, None, config, to_environ))
    except MalformedEventError as exc:
        direct = ("rejected", str(exc))
    try:
        scope, body = source.to_request(event, None, config)
        via_scope: Any = comparable(build_environ(scope, body, multithread=False))
    except MalformedEventError as exc:
        via_scope = ("rejected", str(exc))
    return direct, via_scope


@given(data=st.data())
@pytest.mark.parametrize("config_name", sorted(CONFIGS))
@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_the_direct_environ_is_the_scope_environ(
    source: str, config_name: str, data: st.DataObject
) -> None:
    config = CONFIGS[config_name]
    request = data.draw(requests(base_path=config.base_path))
    direct, via_scope = both_environs(request.event(source), config)
    assert direct == via_scope


@pytest.mark.parametrize("source", SOURCE_NAMES)
@pytest.mark.parametrize(
    "headers",
    [
        [("Host", "Example.COM:8443"), ("X-Forwarded-Proto", "http")],  # mixed-case names
        [("x-a", "ü"), ("x-b", "€")],  # values beyond ASCII and beyond latin-1
        [("Cookie", "a=ü; b=名")],  # HTTP API 2.0 and function URLs: a cookies array
        [("x-a", "1"), ("X-A", "2")],  # the same name twice
        [("content-length", "99"), ("x_under", "dropped"), ("content-type", "text/plain")],
        [],
    ],
)
def test_unusual_headers_give_the_same_environ_both_ways(
    source: str, headers: list[tuple[str, str]]
) -> None:
    event = build_event(source, path="/caf%C3%A9", query="q=%C3%A9&x", headers=headers)
    direct, via_scope = both_environs(event, SourceConfig())
    assert direct == via_scope
    assert isinstance(direct, dict)


@pytest.mark.parametrize("source", ["http", "rest", "alb", "lattice"])
def test_bad_header_values_are_rejected_both_ways(source: str) -> None:
    event = build_event(source, headers=[("x-a", "1")])
    key = "multiValueHeaders" if "multiValueHeaders" in event else "headers"
    for value in (["\ud800"] if key == "multiValueHeaders" else "\ud800", 7):
        event[key] = {"x-a": value}
        direct, via_scope = both_environs(event, SourceConfig())
        assert direct == via_scope
        assert isinstance(direct, tuple)


#: The sources whose events keep header names as the client spelled them.
SPELLED = ("rest", "http-v1", "alb", "alb-multi")


def plain_event(source: str, **fields: Any) -> dict[str, Any]:
    """An event of ``source`` as a client's POST makes it (REST, HTTP API 1.0
    and ALB keep the client's spelling of header names; HTTP APIs 2.0
    lower-case them)."""
    spelled = source in SPELLED
    event = build_event(
        source,
        method="post",
        path="/items/42",
        query="a=1&b=%20two",
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
        stage=None if source in ("url", "alb", "alb-multi") else "prod",
    )
    event.update(fields)
    return event


def served(event: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The response of a WSGI app to ``event`` through ``Bridge``, and the environs it saw."""
    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(comparable(environ))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    return Bridge(app)(event, None), seen


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
@pytest.mark.parametrize("source", ["http", "url", "rest", "http-v1", "alb", "alb-multi"])
def test_a_plain_event_gives_the_app_what_the_client_sent(source: str, config_name: str) -> None:
    config = CONFIGS[config_name]
    direct, via_scope = both_environs(plain_event(source), config)
    assert direct == via_scope
    assert direct["HTTP_COOKIE"] == "a=1; b=2"
    assert direct["SERVER_PORT"] == "8443"
    assert direct["REQUEST_METHOD"] == "POST"
    assert direct["CONTENT_TYPE"] == "application/json"
    assert direct["QUERY_STRING"] in ("a=1&b=%20two", "a=1&b=+two")  # as sent, or re-encoded
    assert direct["wsgi.input"] == b'{"k": 1}'
    assert "HTTP_X_UNDER" not in direct
    root = "" if source in ("url", "alb", "alb-multi") else "/prod"
    assert (direct["SCRIPT_NAME"], direct["PATH_INFO"]) == (root, "/items/42")


#: Events the readers take the careful way, each answered as the reader says.
UNUSUAL: dict[str, tuple[str, Any]] = {
    "upper-case header name": ("http", lambda e: e["headers"].update({"X-Upper": "1"})),
    "non-ASCII header value": ("http", lambda e: e["headers"].update({"host": "exämple.com"})),
    "null header value": ("http", lambda e: e["headers"].update({"host": None})),
    "non-ASCII cookie": ("http", lambda e: e.update(cookies=["a=名"])),
    "cookies not a list": ("http", lambda e: e.update(cookies="a=1")),
    "cookie not a string": ("url", lambda e: e.update(cookies=["a=1", 2])),
    "headers not an object": ("url", lambda e: e.update(headers=[["host", "x"]])),
    "empty method": ("http", lambda e: e["requestContext"]["http"].update(method="")),
    "non-ASCII path": ("http", lambda e: e.update(rawPath="/café")),
    "encoded function URL path": ("url", lambda e: e.update(rawPath="/caf%C3%A9")),
    "path without slash": ("http", lambda e: e.update(rawPath="items")),
    "null query": ("http", lambda e: e.update(rawQueryString=None)),
    "bad base64 body": ("http", lambda e: e.update(body="not base64!", isBase64Encoded=True)),
    "no client address": ("http", lambda e: e["requestContext"]["http"].pop("sourceIp")),
    "domain name an object": ("rest", lambda e: e["requestContext"].update(domainName={"a": 1})),
    "repeated header": ("rest", lambda e: e["multiValueHeaders"].update(Accept=["a/b", "c/d"])),
    "one name in two spellings": (
        "rest",
        lambda e: e["multiValueHeaders"].update(Accept=["a/b"], ACCEPT=["c/d"]),
    ),
    "header values not a list": ("alb-multi", lambda e: e["multiValueHeaders"].update(A="a/b")),
    "null header in a list": ("http-v1", lambda e: e["multiValueHeaders"].update(A=[None])),
    "encoded REST path": ("rest", lambda e: e.update(path="/caf%C3%A9")),
    "query not an object": ("alb", lambda e: e.update(queryStringParameters="a=1")),
    "method not a string": ("rest", lambda e: e.update(httpMethod=["GET"])),
}


@pytest.mark.parametrize("case", sorted(UNUSUAL))
def test_bridge_gives_the_app_what_the_reader_reads_or_answers_400(case: str) -> None:
    source, change = UNUSUAL[case]
    event = plain_event(source)
    change(event)
    direct, via_scope = both_environs(event, SourceConfig())
    assert direct == via_scope
    response, seen = served(event)
    if isinstance(direct, tuple):  # refused: the app is not called
        assert response["statusCode"] == 400
        assert direct[1] in response["body"]
        assert seen == []
    else:
        assert response["statusCode"] == 200
        assert seen == [direct]


@st.composite
def header_mappings(draw: st.DrawFn) -> dict[Any, Any]:
    """``headers`` as an event may carry them: names in any casing (one
    spelling each), values str (ASCII or not), null, or now and then not a str."""
    known = st.sampled_from(["Host", "X-Forwarded-Proto", "X-Forwarded-Port", "Content-Type"])
    names = draw(st.lists(known | header_names(), max_size=6, unique_by=str.lower))
    values = st.one_of(
        header_values(), st.sampled_from(["a,b", "http", "b.example:81", "8443"]), st.none(),
        st.integers(0, 9),
    )  # fmt: skip
    mapping: dict[Any, Any] = {}
    for name in names:
        spelled = draw(st.sampled_from([name, name.lower(), name.upper()]))
        mapping[spelled] = draw(values)
    return mapping


def _environ_or_error(headers: Any, domain: str, cookie: str | None) -> Any:
    try:
        environ = to_environ(
            "http", {}, None, "GET", "https", "/", None, "", "", headers, cookie, None,
            domain, b"", "1.1", None,
        )  # fmt: skip
    except MalformedEventError as exc:
        return ("rejected", str(exc))
    return comparable(environ)


@given(headers=header_mappings(), domain=st.sampled_from(["", "id.example.com"]))
def test_headers_stored_in_one_pass_equal_the_careful_path(
    headers: dict[Any, Any], domain: str
) -> None:
    """The environ builder's one pass over the event's own header mapping
    gives what the checked header pairs give, errors included."""
    try:
        careful: Any = read_single_headers(headers, "http")
    except MalformedEventError as exc:
        careful = None
        expected: Any = ("rejected", str(exc))
    if careful is not None:
        expected = _environ_or_error(list(header_items(careful)), domain, None)
    assert _environ_or_error(headers, domain, None) == expected
