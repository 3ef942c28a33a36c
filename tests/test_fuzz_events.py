"""Fuzzing the front end with JSON-like events.

Whatever the event, the handler either answers with a response the source
accepts or raises bridge's own ``UnknownEventError``; an event source
either reads an event or raises ``MalformedEventError`` naming the problem.
Nothing from inside (``AttributeError``, ``KeyError``, ``TypeError``,
``UnicodeError``, ...) ever escapes, and no event reaches the front end's
last-resort handler for unexpected errors.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge import Bridge, BridgeError, MalformedEventError, UnknownEventError
from bridge.local.events import SOURCE_NAMES, FakeContext, build_event
from bridge.sources import EventSource, SourceConfig, SourceSelector
from bridge.websocket.events import connect_event, disconnect_event, message_event
from tests.contract import assert_contract
from tests.logs import captured_logs
from tests.strategies import requests

#: Strings that have broken HTTP adapters: escapes, separators, lone
#: surrogates (JSON can carry them), odd digits, controls, IPv6 hosts.
NASTY_STRINGS = (
    "",
    " ",
    "/",
    "%",
    "%ZZ",
    "%FF",
    "%2F",
    "\ud800",
    "a\udfffb",
    "\x00",
    "\r\n",
    "²",
    "١٢",
    "[::1]",
    "[::1]:²",
    "example.com:",
    "example.com:99999999999999999999",
    "ä",
    "λ",
    "🙂",
    "true",
    "null",
    "2.0",
    "base64",
    "GET",
    "a=1&a=2",
    "?",
    "=",
    "x" * 300,
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(NASTY_STRINGS)
    | st.text(max_size=10)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6) | st.sampled_from(NASTY_STRINGS), inner, max_size=3)
    ),
    max_leaves=8,
)


def locations(node: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(node, dict):
        for key, value in node.items():
            yield from locations(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from locations(value, (*here, index))


#: Values put in place of each part of an event: wrong types, empty
#: containers, containers of the wrong things, and the nasty strings.
REPLACEMENTS: tuple[Any, ...] = (
    None,
    True,
    0,
    5,
    1.5,
    "",
    "\ud800",
    "²",
    "%ZZ",
    "\u0100",
    "[::1]:²",
    [],
    [5],
    ["\ud800"],
    [None],
    {},
    {"k": 5},
    {"k": [5]},
    {"k": {"k": "v"}},
    {"\u0100": "v"},
    {"k": "\ud800"},
)
DELETE = object()


def rich_event(source: str) -> dict[str, Any]:
    """An event with every optional part present: stage, query, repeated
    headers, cookies, a body."""
    event = build_event(
        source,
        method="POST",
        path="/a%20b/c",
        query="a=1&a=2&b=&c&d=日本",
        headers=[
            ("X-A", "1"),
            ("x-a", "2"),
            ("Cookie", "s=1; t=2"),
            ("Content-Type", "text/plain"),
        ],
        body=b"body",
        stage="prod",
    )
    context = event.get("requestContext")
    if isinstance(context, dict) and "elb" not in context and "serviceArn" not in context:
        context["authorizer"] = {
            "principalId": "p",
            "jwt": {"claims": {"sub": "s"}},
            "iam": {"userArn": "u"},
        }
    result: dict[str, Any] = json.loads(json.dumps(event))
    return result


def replaced(event: dict[str, Any], location: tuple[Any, ...], value: Any) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(event))
    parent: Any = copy
    for step in location[:-1]:
        parent = parent[step]
    if value is DELETE:
        del parent[location[-1]]
    else:
        parent[location[-1]] = value
    return copy


@st.composite
def mutated_events(draw: st.DrawFn, source: str) -> dict[str, Any]:
    """A real event of ``source`` with one to three parts deleted, nulled or replaced."""
    event: dict[str, Any] = draw(requests()).event(source)
    for _ in range(draw(st.integers(1, 3))):
        places = [place for place in locations(event) if place]
        if not places:
            break
        location = draw(st.sampled_from(places))
        parent: Any = event
        for step in location[:-1]:
            parent = parent[step]
        last = location[-1]
        action = draw(st.sampled_from(["delete", "known", "known", "random"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[last]
        elif action == "random":
            parent[last] = draw(json_values)
        else:
            parent[last] = copy.deepcopy(draw(st.sampled_from(REPLACEMENTS)))  # never shared
    result: dict[str, Any] = json.loads(json.dumps(event))
    return result


async def small_app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["path"].encode("utf-8", "replace")})


def small_wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Reads its environ as a PEP 3333 application may: every CGI value a
    latin-1 string (a framework encodes them so), and the whole input."""
    for key, value in environ.items():
        if key.isupper():
            value.encode("latin-1")
    environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["PATH_INFO"].encode("latin-1")]


@pytest.fixture(scope="module")
def handler() -> Iterator[Bridge]:
    bridge = Bridge(small_app, lifespan="off")
    yield bridge
    bridge.close()


@pytest.fixture(scope="module")
def wsgi_handler() -> Iterator[Bridge]:
    bridge = Bridge(small_wsgi_app)
    yield bridge
    bridge.close()


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_every_part_of_an_event_replaced_by_every_kind_of_value(
    handler: Bridge, wsgi_handler: Bridge, source: str
) -> None:
    """A deterministic sweep: each part of a rich event deleted, or replaced by
    each of ``REPLACEMENTS``, one at a time."""
    event = rich_event(source)
    failures = []
    for location in locations(event):
        if not location:
            continue
        for value in (DELETE, *REPLACEMENTS):
            if value is DELETE and not isinstance(location[-1], str):
                continue
            try:
                check_event(handler, replaced(event, location, value), wsgi_handler)
            except Exception as exc:
                shown = "<deleted>" if value is DELETE else repr(value)
                failures.append(f"{location} = {shown}: {type(exc).__name__}: {exc}")
    assert failures == []


async def websocket_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            pass
        return
    await small_app(scope, receive, send)


def test_every_part_of_a_websocket_event_replaced_by_every_kind_of_value(
    tmp_path: Path,
) -> None:
    """The same sweep over API Gateway WebSocket events: each is served, gets
    an error response, or raises bridge's own error."""
    handler = Bridge(
        websocket_app,
        lifespan="off",
        websocket_store=f"sqlite:///{tmp_path}/connections.db",
        websocket_endpoint="http://127.0.0.1:9",  # never called: the app sends nothing
    )
    failures = []
    try:
        handler(connect_event("open="))
        for event in (
            connect_event("new=", query="a=1"),
            message_event("open=", "hi"),
            disconnect_event("open="),
        ):
            event = json.loads(json.dumps(event))
            for location in locations(event):
                for value in (DELETE, *REPLACEMENTS):
                    if not location or (value is DELETE and not isinstance(location[-1], str)):
                        continue
                    try:
                        response = handler(replaced(event, location, value), FakeContext())
                        json.dumps(response)
                    except BridgeError:
                        pass
                    except Exception as exc:
                        failures.append(f"{location} = {value!r}: {type(exc).__name__}: {exc}")
    finally:
        handler.close()
    assert failures == []


def check_event(handler: Bridge, event: Any, wsgi_handler: Bridge | None = None) -> None:
    """``handler`` (and ``wsgi_handler``, serving a WSGI app) answer ``event``
    as its source accepts, or raise ``UnknownEventError`` naming what they
    looked for."""
    try:
        source = SourceSelector().select(event)
        assert isinstance(source, EventSource)
    except UnknownEventError:
        for each in (handler, wsgi_handler):
            if each is not None:
                with pytest.raises(UnknownEventError, match=r"Looked for: edge: Records"):
                    each(event, FakeContext())
        return
    problem = ""
    try:
        source.to_request(event, None, SourceConfig())
    except MalformedEventError as exc:
        problem = str(exc)
    assert problem == "" or problem.startswith(f"{source.name} event")
    with captured_logs() as records:
        response = handler(event, FakeContext())
    assert_contract(source.name, response)
    status = int(response.get("statusCode") or response["status"])
    assert status in (200, 400, 413)
    if status != 200:
        assert response["body"].startswith(f"Bad request: {source.name} event")
    assert [r.getMessage() for r in records if "could not be read" in r.getMessage()] == []
    if wsgi_handler is not None:
        with captured_logs() as records:
            wsgi_response = wsgi_handler(event, FakeContext())
        assert_contract(source.name, wsgi_response)
        wsgi_status = int(wsgi_response.get("statusCode") or wsgi_response["status"])
        assert wsgi_status == status, [r.getMessage() for r in records]


@pytest.mark.parametrize("source", SOURCE_NAMES)
@given(event=st.data())
def test_mutated_events_are_read_or_rejected_cleanly(
    handler: Bridge, wsgi_handler: Bridge, source: str, event: st.DataObject
) -> None:
    check_event(handler, event.draw(mutated_events(source)), wsgi_handler)


@given(event=json_values)
def test_arbitrary_json_is_never_mistaken_for_an_http_event(
    handler: Bridge, wsgi_handler: Bridge, event: Any
) -> None:
    check_event(handler, event, wsgi_handler)


@given(
    event=st.fixed_dictionaries(
        {},
        optional={
            key: json_values
            for key in (
                "version",
                "httpMethod",
                "method",
                "path",
                "rawPath",
                "raw_path",
                "requestContext",
                "headers",
                "multiValueHeaders",
                "body",
                "isBase64Encoded",
                "Records",
                "cookies",
                "queryStringParameters",
                "rawQueryString",
            )
        },
    )
)
def test_events_built_from_known_keys_are_read_or_rejected_cleanly(
    handler: Bridge, wsgi_handler: Bridge, event: dict[str, Any]
) -> None:
    check_event(handler, event, wsgi_handler)
