"""``serve`` at the paths an app serves: WebSocket routes anywhere, ``--stage`` and
``--base-path`` as behind API Gateway, with real clients (httpx, ``websockets``)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from bridge import Bridge
from bridge.websocket.events import connect_event, disconnect_event, message_event

from .fastapi_apps import app as fastapi_app
from .fastapi_apps import chat as chat_app
from .running import ROOT, Server, main_status, serving
from .test_serve_websocket import LIMIT_S, open_client, wait_for_log

APPS = "tests/local/fastapi_apps.py"


@pytest.fixture(scope="module")
def fastapi_server() -> Iterator[Server]:
    with serving(f"{APPS}:app") as running:
        yield running


# -- WebSocket routes at any path


def test_a_websocket_route_at_its_own_path(fastapi_server: Server) -> None:
    with open_client(fastapi_server, "/ws") as client:
        client.send("hi")
        assert client.recv(timeout=LIMIT_S) == "ws:hi"


def test_the_path_the_client_used_is_the_scope_path(fastapi_server: Server) -> None:
    with open_client(fastapi_server, "/rooms/a%20b") as client:
        client.send("x")
        assert client.recv(timeout=LIMIT_S) == "a b:/rooms/a b:x"


def test_a_path_without_a_route_is_refused_with_the_reason(fastapi_server: Server) -> None:
    with pytest.raises(InvalidStatus) as refused, open_client(fastapi_server, "/nowhere"):
        pass
    response = refused.value.response
    assert response.status_code == 403
    assert b"closed the connection during $connect without accepting it" in (response.body or b"")
    assert b"WebSocket route for /nowhere" in (response.body or b"")
    wait_for_log(
        fastapi_server,
        r"INFO bridge\.websocket\.protocol: WebSocket connection \S+ to /nowhere refused \(403\): "
        r"the application closed it during \$connect without accepting it \(close code 1000\)",
    )


def test_an_existing_bridge_with_a_websocket_path_serves_websocket_clients() -> None:
    with serving(f"{APPS}:handler") as running, open_client(running, "/ws") as client:
        client.send("hi")
        assert client.recv(timeout=LIMIT_S) == "ws:hi"


class Recorder:
    """A Management API client that keeps what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    def post_to_connection(self, connection_id: str, data: bytes) -> None:
        self.sent.append((connection_id, data))

    def delete_connection(self, connection_id: str) -> None:
        pass


def test_on_lambda_the_app_sees_websocket_path(tmp_path: Path) -> None:
    recorder = Recorder()
    handler = Bridge(
        fastapi_app,
        websocket_store=f"sqlite:///{tmp_path}/c.db",
        websocket_endpoint=recorder,
        websocket_path="/ws",
        lifespan="off",
    )
    try:
        assert handler(connect_event("c1")) == {"statusCode": 200}
        assert handler(message_event("c1", "hi")) == {"statusCode": 200}
        assert recorder.sent == [("c1", b"ws:hi")]
    finally:
        handler.close()


def test_on_lambda_a_refusal_says_why(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bridge.websocket")
    handler = Bridge(
        fastapi_app,
        websocket_store=f"sqlite:///{tmp_path}/c.db",
        websocket_endpoint=Recorder(),
        lifespan="off",
    )
    try:
        assert handler(connect_event("c1"))["statusCode"] == 403
    finally:
        handler.close()
    assert "WebSocket connection c1 to / refused (403)" in caplog.text
    assert "without a WebSocket route for this path" in caplog.text


# -- FastAPI docs' ConnectionManager


def test_an_in_memory_connection_manager_logs_why_and_no_traceback() -> None:
    with serving(f"{APPS}:chat") as running:
        with open_client(running, "/ws/1") as first, open_client(running, "/ws/2") as second:
            first.send("hello")
            assert first.recv(timeout=LIMIT_S) == "You wrote: hello"
            # The broadcast reaches the current connection only, as on Lambda.
            assert first.recv(timeout=LIMIT_S) == "Client #1 says: hello"
            second.send("there")
            assert second.recv(timeout=LIMIT_S) == "You wrote: there"
        wait_for_log(running, r'"WS DISCONNECT /ws/1" 1000')
        log = wait_for_log(running, r'"WS DISCONNECT /ws/2" 1000')
    assert "Traceback" not in log
    assert "ERROR" not in log
    assert log.count("sent on the websocket object of an earlier invocation") == 1
    assert "bridge.websocket.broadcast(websocket.scope, data)" in log


def test_on_lambda_a_connection_manager_reaches_the_current_connection_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bridge.websocket")
    recorder = Recorder()
    handler = Bridge(
        chat_app,
        websocket_store=f"sqlite:///{tmp_path}/c.db",
        websocket_endpoint=recorder,
        websocket_path="/ws/1",
        lifespan="off",
    )
    try:
        for connection in ("c1", "c2"):
            assert handler(connect_event(connection)) == {"statusCode": 200}
        assert handler(message_event("c1", "hi")) == {"statusCode": 200}
        assert handler(disconnect_event("c1", status_code=1000)) == {"statusCode": 200}
        assert handler(disconnect_event("c2", status_code=1000)) == {"statusCode": 200}
    finally:
        handler.close()
    assert recorder.sent == [("c1", b"You wrote: hi"), ("c1", b"Client #1 says: hi")]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    dropped = [r.getMessage() for r in caplog.records if "invocation" in r.getMessage()]
    assert dropped
    assert all("earlier invocation" in m or "ended invocation" in m for m in dropped)


# -- --stage and --base-path


def test_flask_under_a_stage_builds_urls_with_it() -> None:
    with serving(f"{APPS}:flask_app", "--stage", "prod", "--source", "rest") as running:
        assert running.banner.split(" on ")[1].startswith(f"{running.url}/prod ")
        with httpx.Client(base_url=running.url, timeout=LIMIT_S) as http:
            where = http.get("/prod/where")
            assert where.status_code == 200, where.text
            assert where.json() == {
                "url_for": "/prod/where",
                "external": f"{running.url}/prod/where",
            }
            moved = http.get("/prod/go")
            assert moved.status_code == 302
            assert moved.headers["location"] == "/prod/where"
            outside = http.get("/where")
            assert outside.status_code == 404
            assert "served under its stage 'prod': request /prod/... instead of /where" in (
                outside.text
            )


@pytest.mark.parametrize(
    ("args", "prefix"),
    [(("--stage", "prod"), "/prod"), (("--base-path", "api/"), "/api")],
)
def test_fastapi_root_path_and_url_for_follow_the_prefix(
    args: tuple[str, str], prefix: str
) -> None:
    with (
        serving(f"{APPS}:app", *args) as running,
        httpx.Client(base_url=running.url, timeout=LIMIT_S) as http,
    ):
        where = http.get(f"{prefix}/where")
        assert where.status_code == 200, where.text
        assert where.json() == {
            "root_path": prefix,
            "path": f"{prefix}/where",
            "url_for": f"{running.url}{prefix}/where",
        }
        moved = http.get(f"{prefix}/go")
        assert moved.status_code == 307
        assert moved.headers["location"] == f"{running.url}{prefix}/where"
        docs = http.get(f"{prefix}/docs")
        assert f"'{prefix}/openapi.json'" in docs.text or f'"{prefix}/openapi.json"' in docs.text
        assert http.get(f"{prefix}/openapi.json").status_code == 200
        assert http.get("/where").status_code == 404


def test_flask_under_a_base_path() -> None:
    with (
        serving(f"{APPS}:flask_app", "--base-path", "/api", "--server", "stdlib") as running,
        httpx.Client(base_url=running.url, timeout=LIMIT_S) as http,
    ):
        where = http.get("/api/where")
        assert where.json() == {"url_for": "/api/where", "external": f"{running.url}/api/where"}
        assert http.get("/api/go").headers["location"] == "/api/where"


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stage", "prod", "--source", "alb"], "--stage needs a source whose URLs have stages"),
        (["--stage", "prod", "--base-path", "/api"], "a custom domain's base path mapping hides"),
        (["--stage", "pr/od"], "expected a stage name such as 'prod'"),
        (["--base-path", "/"], "--base-path must be a path such as /api, got '/'"),
    ],
)
def test_bad_stage_or_base_path_is_a_usage_error(
    args: list[str], message: str, in_root: None, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main_status(["serve", f"{APPS}:app", "--port", "0", *args]) == 2
    err = capfd.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_a_bridge_handler_keeps_its_own_base_path(
    in_root: None, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main_status(["serve", f"{APPS}:handler", "--base-path", "/api", "--port", "0"]) == 2
    err = capfd.readouterr().err
    assert "is a Bridge handler with api_gateway_base_path='/', which serve uses as it is" in err


# -- the Date header


@pytest.mark.parametrize("server", ["uvicorn", "stdlib"])
def test_flask_send_file_has_one_date_header(server: str) -> None:
    with (
        serving(f"{APPS}:flask_app", "--server", server) as running,
        httpx.Client(base_url=running.url, timeout=LIMIT_S) as http,
    ):
        response = http.get("/file")
        assert response.content == b"file body"
        assert len(response.headers.get_list("date")) == 1
        plain = http.get("/where")
        assert len(plain.headers.get_list("date")) == 1  # the server's, when the app has none
