"""One rule for the response header names, header values and status lines
an application sends, on the ASGI and the WSGI path alike: a name must be
an HTTP token (RFC 9110, 5.1), a value must hold no CR, LF or NUL, and a
WSGI reason phrase no control character.  Anything else is a 500, whichever
framework produced it, and the log says what was wrong without the value."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask
from flask import Response as FlaskResponse
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response as StarletteResponse
from starlette.routing import Route

from bridge import Bridge
from bridge.local.events import FakeContext, build_event
from bridge.local.responses import decode_response
from tests.contract import assert_contract
from tests.logs import captured_logs, formatted

#: Header names that are not tokens: each must be refused on both paths.
BAD_NAMES = [
    pytest.param("", id="empty"),
    pytest.param("bad name", id="space"),
    pytest.param("x-a:", id="colon"),
    pytest.param("x\x01y", id="control"),
    pytest.param("x\x7fy", id="delete"),
    pytest.param("x-a\tb", id="tab"),
    pytest.param("(x)", id="separator"),
    pytest.param("café", id="latin-1"),
]

SECRET = "s3cr3t-t0ken"


def flask_app(name: str, value: str) -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index() -> FlaskResponse:
        response = FlaskResponse("body")
        response.headers.add("X-Fine", "1")
        # werkzeug's Headers refuse CR and LF in values, so the pair goes
        # into the list as it is.
        response.headers._list.append((name, value))
        return response

    return app


def starlette_app(name: str, value: str) -> Starlette:
    async def index(request: Request) -> StarletteResponse:
        response = StarletteResponse("body")
        response.raw_headers.append((name.encode("latin-1"), value.encode("latin-1")))
        return response

    return Starlette(routes=[Route("/", index)])


def plain_wsgi_app(name: str, value: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Fine", "1"), (name, value)])
        return [b"body"]

    return app


FRAMEWORKS = {"flask": flask_app, "starlette": starlette_app, "wsgi": plain_wsgi_app}


def served(framework: str, name: str, value: str, source: str) -> tuple[int, Any, str]:
    app = FRAMEWORKS[framework](name, value)
    handler = Bridge(app, lifespan="off") if framework == "starlette" else Bridge(app)
    try:
        with captured_logs() as records:
            response = handler(build_event(source), FakeContext())
    finally:
        handler.close()
    assert_contract(source, response)
    status, headers, body = decode_response(source, response)
    return status, (headers, body), formatted(records)


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_header_name_that_is_not_a_token_is_a_500_on_both_paths(
    framework: str, name: str
) -> None:
    status, (headers, body), log = served(framework, name, SECRET, "http")
    assert status == 500
    assert body == b"Internal Server Error"
    assert not [n for n, _ in headers if n.lower() == "x-fine"]
    assert "not an HTTP token" in log
    assert SECRET not in log


# werkzeug refuses CR and LF in values itself: the plain WSGI app shows
# what bridge does.
@pytest.mark.parametrize("framework", ["starlette", "wsgi"])
@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\x00b"])
def test_a_header_value_with_cr_lf_or_nul_is_a_500_on_both_paths(
    framework: str, value: str, source: str
) -> None:
    status, (_, body), log = served(framework, "X-Next", value + SECRET, source)
    assert status == 500
    assert body == b"Internal Server Error"
    assert "'x-next'" in log.lower()
    assert "CR, LF or NUL" in log
    assert SECRET not in log


@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_token_names_of_every_allowed_character_pass_on_both_paths(framework: str) -> None:
    name = "!#$%&'*+-.^_`|~09azAZ"
    status, (headers, body), _ = served(framework, name, "v", "rest")
    assert status == 200
    assert (name.lower(), "v") in [(n.lower(), v) for n, v in headers]
    assert body == b"body"


@pytest.mark.parametrize(
    "status",
    [
        "200 OK\r\nSet-Cookie: x=" + SECRET,
        "200 OK\nX: " + SECRET,
        "200 OK\r" + SECRET,
        "200 OK\x00" + SECRET,
        "200 OK\x1b" + SECRET,
    ],
)
def test_a_wsgi_status_line_holding_a_control_character_is_a_500(status: str) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response(status, [("Content-Type", "text/plain"), ("X-Fine", "1")])
        return [b"body"]

    with captured_logs() as records:
        response = Bridge(app)(build_event("http"), FakeContext())
    assert response == {
        "statusCode": 500,
        "headers": {"content-type": "text/plain; charset=utf-8"},
        "body": "Internal Server Error",
        "isBase64Encoded": False,
    }
    log = formatted(records)
    assert "reason phrase" in log
    assert SECRET not in log


def test_a_wsgi_status_line_with_a_tab_or_latin_1_in_its_phrase_is_fine() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 Tout\tva bien, très", [("Content-Type", "text/plain")])
        return [b"body"]

    assert Bridge(app)(build_event("http"), FakeContext())["statusCode"] == 200


# ------------------------------------------------ the rule, as a property

TOKEN = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def raw_wsgi(name: str, value: str, status: str = "200 OK") -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response(status, [(name, value)])
        return [b"ok"]

    return app


def raw_asgi(name: bytes, value: bytes) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(name, value)]})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


@given(
    name=st.one_of(
        st.text(TOKEN, min_size=1, max_size=12),
        st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=12),
    ),
    value=st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=12),
)
def test_both_paths_apply_the_same_rule_to_any_latin_1_header(name: str, value: str) -> None:
    """Any latin-1 name and value: 200 exactly when the name is a token and
    the value has no CR, LF or NUL, on the WSGI and the ASGI path alike."""
    valid = (
        bool(name)
        and all(char in TOKEN for char in name)
        and not any(char in value for char in "\r\n\0")
    )
    event = build_event("rest")
    wsgi = Bridge(raw_wsgi(name, value))(event, FakeContext())
    asgi_handler = Bridge(raw_asgi(name.encode("latin-1"), value.encode("latin-1")), lifespan="off")
    try:
        asgi = asgi_handler(event, FakeContext())
    finally:
        asgi_handler.close()
    assert wsgi["statusCode"] == asgi["statusCode"] == (200 if valid else 500)


@given(phrase=st.text(max_size=20))
def test_any_wsgi_reason_phrase_without_controls_is_accepted(phrase: str) -> None:
    valid = not any((ord(char) < 32 and char != "\t") or char == "\x7f" for char in phrase)
    response = Bridge(raw_wsgi("X-A", "1", "200 " + phrase))(build_event("rest"), FakeContext())
    assert response["statusCode"] == (200 if valid else 500)
