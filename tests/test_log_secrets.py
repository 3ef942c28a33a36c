"""bridge's log never holds the value of an ``Authorization``, ``Cookie`` or
``Set-Cookie`` header, whatever goes wrong: bad events, failing apps,
protocol violations, unsafe or oversized responses."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge import Bridge, UnknownEventError
from bridge.local.events import SOURCE_NAMES, FakeContext, build_event
from tests.apps import read_body
from tests.logs import captured_logs, formatted
from tests.test_fuzz_events import locations, replaced

SECRET = "s3cr3t-t0ken"
#: A kind of each wrong value (tests/test_fuzz_events.py sweeps them all).
WRONG_VALUES = (None, 5, "\ud800", [5], {"k": 5}, {"k": [5]})

#: How the app answers; each names a way a response can go wrong.
BEHAVIOURS = (
    "ok",
    "raise",
    "raise-after-start",
    "no-response",
    "start-twice",
    "headers-not-bytes",
    "unsafe-header",
    "too-large",
    "cancelled",
    "deadline",
    "set-cookie-in-single-value-source",
)


class SecretApp:
    """Answers with Set-Cookie headers carrying the secret, misbehaving as told."""

    behaviour = "ok"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        await read_body(receive)
        behaviour = self.behaviour
        cookie = f"session={SECRET}; HttpOnly".encode()
        headers = [
            (b"set-cookie", cookie),
            (b"set-cookie", cookie),
            (b"content-type", b"text/plain"),
        ]
        if behaviour == "raise":
            raise ValueError("the app failed")
        if behaviour == "no-response":
            return
        if behaviour == "cancelled":
            raise asyncio.CancelledError
        if behaviour == "deadline":
            await asyncio.Event().wait()
        if behaviour == "headers-not-bytes":
            bad = [(b"set-cookie", cookie.decode())]
            await send({"type": "http.response.start", "status": 200, "headers": bad})
        if behaviour == "unsafe-header":
            headers.append((b"x-next", b"a\r\nSet-Cookie: " + cookie))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if behaviour == "raise-after-start":
            raise ValueError("the app failed")
        if behaviour == "start-twice":
            await send({"type": "http.response.start", "status": 200, "headers": headers})
        body = b"x" * 7_000_000 if behaviour == "too-large" else b"ok"
        await send({"type": "http.response.body", "body": body})


class Deadline:
    aws_request_id = "test"

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture(scope="module")
def secret_handler() -> Iterator[tuple[Bridge, SecretApp]]:
    app = SecretApp()
    handler = Bridge(app, lifespan="off")
    yield handler, app
    handler.close()


def secret_event(source: str, query: str = "") -> dict[str, Any]:
    return build_event(
        source,
        method="POST",
        query=query,
        headers=[
            ("Authorization", f"Bearer {SECRET}"),
            ("Cookie", f"session={SECRET}; theme=dark"),
            ("Content-Type", "text/plain"),
        ],
        body=b"hello",
    )


@pytest.mark.parametrize("source", SOURCE_NAMES)
@given(behaviour=st.sampled_from(BEHAVIOURS))
def test_failing_apps_never_log_secrets(
    secret_handler: tuple[Bridge, SecretApp], source: str, behaviour: str
) -> None:
    handler, app = secret_handler
    app.behaviour = behaviour
    context = Deadline(501) if behaviour == "deadline" else FakeContext()
    with captured_logs() as records:
        handler(secret_event(source), context)
    assert SECRET not in formatted(records)


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_bad_events_never_log_secrets(
    secret_handler: tuple[Bridge, SecretApp], source: str
) -> None:
    """Every part of an event carrying secrets, replaced in turn by every
    kind of wrong value."""
    handler, app = secret_handler
    app.behaviour = "ok"
    event = secret_event(source, query="a=1")
    messages: list[str] = []
    with captured_logs() as records:
        for location in locations(event):
            if not location:
                continue
            for value in WRONG_VALUES:
                changed = replaced(event, location, value)
                try:
                    handler(changed, FakeContext())
                except UnknownEventError as exc:
                    messages.append(str(exc))
    assert records  # the sweep does log rejections
    assert SECRET not in formatted(records)
    assert not [m for m in messages if SECRET in m]


# ------------------------------------------- hostile values, both interfaces

#: Where an application can put a value that must never reach a log.
SLOTS = (
    "set-cookie",  # the value of a Set-Cookie header
    "header-value",  # the value of another header
    "header-name",  # a header name (not a token: it may be a whole header line)
    "status",  # the status (WSGI: its text; ASGI: the status field itself)
    "body",  # a body of the wrong type (str)
    "returned",  # what the application returns (WSGI: instead of an iterable)
    "message",  # ASGI: something sent that is not a message
)

#: Text around the secret that breaks a rule: line breaks, NUL, controls,
#: characters outside latin-1, separators, or nothing wrong at all.
hostile = st.builds(
    lambda before, after: before + SECRET + after,
    st.sampled_from(["", "a\r\n", "\n", "\r", "\x00", "\x1b", "€ ", "x y:", "(", "\t"]),
    st.sampled_from(["", "\r\nSet-Cookie: x=1", "\x00", "\u2028", "☃", " ", ";"]),
)


def hostile_wsgi_app(slot: str, value: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        status = "200 OK"
        headers = [("Content-Type", "text/plain")]
        body: Any = [b"ok"]
        if slot == "set-cookie":
            headers.append(("Set-Cookie", value))
        elif slot == "header-value":
            headers.append(("X-Token", value))
        elif slot == "header-name":
            headers.append((value, "1"))
        elif slot == "status":
            status = "200 " + value
        elif slot == "body":
            body = [value]
        elif slot == "returned":
            body = value
        elif slot == "message":  # WSGI's nearest: headers that are not a list
            headers = {"Set-Cookie": value}  # type: ignore[assignment]
        start_response(status, headers)
        return body

    return app


def hostile_asgi_app(slot: str, value: str) -> Any:
    raw = value.encode("utf-8")

    async def app(scope: Any, receive: Any, send: Any) -> Any:
        await read_body(receive)
        headers = [(b"content-type", b"text/plain")]
        status: Any = 200
        body: Any = b"ok"
        if slot == "set-cookie":
            headers.append((b"set-cookie", raw))
        elif slot == "header-value":
            headers.append((b"x-token", raw))
        elif slot == "header-name":
            headers.append((raw, b"1"))
        elif slot == "status":
            status = value
        elif slot == "body":
            body = value
        elif slot == "message":
            await send(value)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return value if slot == "returned" else None

    return app


def exception_texts(records: list[logging.LogRecord]) -> str:
    """``str`` and ``repr`` of every exception logged, and of every exception
    in their chains, shown by the traceback or not (``__context__`` too)."""
    texts: list[str] = []
    seen: set[int] = set()
    stack: list[BaseException | None] = [r.exc_info[1] for r in records if r.exc_info]
    while stack:
        exc = stack.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        texts += [str(exc), repr(exc)]
        stack += [exc.__cause__, exc.__context__]
    return "\n".join(texts)


@pytest.fixture(scope="module")
def hostile_handlers() -> Iterator[dict[str, Any]]:
    """One handler per interface, its app's slot and value set per example."""
    current: dict[str, Any] = {"slot": "set-cookie", "value": SECRET}

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        return hostile_wsgi_app(current["slot"], current["value"])(environ, start_response)

    async def asgi(scope: Any, receive: Any, send: Any) -> Any:
        if scope["type"] == "lifespan":
            return None
        return await hostile_asgi_app(current["slot"], current["value"])(scope, receive, send)

    handlers = {"wsgi": Bridge(wsgi), "asgi": Bridge(asgi, lifespan="off")}
    yield {"current": current, **handlers}
    for handler in handlers.values():
        handler.close()


@given(
    interface=st.sampled_from(["wsgi", "asgi"]),
    slot=st.sampled_from(SLOTS),
    value=hostile,
    source=st.sampled_from(SOURCE_NAMES),
)
def test_hostile_response_values_never_reach_a_log_or_an_exception_chain(
    hostile_handlers: dict[str, Any], interface: str, slot: str, value: str, source: str
) -> None:
    hostile_handlers["current"].update(slot=slot, value=value)
    with captured_logs() as records:
        response = hostile_handlers[interface](build_event(source), FakeContext())
    assert isinstance(response, dict)
    assert SECRET not in formatted(records)
    assert SECRET not in exception_texts(records)
