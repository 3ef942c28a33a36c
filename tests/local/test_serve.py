"""``python -m bridge serve``: a subprocess on an ephemeral loopback port, driven with httpx."""

from __future__ import annotations

import base64
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.sources.traits import TRAITS

from .apps import BINARY
from .running import APPS, ROOT, Server, main_status, run_cli, serving, stop

ECHO = f"{APPS}:echo"
MB = 1024 * 1024


@pytest.fixture(scope="module", params=["uvicorn", "stdlib"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The echo app behind each HTTP server, as an HTTP API (payload 2.0)."""
    with serving(ECHO, "--server", request.param) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def echoed(response: httpx.Response) -> dict[str, Any]:
    """What the echo app saw."""
    assert response.status_code == 200, response.text
    request: dict[str, Any] = response.json()
    request["body"] = base64.b64decode(request["body"])
    request["headers"] = dict(request["headers"])
    return request


def test_the_banner_names_the_source_and_server(server: Server) -> None:
    assert re.fullmatch(
        r"Serving tests/local/apps\.py:echo as a 'http' event source on http://127\.0\.0\.1:\d+ "
        r"\((uvicorn|http\.server)\)\. Ctrl-C stops\.\n",
        server.banner,
    )


def test_the_app_sees_the_request_as_the_http_api_delivers_it(client: httpx.Client) -> None:
    response = client.get("/echo?b=2&a=1&a=", headers={"Accept": "text/html", "Cookie": "x=1; y=2"})
    request = echoed(response)
    assert request["method"] == "GET"
    assert request["path"] == "/echo"
    assert request["query"] == "b=2&a=1&a="
    headers = request["headers"]
    assert headers["accept"] == "text/html"
    assert headers["cookie"] == "x=1; y=2"  # the cookies array joined back
    assert headers["host"] == client.base_url.netloc.decode()
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-for"] == "127.0.0.1"


def test_a_binary_body_goes_both_ways_exactly(client: httpx.Client) -> None:
    sent = client.post(
        "/echo", content=BINARY, headers={"Content-Type": "application/octet-stream"}
    )
    assert echoed(sent)["body"] == BINARY
    received = client.get("/binary")
    assert received.status_code == 200
    assert received.headers["content-type"] == "application/octet-stream"
    assert received.content == BINARY


def test_cookies_come_back_as_separate_set_cookie_headers(client: httpx.Client) -> None:
    response = client.get("/cookies")
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; HttpOnly"]
    assert response.headers.get_list("vary") == ["Accept,Origin"]  # payload 2.0 joins them
    assert response.text == "cookies"


def test_head_has_the_get_headers_and_no_body(client: httpx.Client) -> None:
    response = client.head("/size/1234")
    assert response.status_code == 200
    assert response.headers["content-length"] == "1234"
    assert response.content == b""
    # The connection is still good after a bodiless response.
    assert client.get("/size/3").text == "xxx"


def test_keep_alive_reuses_one_connection(server: Server, client: httpx.Client) -> None:
    for marker in ("first", "second", "third"):
        assert client.get(f"/status/200?{marker}").status_code == 200
    ports = re.findall(
        r'127\.0\.0\.1:(\d+) "GET /status/200\?(?:first|second|third) ', server.log()
    )
    assert len(ports) == 3
    assert len(set(ports)) == 1


def test_one_access_log_line_per_request(server: Server, client: httpx.Client) -> None:
    client.get("/nowhere?log=me")
    lines = [line for line in server.log().splitlines() if "/nowhere?log=me" in line]
    assert len(lines) == 1
    assert re.search(
        r' INFO bridge\.local: 127\.0\.0\.1:\d+ "GET /nowhere\?log=me HTTP/1\.1" 404 9 ', lines[0]
    )


def test_a_5_mb_response_and_a_4_mb_request_fit(client: httpx.Client) -> None:
    assert len(client.get(f"/size/{5 * MB}").content) == 5 * MB
    text = b"t" * (4 * MB)
    response = client.post("/status/200", content=text, headers={"Content-Type": "text/plain"})
    assert response.status_code == 200


def test_a_request_over_6_mb_is_413(client: httpx.Client) -> None:
    response = client.post("/echo", content=b"t" * (6 * MB + 1))
    assert response.status_code == 413
    assert "RequestEntityTooLarge" in response.text
    assert "exceeded maximum allowed payload size (6291456 bytes)" in response.text


def test_a_binary_request_counts_at_its_base64_size(client: httpx.Client) -> None:
    # 5 MB of bytes that are not UTF-8 become about 6.7 MB of base64 in the event.
    body = b"\xff" * (5 * MB)
    response = client.post("/status/200", content=body)
    assert response.status_code == 413
    assert "Request payload size" in response.text


def test_a_response_over_6_mb_is_bridges_500(server: Server, client: httpx.Client) -> None:
    response = client.get(f"/size/{6 * MB}")
    assert response.status_code == 500
    assert "too large for AWS Lambda" in response.text
    assert "limit of 6291556 bytes" in server.log()


def test_an_app_exception_is_the_apps_500(server: Server, client: httpx.Client) -> None:
    response = client.get("/raise")
    assert response.status_code == 500
    assert "RuntimeError: raised on purpose" in server.log()


def test_chunked_request_bodies(server: Server, client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"part one, "
        yield b"part two"

    response = client.post("/echo", content=chunks())
    if "(uvicorn)" in server.banner:
        assert echoed(response)["body"] == b"part one, part two"
    else:
        assert response.status_code == 411
        assert "send a Content-Length" in response.text


@pytest.mark.parametrize("source", ["edge", "alb"])
def test_other_sources_round_trip(source: str) -> None:
    # Every source is checked in-process (test_gateway.py); two unlike ones here, end to end.
    with serving(ECHO, "--source", source) as running, httpx.Client(base_url=running.url) as http:
        request = echoed(http.post("/echo?q=1", content=BINARY, headers={"X-Custom": "yes"}))
        assert (request["method"], request["body"]) == ("POST", BINARY)
        assert request["query"] == "q=1"
        assert request["headers"]["x-custom"] == "yes"

        binary = http.get("/binary")
        assert (binary.status_code, binary.content) == (200, BINARY)

        cookies = http.get("/cookies").headers.get_list("set-cookie")
        if TRAITS[source].set_cookies != "last":
            assert cookies == ["a=1; Path=/", "b=2; HttpOnly"]
        else:
            assert cookies == ["b=2; HttpOnly"]  # one value per header: the last one

        assert http.get("/status/204").status_code == 204


def test_the_function_timeout_is_504_then_503_while_it_runs() -> None:
    # The WSGI app blocks in time.sleep, which bridge cannot cancel before the deadline.
    app = f"{APPS}:wsgi_echo"
    with serving(app, "--timeout", "0.5") as running, httpx.Client(base_url=running.url) as http:
        timed_out = http.get("/sleep/120")
        assert timed_out.status_code == 504
        assert "Sandbox.Timedout: Task timed out after 0.50 seconds" in timed_out.text
        busy = http.get("/status/200")
        assert busy.status_code == 503
        assert "timed out and is still running" in busy.text
        assert stop(running) == 0
        assert "Exception ignored" not in running.log()


def test_an_existing_bridge_handler_then_ctrl_c_stops_with_status_0() -> None:
    with serving(f"{APPS}:handler") as running:
        assert httpx.get(f"{running.url}/status/202").status_code == 202
        assert stop(running) == 0
        assert "Traceback" not in running.log()


@pytest.fixture
def no_uvicorn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Children see a uvicorn that cannot be imported (bridge-lambda[local] not installed)."""
    (tmp_path / "uvicorn").mkdir()
    (tmp_path / "uvicorn" / "__init__.py").write_text("raise ImportError('not installed')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))


def test_without_uvicorn_the_standard_library_serves(no_uvicorn: None) -> None:
    with serving(ECHO) as running:
        assert running.banner.rstrip().endswith("(http.server). Ctrl-C stops.")
        assert httpx.get(f"{running.url}/size/5").text == "xxxxx"


def test_asking_for_uvicorn_without_it_is_bad_input(no_uvicorn: None) -> None:
    done = run_cli("serve", ECHO, "--server", "uvicorn")
    assert done.returncode == 2
    assert done.stderr == (
        b"python -m bridge serve: error: --server uvicorn needs uvicorn: "
        b"pip install 'bridge-lambda[local]'\n"
    )


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``main`` in-process from the repository root; sys.path is restored after."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["examples/nowhere.py:app"], "error: no such file: 'examples/nowhere.py'"),
        ([ECHO, "--port", "70000"], "error: argument --port: must be 0-65535"),
        ([ECHO, "--server", "gunicorn"], "error: argument --server: invalid choice: 'gunicorn'"),
    ],
)
def test_bad_input_is_status_2(
    args: list[str], message: str, in_root: None, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main_status(["serve", *args]) == 2
    out, err = capfd.readouterr()
    assert err.startswith("python -m bridge serve: ")
    assert message in err
    assert out == ""


def test_a_port_in_use_is_a_clear_error(
    server: Server, in_root: None, capfd: pytest.CaptureFixture[str]
) -> None:
    port = server.url.rsplit(":", 1)[1]
    kind = "uvicorn" if "(uvicorn)" in server.banner else "stdlib"
    assert main_status(["serve", f"{APPS}:handler", "--port", port, "--server", kind]) == 2
    out, err = capfd.readouterr()
    assert err.startswith(f"python -m bridge serve: error: cannot listen on 127.0.0.1:{port}: ")
    assert err.count("\n") == 1
    assert out == ""


@pytest.mark.parametrize(
    "app",
    [
        "examples/fastapi_app.py:app",
        "examples/django_project/mysite/asgi.py:application",
        "examples/flask_app.py:app",
        "examples/django_project/mysite/wsgi.py:application",
    ],
)
def test_examples(app: str) -> None:
    with serving(app) as running, httpx.Client(base_url=running.url) as http:
        assert http.get("/?name=reader").json() == {"message": "Hello, reader!"}
        echo = http.post("/echo", content=b'{"a": 1}', headers={"Content-Type": "text/plain"})
        assert (echo.status_code, echo.content) == (200, b'{"a": 1}')


def test_a_wsgi_app() -> None:
    with serving(f"{APPS}:wsgi_echo") as running, httpx.Client(base_url=running.url) as http:
        request = echoed(http.post("/echo?w=1", content=BINARY))
        assert (request["method"], request["query"], request["body"]) == ("POST", "w=1", BINARY)
        assert http.get("/cookies").headers.get_list("set-cookie") == [
            "a=1; Path=/",
            "b=2; HttpOnly",
        ]
