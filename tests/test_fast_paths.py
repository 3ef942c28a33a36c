"""The hot path's shortcuts give exactly what the careful code gives.

Header conversion, host parsing, query encoding and the text/binary decision
each have a fast path for the common case; these tests feed them the cases
the fast path hands back to the careful one, and values that would break a
cache key.
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any
from urllib.parse import quote_plus

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bridge import checks
from bridge._cache import LIMIT
from bridge.body import BodySerializer
from bridge.errors import MalformedEventError
from bridge.response import multi_value_headers, status_phrase, text_headers
from bridge.sources import request as r
from bridge.sources.scope import asgi_headers
from bridge.types import Headers


def _single(values: dict[str, Any], source: str) -> Headers:
    return asgi_headers(r.read_single_headers(values, source), source)


def _multi(values: dict[str, Any], source: str) -> Headers:
    return asgi_headers(r.read_multi_headers(values, source), source)


def test_single_value_headers_lower_case_names_and_keep_order() -> None:
    headers = _single({"Host": "a.example", "X-Trace": "1", "host": "b"}, "t")
    assert headers == [(b"host", b"a.example"), (b"x-trace", b"1"), (b"host", b"b")]


def test_single_value_headers_skip_nulls_and_encode_non_latin1_as_utf8() -> None:
    headers = _single({"A": None, "B": "ü", "C": "€"}, "t")
    assert headers == [(b"b", "ü".encode("latin-1")), (b"c", "€".encode())]


def test_single_value_headers_reject_non_strings_as_before() -> None:
    with pytest.raises(MalformedEventError, match="header 'A' should have a string value"):
        _single({"A": 1}, "t")


def test_multi_value_headers_fall_back_for_strings_nulls_and_non_latin1() -> None:
    values = {"A": ["1", "2"], "B": "solo", "C": None, "D": ["€"]}
    assert _multi(values, "t") == [
        (b"a", b"1"),
        (b"a", b"2"),
        (b"b", b"solo"),
        (b"d", "€".encode()),
    ]


def test_multi_value_headers_reject_non_string_values() -> None:
    with pytest.raises(MalformedEventError, match="header 'A' should have a string value"):
        _multi({"A": ["1", None]}, "t")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("example.com", ("example.com", None)),
        ("example.com:8080", ("example.com", 8080)),
        ("[::1]:8443", ("::1", 8443)),
        ("[abc]", ("abc", None)),
        ("::1", ("::1", None)),
    ],
)
def test_split_host(host: str, expected: tuple[str, int | None]) -> None:
    assert r.split_host(host) == expected


@pytest.mark.parametrize(
    ("proto", "port", "expected"),
    [
        ("https", "443", ("https", ("h", 443))),
        ("http", "80", ("http", ("h", 80))),
        ("HTTPS", "8443", ("https", ("h", 8443))),
        ("http, https", "80, 443", ("https", ("h", 443))),
        ("gopher", "x", ("https", ("h", 443))),
    ],
)
def test_scheme_and_server_with_and_without_the_shortcuts(
    proto: str, port: str, expected: tuple[str, tuple[str, int]]
) -> None:
    headers = {"host": "h", "x-forwarded-proto": proto, "x-forwarded-port": port}
    assert r.scheme_and_server(headers) == expected


@pytest.mark.parametrize("text", ["abc123", "a b", "é", "a&b=c", "", "_-.~"])
def test_query_quoting_matches_quote_plus(text: str) -> None:
    assert r.encode_query({text: text}, "rest") == f"{quote_plus(text)}={quote_plus(text)}"


_QUERY_TEXT = st.text(max_size=6) | st.sampled_from(["a", "1", "\ud800", "x y", ""])
_QUERY_VALUES = (
    _QUERY_TEXT
    | st.none()
    | st.integers()
    | st.lists(_QUERY_TEXT | st.none() | st.integers(), max_size=3)
    | st.dictionaries(st.text(max_size=2), st.text(max_size=2), max_size=1)
)


def _outcome(function: Any, params: dict[Any, Any]) -> object:
    try:
        return function(params, "rest")
    except Exception as exc:  # the same failure either way: type and message
        return type(exc), str(exc)


def _valid(text: object) -> bool:
    """A str that UTF-8 can carry: no lone surrogate."""
    return isinstance(text, str) and not any(0xD800 <= ord(char) <= 0xDFFF for char in text)


@given(st.dictionaries(_QUERY_TEXT | st.integers(), _QUERY_VALUES, max_size=4))
def test_encoded_query_parameters_decode_to_themselves_or_are_refused(
    params: dict[Any, Any],
) -> None:
    from urllib.parse import parse_qsl

    expected: list[tuple[str, str]] = []
    acceptable = True
    for key, values in params.items():
        items = [values] if values is None or isinstance(values, str) else values
        if not isinstance(items, list) or not _valid(key):
            acceptable = False
            break
        for value in items:
            if value is not None and not _valid(value):
                acceptable = False
            expected.append((key, value or ""))
    outcome = _outcome(r.encode_query, params)
    if acceptable:
        assert isinstance(outcome, str)
        assert outcome.isascii()
        assert parse_qsl(outcome, keep_blank_values=True) == expected
    else:
        assert not isinstance(outcome, str)


def test_response_headers_accept_bytearray_names() -> None:
    headers = [(bytearray(b"X-One"), b"1"), (b"x-one", b"2")]
    assert multi_value_headers(text_headers(headers)) == {"x-one": ["1", "2"]}  # type: ignore[arg-type]


def test_status_phrases_are_remembered_but_unchanged() -> None:
    assert status_phrase(404) == "404 Not Found"
    assert status_phrase(404) == "404 Not Found"
    assert status_phrase(418) == "418 I'm a Teapot"  # not known from the start
    assert status_phrase(599) == "599"


@pytest.mark.parametrize("status", [100, 200, 201, 206, 301, 404, 413, 422, 451, 500, 504])
def test_status_phrases_are_those_of_http_status(status: int) -> None:
    """The phrases known from the start and the ones looked up agree with
    this interpreter's ``http.HTTPStatus``."""
    from http import HTTPStatus

    from bridge import response

    standard = {s.value for s in HTTPStatus}
    for code in [*(code for code in response._PHRASES if code in standard), status]:
        assert status_phrase(code) == f"{code} {HTTPStatus(code).phrase}"


def _cycle_body(*messages: dict[str, object]) -> bytes:
    import asyncio

    from bridge.asgi.http import HTTPCycle
    from bridge.types import HTTPScope

    scope: HTTPScope = {  # type: ignore[typeddict-item]
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [],
    }
    cycle = HTTPCycle(scope, b"")

    async def app(scope: object, receive: object, send: object) -> None:
        await cycle.send({"type": "http.response.start", "status": 200, "headers": []})
        for message in messages:
            await cycle.send({"type": "http.response.body", **message})
            body = message.get("body")
            if isinstance(body, bytearray):
                body[:] = b"X" * len(body)  # the app reuses its buffer after sending

    asyncio.run(cycle.run(app))
    assert cycle.status == 200
    return cycle.body


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([{"body": b"one"}], b"one"),
        ([{"body": bytearray(b"buf")}], b"buf"),
        ([{"body": memoryview(b"view")}], b"view"),
        ([{"body": b"a", "more_body": True}, {"body": b""}], b"a"),
        ([{"body": bytearray(b"a"), "more_body": True}, {"body": b"b"}], b"ab"),
        ([{"body": b"", "more_body": True}, {"body": b""}], b""),
        ([{}], b""),
    ],
)
def test_response_body_is_a_copy_of_what_was_sent(
    messages: list[dict[str, object]], expected: bytes
) -> None:
    body = _cycle_body(*messages)
    assert body == expected
    assert type(body) is bytes


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # Names seen lower case before, then the cases that must still fall back.
        ({"x-known": "1", "host": "h"}, {"x-known": "1", "host": "h"}),
        ({"x-known": "1", "Host": "h"}, [("x-known", "1"), ("host", "h")]),
        ({"x-known": "ü", "host": "h"}, [("x-known", "ü"), ("host", "h")]),
        ({"x-known": None, "host": "h"}, [("host", "h")]),
        ({"x-known": "1", "123": "h"}, [("x-known", "1"), ("123", "h")]),
    ],
)
def test_remembered_lower_case_names_give_what_the_careful_loop_gives(
    values: dict[str, object], expected: object
) -> None:
    r.read_single_headers({"x-known": "0", "host": "h"}, "t")  # remembered
    for _ in range(2):  # before and after anything new is remembered
        result = r.read_single_headers(values, "t")
        assert result == expected
        assert type(result) is type(expected)
        if isinstance(result, dict):
            assert result is values


@pytest.mark.parametrize("value", [1, b"x", ["x"]])
def test_remembered_lower_case_names_still_have_their_values_checked(value: object) -> None:
    r.read_single_headers({"x-known": "0"}, "t")
    with pytest.raises(MalformedEventError, match="header 'x-known' should have a string value"):
        r.read_single_headers({"x-known": value}, "t")


def test_a_name_that_is_not_a_string_after_remembered_ones() -> None:
    r.read_single_headers({"x-known": "0"}, "t")
    with pytest.raises(MalformedEventError, match="header names should be strings"):
        r.read_single_headers({"x-known": "0", 1: "x"}, "t")  # type: ignore[dict-item]


def test_remembered_lower_case_names_are_bounded() -> None:
    for i in range(700):
        r.read_single_headers({f"x-h{i}": "1"}, "t")
    assert len(r._LOWER_CASE) <= LIMIT
    assert r.read_single_headers({"x-h699": "1"}, "t") == {"x-h699": "1"}


#: Raw response header lists that decide text or base64 in different ways.
RESPONSE_HEADER_CASES = [
    [],
    [(b"content-type", b"text/plain")],
    [(b"Content-Type", b"image/png"), (b"content-type", b"text/html")],
    [(b"content-type", b"text/html"), (b"content-type", b"image/png")],
    [(b"content-type", b"text/plain"), (b"content-encoding", b"gzip")],
    [(b"content-encoding", b" Identity "), (b"content-type", b"application/json")],
    [(b"CONTENT-ENCODING", b""), (b"content-type", b"text/plain")],
    [(b"content-encoding", b"identity"), (b"content-encoding", b"br")],
    [(bytearray(b"Content-Type"), bytearray(b"text/plain")), (b"set-cookie", b"a=1")],
    [(b"set-cookie", b"a=1"), (b"x-content-type", b"text/plain")],
]


@pytest.mark.parametrize("headers", RESPONSE_HEADER_CASES)
@pytest.mark.parametrize("body", [b"", b"hello", b"\xff\xfe"])
@pytest.mark.parametrize("source", ["http", "rest", "alb", "lattice", "edge"])
def test_every_writer_encodes_the_body_as_the_serializer_does(
    source: str, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    from bridge.sources import SOURCES_BY_NAME, SourceConfig

    text = text_headers(headers)
    config = SourceConfig(serializer=BodySerializer())
    event: dict[str, Any] = {"requestContext": {"elb": {}}} if source == "alb" else {}
    response = SOURCES_BY_NAME[source].to_response(event, 200, text, body, config)  # type: ignore[arg-type]
    flag = response["bodyEncoding"] == "base64" if source == "edge" else response["isBase64Encoded"]
    assert (response["body"], flag) == config.serializer.encode(body, text)


@given(
    st.lists(
        st.tuples(
            st.sampled_from([b"a", b"A", b"b", b"Set-Cookie", b"set-cookie", b"c"]),
            st.binary(max_size=3),
        ),
        max_size=8,
    )
)
def test_rest_response_headers_are_split_by_how_many_values_a_name_has(
    headers: list[tuple[bytes, bytes]],
) -> None:
    from bridge.sources import SourceConfig, rest

    text = text_headers(headers)
    response = rest.to_response({}, 200, text, b"", SourceConfig())
    grouped = multi_value_headers(text)
    assert response["headers"] == {k: v[0] for k, v in grouped.items() if len(v) == 1}
    assert response.get("multiValueHeaders", {}) == {k: v for k, v in grouped.items() if len(v) > 1}


@given(st.one_of(st.text(), st.text(st.characters(max_codepoint=0x7F))), st.booleans())
@example('say "hi"', False)
@example("C:\\path", False)
@example("line\nbreak\x7f", False)
@example("plain/ascii <text> & 'quotes'", False)
def test_the_counted_body_size_is_the_encoded_size(body: str, as_base64: bool) -> None:
    # A body JSON writes as it is (base64, plain ASCII) is counted, not
    # encoded: the same number either way.
    if as_base64:
        body = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode()
    response = {
        "statusCode": 200,
        "headers": {"a": "é"},
        "body": body,
        "isBase64Encoded": as_base64,
    }
    text = json.dumps(response, ensure_ascii=sys.version_info < (3, 12))
    assert checks.encoded_size(response) == len(text.encode("utf-8", "surrogatepass"))


_HEADER_NAME = st.sampled_from(["Content-Type", "content-length", "Set-Cookie", "X-A", "ETag"])
_HEADER_VALUE = st.one_of(st.text(max_size=140), st.sampled_from(["12", " 7\t", "text/plain"]))


@given(st.lists(st.tuples(_HEADER_NAME, _HEADER_VALUE), max_size=5))
def test_remembered_wsgi_headers_give_what_the_careful_check_gives(
    headers: list[tuple[str, str]],
) -> None:
    from bridge.errors import ProtocolError
    from bridge.wsgi import response

    try:
        careful = [response._check_header(item) for item in headers]
    except ProtocolError:
        with pytest.raises(ProtocolError):
            response.check_headers(headers)
        return
    expected = (
        [known[0] for known in careful],
        next((k[2] for k in reversed(careful) if k[2] is not None), None),
        sum(known[1] for known in careful),
    )
    for _ in range(2):  # checked, then remembered
        assert response.check_headers(headers) == expected


@given(st.lists(st.binary(max_size=8), max_size=4), st.one_of(st.none(), st.integers(0, 40)))
def test_a_returned_list_gives_what_any_other_iterable_gives(
    chunks: list[bytes], length: int | None
) -> None:
    from bridge.wsgi.response import respond

    headers = [] if length is None else [("Content-Length", str(length))]

    def answer(result: Any) -> tuple[int, list[tuple[str, str]], bytes, str]:
        def app(environ: object, start_response: Any) -> Any:
            start_response("200 OK", list(headers))
            return result

        response = respond(app, {})
        return response.status, response.headers, response.body(), response.state

    assert answer(list(chunks)) == answer(iter(chunks))


# ------------------------------------------- the one-pass HTTP API 2.0 environ

_ABSENT = object()
_NAMES = ["host", "Host", "x-forwarded-proto", "X-Forwarded-Proto", "x-forwarded-port", "cookie"]
_NAMES += ["x-forwarded-for", "content-type", "content-length", "user-agent", "x_under", "a b"]
_VALUES = ["a.example", "a.example:8443", "https", "http", "8443", "1.2.3.4", "x=1", "text/plain"]


def _pick(plain: bool, usual: list[Any], odd: list[Any]) -> st.SearchStrategy[Any]:
    """One of ``usual``; for an event that need not be plain, also one of
    ``odd`` or no such field at all."""
    if plain:
        return st.sampled_from(usual)
    return st.sampled_from([*usual, *odd, _ABSENT])


@st.composite
def _v2_events(draw: st.DrawFn) -> dict[str, Any]:
    """HTTP API 2.0 and function URL events: half of them plain (the one pass
    reads them), the others with odd or missing fields here and there."""
    plain = draw(st.booleans())
    headers = st.dictionaries(
        st.sampled_from(_NAMES), _pick(plain, _VALUES, ["", "ü", "\ud800", None, 1]), max_size=6
    )
    http = {
        "method": draw(_pick(plain, ["GET", "get", "POST"], ["", "PÖST", None])),
        "sourceIp": draw(_pick(plain, ["1.2.3.4", ""], ["ü", None, 5])),
        "protocol": draw(_pick(plain, ["HTTP/1.1", "HTTP/2.0", "HTTP/3"], [None, "x"])),
    }
    context = {
        "http": http,
        "domainName": draw(
            _pick(
                plain,
                ["a.execute-api.us-east-1.amazonaws.com", "a.lambda-url.us-east-1.on.aws"],
                [None, 7, ""],
            )
        ),
        "stage": draw(_pick(plain, ["$default", "st", "st/"], ["", None])),
        "authorizer": draw(
            _pick(
                plain,
                [None, {"jwt": {"claims": {"sub": "user-1"}}}, {"lambda": {"principalId": "ü"}}],
                [{}, "x"],
            )
        ),
    }
    paths = ["/", "/hello", "/st/x", "/st", "/st/", "/api/v1", "/a%2Fb", "/%C3%BC", "/A%20B"]
    event = {
        "version": "2.0",
        "rawPath": draw(_pick(plain, paths, ["", "x", "/ü", 5])),
        "rawQueryString": draw(_pick(plain, ["", "a=1&B=two", "q=%C3%BC"], ["ü=1", None])),
        "headers": draw(headers if plain else headers | st.sampled_from([None, "x", _ABSENT])),
        "cookies": draw(_pick(plain, [[], ["a=b"], ["a=b", "c=d"]], [["€=1"], "a", [1]])),
        "requestContext": context,
        "body": draw(_pick(plain, [None, "hello", "aGVsbG8="], ["not base64!"])),
        "isBase64Encoded": draw(st.booleans()),
    }
    for fields in (event, context, http):
        for key in [key for key, value in fields.items() if value is _ABSENT]:
            del fields[key]
    return event


def _environ_or_error(read: Any, event: dict[str, Any], base_path: str, build: Any) -> object:
    from bridge.sources.base import SourceConfig

    try:
        environ = read(event, None, SourceConfig(base_path), build)
    except Exception as exc:
        return type(exc), str(exc)
    body = environ.pop("wsgi.input").read()
    return environ, body


def _plain_v2(**changes: Any) -> dict[str, Any]:
    from bridge.local.events import build_event

    event = build_event("http", path="/hello", query="a=1")
    event.update(changes)
    return event


@settings(max_examples=300)
@given(_v2_events(), st.sampled_from(["", "/api"]), st.sampled_from(["http", "url"]))
@example(_plain_v2(headers={"X-Forwarded-Proto": "http", "host": "a.example"}), "", "http")
@example(_plain_v2(headers={"host": "a.example", "Host": "b.example"}), "", "http")
@example(_plain_v2(cookies=["€=1"]), "", "url")
@example(_plain_v2(rawPath="/api/x"), "/api", "http")
def test_the_one_pass_environ_is_what_the_general_path_gives(
    event: dict[str, Any], base_path: str, source: str
) -> None:
    from bridge.sources import function_url, http_api_v2
    from bridge.wsgi.environ import to_environ

    read = http_api_v2.read if source == "http" else function_url.read
    one_pass = _environ_or_error(read, event, base_path, to_environ)

    def general_path(*fields: Any) -> Any:
        """to_environ as another builder: ``read`` takes its general path."""
        return to_environ(*fields)

    general = _environ_or_error(read, event, base_path, general_path)
    assert one_pass == general


@pytest.mark.parametrize("source", ["http", "url"])
def test_a_plain_event_is_read_in_one_pass(source: str) -> None:
    # The test above compares something only if the usual event takes the one pass.
    from bridge.local.events import build_event
    from bridge.sources import http_api_v2
    from bridge.sources.base import SourceConfig

    event = build_event(source, path="/hello", query="a=1", headers=[("Cookie", "a=b")])
    context = event["requestContext"]
    http = context["http"]
    fields = (context, http, http["method"], event["rawPath"], event["rawQueryString"])
    environ = http_api_v2.one_pass_environ(event, None, SourceConfig(), source, *fields)
    assert environ is not None
    assert (environ["PATH_INFO"], environ["QUERY_STRING"], environ["HTTP_COOKIE"]) == (
        "/hello",
        "a=1",
        "a=b",
    )
