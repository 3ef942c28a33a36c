"""``python -m bridge invoke --invoke-mode RESPONSE_STREAM``: the prelude as one JSON line (or,
with ``--http``, the head) and then the body, written as the app sends it."""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys

from .running import ROOT, child_env, run_cli
from .streaming_apps import FIRST, GATE_TIMEOUT_S, SECOND

APPS = "tests/local/streaming_apps.py"
STREAM = ("--source", "url", "--invoke-mode", "RESPONSE_STREAM")
INVOKE = (sys.executable, "-m", "bridge", "invoke")


def test_the_prelude_is_a_json_line_then_the_raw_body() -> None:
    done = run_cli("invoke", f"{APPS}:app", *STREAM, "/sse")
    assert done.returncode == 0, done.stderr.decode()
    line, _, body = done.stdout.partition(b"\n")
    assert json.loads(line) == {
        "statusCode": 200,
        "headers": {"content-type": "text/event-stream; charset=utf-8", "x-stream": "yes"},
        "cookies": ["seen=1; Path=/; SameSite=lax"],
    }
    assert body == FIRST + SECOND


def _read_until(process: subprocess.Popen[bytes], wanted: bytes) -> bytes:
    """What the process writes until ``wanted`` ends it; each wait bounded."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    seen = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while not seen.endswith(wanted):
            assert selector.select(GATE_TIMEOUT_S), f"nothing more after {seen!r}"
            data = os.read(fd, 65536)
            assert data, f"the output ended after {seen!r}"
            seen += data
    return seen


def test_with_http_the_head_and_each_chunk_are_written_as_they_come() -> None:
    with socket.create_server(("127.0.0.1", 0)) as gate:
        gate.settimeout(GATE_TIMEOUT_S)
        port = gate.getsockname()[1]
        with subprocess.Popen(
            [*INVOKE, f"{APPS}:flask_app", *STREAM, "--http", f"/sse?gate={port}"],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ) as process:
            try:
                # Before the app has made its second event.
                first = _read_until(process, FIRST)
                waiting, _ = gate.accept()
                with waiting:
                    waiting.sendall(b"go")
                    rest = _read_until(process, SECOND)
                assert process.wait(GATE_TIMEOUT_S) == 0
            finally:
                process.kill()
    head, _, body = first.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK"
    assert "content-type: text/event-stream; charset=utf-8" in lines
    assert "set-cookie: seen=1; Path=/" in lines
    assert body + rest == FIRST + SECOND


def test_an_error_after_the_first_byte_leaves_the_body_cut_and_fails() -> None:
    done = run_cli("invoke", f"{APPS}:app", *STREAM, "/broken")
    assert done.returncode == 1
    line, _, body = done.stdout.partition(b"\n")
    assert json.loads(line)["statusCode"] == 200
    assert body == FIRST
    assert done.stderr.decode().endswith(
        "python -m bridge invoke: the function failed after the response began, so the body "
        "is incomplete (RuntimeError; AWS ends the connection)\n"
    )


def test_a_streaming_bridge_streams_without_the_option() -> None:
    done = run_cli("invoke", f"{APPS}:streaming", "--source", "rest", "/sse")
    assert done.returncode == 0, done.stderr.decode()
    line, _, body = done.stdout.partition(b"\n")
    assert json.loads(line)["statusCode"] == 200
    assert body == FIRST + SECOND


def test_a_buffered_bridge_refuses_the_option() -> None:
    done = run_cli("invoke", f"{APPS}:buffered", *STREAM, "/sse")
    assert done.returncode == 2
    assert done.stderr.decode() == (
        f"python -m bridge invoke: error: {APPS}:buffered is a Bridge handler with "
        "invoke_mode='BUFFERED', which is used as it is: drop --invoke-mode, or name the app "
        "itself, which is then wrapped in Bridge(app, invoke_mode='RESPONSE_STREAM')\n"
    )


def test_a_source_that_cannot_stream_is_refused() -> None:
    done = run_cli("invoke", f"{APPS}:app", "--invoke-mode", "RESPONSE_STREAM", "/sse")
    assert done.returncode == 2
    assert "--invoke-mode RESPONSE_STREAM needs a source that streams on AWS" in (
        done.stderr.decode()
    )
