"""The environ built from an ASGI HTTP scope (PEP 3333)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.validate import validator

import pytest

from bridge._cache import LIMIT
from bridge.types import StartResponse
from bridge.wsgi import build_environ
from bridge.wsgi import environ as environ_module
from tests.wsgi.test_response import make_scope


def check_environ(environ: dict[str, Any]) -> None:
    """Run wsgiref's environ checks on ``environ``."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response("204 No Content", [])
        return []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> Callable[[bytes], object]:
        return len

    validator(app)(dict(environ), start_response).close()  # type: ignore[attr-defined]


def environ_for(body: bytes = b"", **overrides: Any) -> dict[str, Any]:
    environ = build_environ(make_scope(**overrides), body, multithread=False)
    check_environ(environ)
    return environ


def test_whole_environ() -> None:
    event = {"rawPath": "/prod/caf\u00e9"}
    context = object()
    scope = make_scope(
        method="POST",
        path="/prod/café",
        raw_path=b"/prod/caf\xc3\xa9",
        root_path="/prod",
        query_string=b"a=1&b=%20",
        headers=[
            (b"host", b"api.example.com"),
            (b"content-type", b"application/json"),
            (b"content-length", b"999"),
            (b"x-forwarded-for", b"198.51.100.1"),
            (b"x-forwarded-for", b"203.0.113.9"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
            (b"x-caf\xc3\xa9", b"caf\xc3\xa9"),
        ],
        client=("203.0.113.9", 0),
        server=("api.example.com", 443),
    )
    scope["aws.event"] = event
    scope["aws.context"] = context
    environ = build_environ(scope, b'{"a": 1}', multithread=False)
    check_environ(environ)

    stream = environ.pop("wsgi.input")
    assert stream.read() == b'{"a": 1}'
    assert environ.pop("wsgi.errors") is environ_module.ERRORS
    assert environ.pop("aws.event") is event
    assert environ.pop("aws.context") is context
    assert environ == {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "/prod",
        "PATH_INFO": "/caf\xc3\xa9",
        "QUERY_STRING": "a=1&b=%20",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "8",
        "SERVER_NAME": "api.example.com",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_HOST": "api.example.com",
        "HTTP_X_FORWARDED_FOR": "198.51.100.1,203.0.113.9",
        "HTTP_COOKIE": "a=1; b=2",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }


@pytest.mark.parametrize(
    ("root_path", "path", "script_name", "path_info"),
    [
        ("", "/a/b", "", "/a/b"),
        ("/", "/a/b", "", "/a/b"),
        ("/api", "/api/items", "/api", "/items"),
        ("/api", "/api", "/api", ""),
        ("/api/", "/api/items", "/api", "/items"),
        ("/api", "/apiary", "/api", "/apiary"),  # path given without root_path
        ("/api", "/other", "/api", "/other"),
        ("/stage/caf\u00e9", "/stage/caf\u00e9/x", "/stage/caf\xc3\xa9", "/x"),
        ("", "/\u00e9/\u20ac", "", "/\xc3\xa9/\xe2\x82\xac"),
    ],
)
def test_script_name_and_path_info(
    root_path: str, path: str, script_name: str, path_info: str
) -> None:
    environ = environ_for(root_path=root_path, path=path)

    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == (script_name, path_info)


def test_no_root_path_in_scope() -> None:
    scope = make_scope(path="/x")
    del scope["root_path"]

    assert build_environ(scope, b"", multithread=True)["SCRIPT_NAME"] == ""


def test_query_string_is_kept_as_received() -> None:
    environ = environ_for(query_string=b"q=caf%C3%A9&q=%2F&flag&x=a+b")

    assert environ["QUERY_STRING"] == "q=caf%C3%A9&q=%2F&flag&x=a+b"


def test_header_names_with_underscores_are_dropped() -> None:
    headers = [(b"x-forwarded-for", b"203.0.113.9"), (b"x_forwarded_for", b"10.0.0.1")]
    environ = environ_for(headers=headers)

    assert environ["HTTP_X_FORWARDED_FOR"] == "203.0.113.9"
    assert [key for key in environ if key.startswith("HTTP_")] == ["HTTP_X_FORWARDED_FOR"]


@pytest.mark.parametrize("name", [b"x-caf\xc3\xa9", b"x name", b"x:y", b""])
def test_invalid_header_names_are_dropped(name: bytes) -> None:
    environ = environ_for(headers=[(name, b"v"), (b"x-ok", b"1")])

    assert [key for key in environ if key.startswith("HTTP_")] == ["HTTP_X_OK"]


def test_content_length_is_the_body_length() -> None:
    assert environ_for(b"", headers=[(b"content-length", b"5")])["CONTENT_LENGTH"] == "0"
    assert environ_for(b"abc", headers=[])["CONTENT_LENGTH"] == "3"


def test_header_values_are_latin1_strings() -> None:
    environ = environ_for(headers=[(b"x-name", b"Zo\xc3\xab"), (b"x-raw", b"\xff")])

    assert environ["HTTP_X_NAME"].encode("latin-1").decode("utf-8") == "Zoë"
    assert environ["HTTP_X_RAW"] == "\xff"


def test_upper_case_header_names_from_other_servers() -> None:
    assert environ_for(headers=[(b"X-Trace", b"1")])["HTTP_X_TRACE"] == "1"


def test_many_distinct_header_names_do_not_grow_the_cache_without_bound() -> None:
    headers = [(f"x-h{i}".encode(), str(i).encode()) for i in range(700)]
    environ = environ_for(headers=headers)

    assert environ["HTTP_X_H0"] == "0"
    assert environ["HTTP_X_H699"] == "699"
    assert len(environ_module.KEYS) <= LIMIT


@pytest.mark.parametrize(
    ("scheme", "server", "name", "port"),
    [
        ("https", ("example.com", 8443), "example.com", "8443"),
        ("https", ("example.com", None), "example.com", "443"),
        ("http", ("example.com", None), "example.com", "80"),
        ("https", None, "localhost", "443"),
        ("http", None, "localhost", "80"),
    ],
)
def test_server_name_and_port(
    scheme: str, server: tuple[str, int | None] | None, name: str, port: str
) -> None:
    environ = environ_for(scheme=scheme, server=server)

    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == (name, port)
    assert environ["wsgi.url_scheme"] == scheme


def test_unknown_client_has_no_remote_addr() -> None:
    assert "REMOTE_ADDR" not in environ_for(client=None)


def test_http_version() -> None:
    assert environ_for(http_version="2")["SERVER_PROTOCOL"] == "HTTP/2"


def test_plain_asgi_scope_has_no_lambda_keys() -> None:
    environ = environ_for()

    assert "aws.event" not in environ
    assert "aws.context" not in environ


def test_multithread_flag() -> None:
    assert build_environ(make_scope(), b"", multithread=True)["wsgi.multithread"] is True


def test_each_request_gets_its_own_input() -> None:
    first = environ_for(b"one")
    second = environ_for(b"two")

    assert first["wsgi.input"] is not second["wsgi.input"]
    assert (first["wsgi.input"].read(), second["wsgi.input"].read()) == (b"one", b"two")


def test_errors_stream_logs_each_write(caplog: pytest.LogCaptureFixture) -> None:
    errors = environ_for()["wsgi.errors"]

    with caplog.at_level(logging.DEBUG, logger="bridge.wsgi"):
        assert errors.write("first line\n") == 11
        assert errors.write("") == 0
        assert errors.write("\n") == 1
        errors.writelines(["a\n", "b"])
        errors.write("two\nlines\n")
        errors.flush()

    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("bridge.wsgi", logging.ERROR, "first line"),
        ("bridge.wsgi", logging.ERROR, "a"),
        ("bridge.wsgi", logging.ERROR, "b"),
        ("bridge.wsgi", logging.ERROR, "two\nlines"),
    ]


def test_key_order_and_no_state_shared_between_requests() -> None:
    first = environ_for(b"one", root_path="/api", path="/api/x")
    first["SCRIPT_NAME"] = first["HTTP_HOST"] = "changed"
    first["wsgi.multithread"] = True
    second = environ_for(b"", path="/y")

    assert list(second)[:16] == [
        "REQUEST_METHOD",
        "SCRIPT_NAME",
        "PATH_INFO",
        "QUERY_STRING",
        "CONTENT_LENGTH",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "wsgi.version",
        "wsgi.url_scheme",
        "wsgi.input",
        "wsgi.errors",
        "wsgi.multithread",
        "wsgi.multiprocess",
        "wsgi.run_once",
        "wsgi.input_terminated",
    ]
    assert (second["SCRIPT_NAME"], second["PATH_INFO"], second["CONTENT_LENGTH"]) == ("", "/y", "0")
    assert second["wsgi.multithread"] is False
    assert second["wsgi.input"].read() == b""


@pytest.mark.parametrize("upper", [False, True])  # the event's own mapping, and pairs
def test_header_names_past_the_cache_bound_from_an_event(upper: bool) -> None:
    from bridge.local.events import build_event
    from bridge.sources import SourceConfig, http_api_v2
    from bridge.wsgi.environ import to_environ

    names = [f"{'X' if upper else 'x'}-many-{i}" for i in range(700)] + ["x_under", "bad name"]
    event = build_event("http", headers=[(name, "v") for name in names])
    for _ in range(2):
        environ = http_api_v2.read(event, None, SourceConfig(), to_environ)
        assert [key for key in environ if key.startswith("HTTP_X_MANY_")] == [
            f"HTTP_X_MANY_{i}" for i in range(700)
        ]
        assert "HTTP_X_UNDER" not in environ
        assert len(environ_module.KEYS) <= LIMIT
