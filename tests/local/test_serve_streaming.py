"""``python -m bridge serve --invoke-mode RESPONSE_STREAM``: server-sent events read with a
real HTTP client as they come, behind both HTTP servers, from FastAPI and from Flask.

Each streaming test proves the first event left before the app produced the second: the app
waits on a socket of the test's (``streaming_apps.py``), and the test releases it only once
it has read the first event."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from .running import Server, run_cli, serving
from .streaming_apps import FIRST, GATE_TIMEOUT_S, SECOND

APPS = "tests/local/streaming_apps.py"


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(("app", "url", "uvicorn"), id="fastapi-url-uvicorn"),
        pytest.param(("flask_app", "rest", "uvicorn"), id="flask-rest-uvicorn"),
        pytest.param(("app", "rest", "stdlib"), id="fastapi-rest-stdlib"),
        pytest.param(("flask_app", "url", "stdlib"), id="flask-url-stdlib"),
    ],
)
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    app, source, kind = request.param
    with serving(
        f"{APPS}:{app}", "--source", source, "--invoke-mode", "RESPONSE_STREAM", "--server", kind
    ) as running:
        yield running


@pytest.fixture
def gate() -> Iterator[socket.socket]:
    """The socket the app waits on; accept() is bounded."""
    with socket.create_server(("127.0.0.1", 0)) as listening:
        listening.settimeout(GATE_TIMEOUT_S)
        yield listening


def test_each_event_reaches_the_client_before_the_app_makes_the_next(
    server: Server, gate: socket.socket
) -> None:
    port = gate.getsockname()[1]
    with (
        httpx.Client(base_url=server.url, timeout=GATE_TIMEOUT_S) as client,
        client.stream("GET", f"/sse?gate={port}") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-stream"] == "yes"
        assert response.headers["transfer-encoding"] == "chunked"
        assert response.headers["set-cookie"].startswith("seen=1; Path=/")
        assert "content-length" not in response.headers
        chunks = response.iter_raw()
        assert next(chunks) == FIRST  # the app is now waiting for the gate
        waiting, _ = gate.accept()
        with waiting:
            waiting.sendall(b"go")
            assert b"".join(chunks) == SECOND


def test_an_error_after_the_first_byte_ends_the_connection_mid_body(server: Server) -> None:
    with (
        httpx.Client(base_url=server.url, timeout=GATE_TIMEOUT_S) as client,
        client.stream("GET", "/broken") as response,
    ):
        assert response.status_code == 200  # sent before the error, as on AWS
        chunks = response.iter_raw()
        assert next(chunks) == FIRST
        with pytest.raises(httpx.RemoteProtocolError):
            list(chunks)
    # Logged before the connection ends.
    log = server.log()
    assert "GET /broken: the function failed after the response began (RuntimeError)" in log
    # The same server goes on answering.
    with httpx.Client(base_url=server.url, timeout=GATE_TIMEOUT_S) as client:
        assert client.get("/sse").content == FIRST + SECOND


def test_a_path_the_app_does_not_have_is_streamed_as_its_404(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=GATE_TIMEOUT_S) as client:
        response = client.get("/nothing")
    assert response.status_code == 404
    assert response.headers["transfer-encoding"] == "chunked"


@pytest.mark.parametrize("source", ["http", "alb"])
def test_a_source_that_cannot_stream_is_refused(source: str) -> None:
    done = run_cli("serve", f"{APPS}:app", "--source", source, "--invoke-mode", "RESPONSE_STREAM")
    assert done.returncode == 2
    assert done.stderr.decode() == (
        "python -m bridge serve: error: --invoke-mode RESPONSE_STREAM needs a source that "
        "streams on AWS: 'url' or 'rest' (a function URL, API Gateway REST); the "
        f"{source!r} service answers buffered: pass --source url or --source rest\n"
    )
    assert done.stdout == b""


def test_the_timeout_ends_a_stream_that_has_begun(gate: socket.socket) -> None:
    port = gate.getsockname()[1]
    with (
        serving(
            f"{APPS}:flask_app",
            "--source",
            "url",
            "--invoke-mode",
            "RESPONSE_STREAM",
            "--timeout",
            "2",
        ) as server,
        httpx.Client(base_url=server.url, timeout=GATE_TIMEOUT_S) as client,
        client.stream("GET", f"/sse?gate={port}") as response,
    ):
        chunks = response.iter_raw()
        assert next(chunks) == FIRST
        waiting, _ = gate.accept()  # never released: the app waits past the timeout
        with waiting, pytest.raises(httpx.RemoteProtocolError):
            list(chunks)
        assert "GET /sse?gate=" in server.log()
        assert "the invocation failed after the response began (Sandbox.Timedout)" in server.log()
