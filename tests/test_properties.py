"""Property tests: any request AWS can deliver reaches the app exactly, and any
response the app sends comes back exactly, through every event source and
both application interfaces.

Run longer with ``HYPOTHESIS_PROFILE=nightly`` (see tests/conftest.py).
"""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote
from wsgiref.validate import validator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge import Bridge
from bridge.local.events import SOURCE_NAMES, FakeContext, build_event
from bridge.local.responses import decode_response
from bridge.wsgi import build_environ
from tests.apps import read_body
from tests.contract import assert_contract, expected_response_headers, grouped
from tests.logs import captured_logs
from tests.sources.traits import TRAITS
from tests.strategies import (
    Request,
    Response,
    authorizers,
    requests,
    responses,
    scheme_values,
)

BASE_PATH = "/base"
#: The bytes a re-encoded path may hold: RFC 3986 ``pchar``, ``/`` and escapes.
PATH_BYTES = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/%"
)

WSGI_AVAILABLE = importlib.util.find_spec("bridge.wsgi") is not None
INTERFACES = [
    "asgi",
    pytest.param(
        "wsgi",
        marks=pytest.mark.skipif(
            not WSGI_AVAILABLE, reason="bridge/wsgi.py (WSGI support) is not merged yet"
        ),
    ),
]


def wire_value(value: str) -> bytes:
    """A header value as the app receives it: Latin-1 when it fits, else UTF-8."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


@dataclass
class Seen:
    """What the app saw, normalized across ASGI and WSGI."""

    method: str
    path: str
    root_path: str
    raw_path: bytes | None
    query: bytes
    headers: list[tuple[str, bytes]]
    body: bytes


@dataclass
class Recorder:
    """The apps answer with ``response`` (or echo the request body) and record
    what they saw."""

    response: Response | None = None
    seen: list[Seen] = field(default_factory=list)

    def answer(self, body: bytes) -> Response:
        if self.response is not None:
            return self.response
        return Response(200, [(b"content-type", b"application/octet-stream")], body)

    async def asgi(self, scope: Any, receive: Any, send: Any) -> None:
        body = await read_body(receive)
        self.seen.append(
            Seen(
                method=scope["method"],
                path=scope["path"],
                root_path=scope["root_path"],
                raw_path=scope["raw_path"],
                query=scope["query_string"],
                headers=[(n.decode("latin-1"), v) for n, v in scope["headers"]],
                body=body,
            )
        )
        answer = self.answer(body)
        await send(
            {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
        )
        await send({"type": "http.response.body", "body": answer.body})

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        script_name = environ.get("SCRIPT_NAME", "").encode("latin-1").decode("utf-8")
        path_info = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
        headers = [
            (key[5:].replace("_", "-").lower(), value.encode("latin-1"))
            for key, value in environ.items()
            if key.startswith("HTTP_")
        ]
        if environ.get("CONTENT_TYPE"):
            headers.append(("content-type", environ["CONTENT_TYPE"].encode("latin-1")))
        self.seen.append(
            Seen(
                method=environ["REQUEST_METHOD"],
                path=script_name + path_info,
                root_path=script_name,
                raw_path=None,
                query=environ.get("QUERY_STRING", "").encode("latin-1"),
                headers=headers,
                body=body,
            )
        )
        answer = self.answer(body)
        try:
            phrase = HTTPStatus(answer.status).phrase
        except ValueError:
            phrase = "Unknown"
        start_response(
            f"{answer.status} {phrase}",
            [(n.decode("latin-1"), v.decode("latin-1")) for n, v in answer.headers],
        )
        return [answer.body]


#: One request per source for the response property (the echo property
#: covers requests).
RESPONSE_EVENTS = {
    source: build_event(source, method="POST", query="a=1", headers=[("X-A", "1")], body=b"b")
    for source in SOURCE_NAMES
}


@pytest.fixture(scope="module")
def bridges() -> Iterator[Callable[..., tuple[Bridge, Recorder]]]:
    """``(handler, recorder)`` per interface and base path, built once."""
    built: dict[tuple[str, str, bool], tuple[Bridge, Recorder]] = {}

    def get(interface: str, base_path: str, validate: bool = True) -> tuple[Bridge, Recorder]:
        key = (interface, base_path, validate)
        if key not in built:
            recorder = Recorder()
            if interface == "wsgi":
                # PEP 3333 checks on the environ and on reading wsgi.input; the
                # response side is the app's business (validator wants Content-Type).
                app = validator(recorder.wsgi) if validate else recorder.wsgi
                handler = Bridge(app, interface="wsgi", api_gateway_base_path=base_path)
            else:
                handler = Bridge(recorder.asgi, lifespan="off", api_gateway_base_path=base_path)
            built[key] = (handler, recorder)
        return built[key]

    yield get
    for handler, _ in built.values():
        handler.close()


def expected_headers(source: str, request: Request) -> dict[str, list[bytes]]:
    """``{name: [values]}`` the app receives; for sources whose headers come
    grouped the order across differently-cased names is not kept (compare as
    multisets)."""
    lines = [(n.lower(), v) for n, v in request.headers]
    if TRAITS[source].request_headers in ("grouped", "ordered"):
        return {n: [wire_value(v) for v in vs] for n, vs in grouped(lines).items()}
    if TRAITS[source].request_headers == "last":  # ALB single-value mode
        return {n: [wire_value(vs[-1])] for n, vs in grouped(lines).items()}
    return {n: [wire_value(",".join(vs))] for n, vs in grouped(lines).items()}


def actual_headers(request: Request, seen: Seen) -> dict[str, list[bytes]]:
    names = {n.lower() for n, _ in request.headers}
    result: dict[str, list[bytes]] = {}
    for name, value in seen.headers:
        if name in names:
            result.setdefault(name, []).append(value)
    return result


def check_headers(source: str, interface: str, request: Request, seen: Seen) -> None:
    expected = expected_headers(source, request)
    actual = actual_headers(request, seen)
    if interface == "wsgi":  # the environ holds one comma-joined entry per name
        assert set(actual) == set(expected)
        for name, values in expected.items():
            (got,) = actual[name]
            assert sorted(got.split(b",")) == sorted(b",".join(values).split(b","))
    elif TRAITS[source].request_headers == "grouped":
        assert {n: sorted(vs) for n, vs in actual.items()} == {
            n: sorted(vs) for n, vs in expected.items()
        }
    else:
        assert actual == expected


def query_groups(query: bytes | str) -> dict[str, list[str]]:
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    # The app side may hold UTF-8 bytes; parse_qsl decodes escapes as UTF-8.
    if isinstance(query, bytes):
        text = query.decode("utf-8")
    pairs = parse_qsl(text, keep_blank_values=True)
    result: dict[str, list[str]] = {}
    for key, value in pairs:
        result.setdefault(key, []).append(value)
    return result


def check_request(
    source: str, interface: str, request: Request, seen: Seen, base_path: str
) -> None:
    prefix = f"/{request.stage}" if request.stage and TRAITS[source].staged else ""
    assert seen.method == request.method
    assert seen.path == prefix + request.decoded_path
    path = request.decoded_path
    base = (
        base_path if base_path and (path == base_path or path.startswith(base_path + "/")) else ""
    )
    assert seen.root_path == prefix + base
    if seen.raw_path is not None:
        if TRAITS[source].encoded_path:
            assert seen.raw_path == (prefix + request.path).encode("utf-8")
        else:  # the client's spelling is lost: an encoding of the decoded path
            assert set(seen.raw_path) <= PATH_BYTES
            assert unquote(seen.raw_path.decode("ascii")) == prefix + request.decoded_path
    if TRAITS[source].raw_query:
        assert seen.query == request.query.encode("utf-8")
    elif source == "alb":  # one value per key: the last
        sent = {k: vs[-1:] for k, vs in query_groups(request.query).items()}
        assert {k: vs[-1:] for k, vs in query_groups(seen.query).items()} == sent
    else:  # multi-value parameters: grouped by key, order kept within a key
        assert query_groups(seen.query) == query_groups(request.query)
    check_headers(source, interface, request, seen)
    assert seen.body == request.body


def check_response(source: str, response: dict[str, Any], answer: Response) -> None:
    assert_contract(source, response)
    status, headers, body = decode_response(source, response)
    assert status == answer.status
    assert body == answer.body
    assert grouped(headers) == expected_response_headers(source, answer.headers)


@pytest.mark.parametrize("interface", INTERFACES)
@pytest.mark.parametrize("source", SOURCE_NAMES)
@given(data=st.data())
def test_echo_round_trip(
    bridges: Callable[..., tuple[Bridge, Recorder]],
    interface: str,
    source: str,
    data: st.DataObject,
) -> None:
    """Request in, the same body back: everything reaches the app and returns exactly."""
    base_path = data.draw(st.sampled_from(["", BASE_PATH]))
    handler, recorder = bridges(interface, base_path)
    request = data.draw(requests(base_path=BASE_PATH))
    recorder.response = None
    recorder.seen.clear()

    response = handler(request.event(source), FakeContext())

    assert len(recorder.seen) == 1
    check_request(source, interface, request, recorder.seen[0], base_path)
    check_response(source, response, recorder.answer(request.body))


@pytest.mark.parametrize("interface", INTERFACES)
@pytest.mark.parametrize("source", SOURCE_NAMES)
@settings(max_examples=max(2, settings().max_examples // 10))
@given(data=st.data())
def test_bodies_of_a_few_mib_round_trip(
    bridges: Callable[..., tuple[Bridge, Recorder]],
    interface: str,
    source: str,
    data: st.DataObject,
) -> None:
    """The echo property with 1 to 3 MiB bodies (fewer examples: each is slow)."""
    handler, recorder = bridges(interface, "", False)
    request = data.draw(requests(large=True))
    recorder.response = None
    recorder.seen.clear()

    response = handler(request.event(source), FakeContext())

    assert recorder.seen[0].body == request.body
    if source.startswith("alb"):
        # A load balancer takes at most 1 MB of response JSON: a clear 500
        # from bridge rather than a 502 from the load balancer.
        assert response["statusCode"] == 500
        return
    if source == "edge":
        # An origin-request trigger may generate at most 1 MB of headers and
        # body (these bodies are 1 MiB or more): a 500 rather than CloudFront's 502.
        assert len(request.body) >= 1_048_576
        assert response["status"] == "500"
        return
    check_response(source, response, recorder.answer(request.body))


@pytest.mark.parametrize("interface", INTERFACES)
@pytest.mark.parametrize("source", SOURCE_NAMES)
@given(data=st.data())
def test_any_response_comes_back_exactly(
    bridges: Callable[..., tuple[Bridge, Recorder]],
    interface: str,
    source: str,
    data: st.DataObject,
) -> None:
    """Any status, headers and body the app sends come back by the source's rules."""
    handler, recorder = bridges(interface, "", False)
    answer = data.draw(responses())
    recorder.response = answer
    recorder.seen.clear()
    with captured_logs() as records:
        response = handler(RESPONSE_EVENTS[source], FakeContext())
    check_response(source, response, answer)
    assert [r.getMessage() for r in records if r.levelno >= logging.ERROR] == []


# ---------------------------------------------------------------- request context

#: The query parameter keys of each source's events that have them: the one
#: the builder writes first, then the other spelling(s) real events use.
QUERY_KEYS = {
    "rest": ("multiValueQueryStringParameters", "queryStringParameters"),
    "http-v1": ("multiValueQueryStringParameters", "queryStringParameters"),
    "alb": ("queryStringParameters", "multiValueQueryStringParameters"),
    "alb-multi": ("multiValueQueryStringParameters", "queryStringParameters"),
    "lattice": ("query_string_parameters", "queryStringParameters"),
    "lattice-v2": ("queryStringParameters", "query_string_parameters"),
}
MULTI_VALUE_QUERY_KEYS = {"multiValueQueryStringParameters"}
#: Sources whose parameters are a list per key whatever the key's name.
LIST_QUERY_SOURCES = {"lattice-v2"}


@dataclass
class Observer:
    """Apps that keep what they were given: the ASGI scope and body, the WSGI
    environ (``wsgi.input`` read out); each answers 204."""

    scopes: list[tuple[Any, bytes]] = field(default_factory=list, repr=False)
    environs: list[dict[str, Any]] = field(default_factory=list, repr=False)

    async def asgi(self, scope: Any, receive: Any, send: Any) -> None:
        self.scopes.append((scope, await read_body(receive)))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.environs.append({**environ, "wsgi.input": environ["wsgi.input"].read()})
        start_response("204 No Content", [])
        return []


@pytest.fixture(scope="module")
def observed() -> Iterator[tuple[Observer, dict[str, Bridge]]]:
    """An :class:`Observer` and a handler for each of its apps, built once."""
    observer = Observer()
    handlers = {
        "asgi": Bridge(observer.asgi, lifespan="off"),
        "wsgi": Bridge(observer.wsgi, interface="wsgi"),
    }
    yield observer, handlers
    for handler in handlers.values():
        handler.close()


def observe(
    observed: tuple[Observer, dict[str, Bridge]],
    interface: str,
    event: dict[str, Any],
    context: FakeContext | None = None,
) -> Any:
    """What the ``interface`` app saw of ``event``: ``(scope, body)`` or the environ."""
    observer, handlers = observed
    observer.scopes.clear()
    observer.environs.clear()
    handlers[interface](event, context or FakeContext())
    (seen,) = observer.scopes if interface == "asgi" else observer.environs
    return seen


def scheme_headers(source: str, value: str) -> list[tuple[str, str]]:
    """The header that names the scheme (CloudFront's own at the edge) set to
    ``value``, and an empty X-Forwarded-Port so that the port is the scheme's."""
    if source == "edge":
        return [("CloudFront-Forwarded-Proto", value)]
    return [("X-Forwarded-Proto", value), ("X-Forwarded-Port", "")]


def expected_scheme(value: str) -> str | None:
    """The scheme a header value names, if it names http or https."""
    last = value.rpartition(",")[2].strip().lower()
    return last if last in ("http", "https") else None


def requote_query(source: str, event: dict[str, Any], to_key: str) -> dict[str, Any]:
    """``event`` with its query parameters moved to ``to_key`` (a list per key
    under a multi-value key, else the last value), and no query in the path."""
    event = dict(event)
    params: dict[str, Any] = {}
    for key in reversed(QUERY_KEYS[source]):  # the builder's own key last: it wins
        params = event.pop(key, None) or params
    lists = to_key in MULTI_VALUE_QUERY_KEYS or source in LIST_QUERY_SOURCES
    event[to_key] = {
        name: (
            (values if isinstance(values, list) else [values])
            if lists
            else (values[-1] if isinstance(values, list) else values)
        )
        for name, values in params.items()
    }
    for path_key in ("raw_path", "path"):
        if source.startswith("lattice") and path_key in event:
            event[path_key] = event[path_key].partition("?")[0]
    return event


def last_values(groups: dict[str, list[str]]) -> dict[str, list[str]]:
    return {key: values[-1:] for key, values in groups.items()}


@pytest.mark.parametrize("interface", INTERFACES)
@pytest.mark.parametrize("source", SOURCE_NAMES)
@given(data=st.data())
def test_the_scheme_is_http_or_https_and_the_default_port_follows_it(
    observed: tuple[Observer, dict[str, Bridge]],
    interface: str,
    source: str,
    data: st.DataObject,
) -> None:
    """Whatever the header naming the scheme holds, the app sees http or
    https (the one the header names, if any) and, without an explicit port,
    that scheme's port."""
    value = data.draw(scheme_values())
    event = build_event(source, headers=scheme_headers(source, value))
    seen = observe(observed, interface, event)
    if interface == "asgi":
        scheme, server = seen[0]["scheme"], seen[0]["server"]
    else:
        scheme, server = seen["wsgi.url_scheme"], (seen["SERVER_NAME"], int(seen["SERVER_PORT"]))

    assert scheme == (expected_scheme(value) or ("http" if source.startswith("alb") else "https"))
    assert server == ("example.com", 443 if scheme == "https" else 80)


@pytest.mark.parametrize("interface", INTERFACES)
@pytest.mark.parametrize("source", sorted(QUERY_KEYS))
@given(data=st.data())
def test_query_parameters_under_any_key_the_source_uses_give_the_query(
    bridges: Callable[..., tuple[Bridge, Recorder]],
    interface: str,
    source: str,
    data: st.DataObject,
) -> None:
    """The parameters, under whichever key an event of the source may carry
    them, reach the app: all values under a multi-value key, else the last."""
    handler, recorder = bridges(interface, "", False)
    request = data.draw(requests())
    to_key = data.draw(st.sampled_from(QUERY_KEYS[source]))
    event = requote_query(source, request.event(source), to_key)
    recorder.response = None
    recorder.seen.clear()

    handler(event, FakeContext())

    (seen,) = recorder.seen
    sent = query_groups(request.query)
    if source == "alb":  # the builder's own event holds the last value of each
        sent = last_values(sent)
    if to_key not in MULTI_VALUE_QUERY_KEYS and source not in LIST_QUERY_SOURCES:
        sent = last_values(sent)
    assert query_groups(seen.query) == sent


@pytest.mark.parametrize("source", SOURCE_NAMES)
@given(data=st.data())
def test_a_wsgi_app_sees_the_environ_of_the_scope_an_asgi_app_sees(
    observed: tuple[Observer, dict[str, Bridge]], source: str, data: st.DataObject
) -> None:
    """For the same event, the environ a WSGI app gets (read directly or by
    the general reader) is the one PEP 3333 makes of the scope an ASGI app
    gets, and ``REMOTE_USER`` is the authorizer's principal."""
    request = data.draw(requests())
    headers = list(request.headers)
    if data.draw(st.booleans()):
        headers += scheme_headers(source, data.draw(scheme_values()))
    event = build_event(
        source,
        method=request.method,
        path=request.path,
        query=request.query,
        headers=headers,
        body=request.body,
        base64_body=request.base64_body,
        stage=request.stage,
    )
    principal = None
    if TRAITS[source].authorizer and data.draw(st.booleans()):
        authorizer, principal = data.draw(authorizers())
        event["requestContext"]["authorizer"] = authorizer
    if source in QUERY_KEYS and data.draw(st.booleans()):
        event = requote_query(source, event, data.draw(st.sampled_from(QUERY_KEYS[source])))
    event = json.loads(json.dumps(event))

    context = FakeContext()
    scope, body = observe(observed, "asgi", event, context)
    environ = observe(observed, "wsgi", event, context)

    from_scope = build_environ(scope, body, multithread=False)
    from_scope["wsgi.input"] = from_scope["wsgi.input"].read()
    assert environ == from_scope
    for key, value in environ.items():
        if key.isupper():
            value.encode("latin-1")  # PEP 3333: "bytes as str"
    assert environ.get("REMOTE_USER") == (
        None if principal is None else principal.encode().decode("latin-1")
    )
