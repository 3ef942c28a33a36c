"""``python -m bridge invoke``, run as a subprocess the way a user runs it."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.local.events import SOURCE_NAMES, build_event

from .apps import BINARY
from .running import APPS, ROOT, main_status, own_stderr, run_cli

ECHO = f"{APPS}:echo"


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``main`` in-process from the repository root; sys.path is restored after."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))


Run = Callable[..., "subprocess.CompletedProcess[bytes]"]


@pytest.fixture
def cli(
    in_root: None, monkeypatch: pytest.MonkeyPatch, capfdbinary: pytest.CaptureFixture[bytes]
) -> Run:
    """``python -m bridge ARGS`` run in this process (faster than a child; same code path)."""

    def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        status = main_status(list(args))
        sys.stdout.flush()
        out, err = capfdbinary.readouterr()
        return subprocess.CompletedProcess(args, status, out, err)

    return run


@pytest.fixture
def invoke_json(cli: Run) -> Callable[..., tuple[int, Any, str]]:
    def run(*args: str, stdin: bytes = b"") -> tuple[int, Any, str]:
        done = cli("invoke", *args, stdin=stdin)
        return done.returncode, json.loads(done.stdout), done.stderr.decode()

    return run


def echoed(response: dict[str, Any]) -> dict[str, Any]:
    """What the echo app saw, from a payload 2.0 response."""
    body = response["body"]
    text = base64.b64decode(body) if response["isBase64Encoded"] else body.encode()
    request: dict[str, Any] = json.loads(text)
    request["body"] = base64.b64decode(request["body"])
    request["headers"] = dict(request["headers"])
    return request


def test_get_prints_the_payload_2_response(
    invoke_json: Callable[..., tuple[int, Any, str]],
) -> None:
    status, response, _ = invoke_json(ECHO, "/echo?a=1&a=2", "-H", "Accept: text/plain")
    assert status == 0
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    request = echoed(response)
    assert request["method"] == "GET"
    assert request["query"] == "a=1&a=2"
    assert request["headers"]["accept"] == "text/plain"
    assert request["headers"]["host"] == "example.com"


def test_data_is_posted_form_encoded_like_curl(
    invoke_json: Callable[..., tuple[int, Any, str]],
) -> None:
    status, response, _ = invoke_json(ECHO, "/echo", "-d", "x=1")
    request = echoed(response)
    assert status == 0
    assert (request["method"], request["body"]) == ("POST", b"x=1")
    assert request["headers"]["content-type"] == "application/x-www-form-urlencoded"


def test_data_binary_from_a_file_is_sent_exactly(
    tmp_path: Path, invoke_json: Callable[..., tuple[int, Any, str]]
) -> None:
    data = tmp_path / "payload.bin"
    data.write_bytes(BINARY)
    status, response, _ = invoke_json(
        ECHO, "/echo", "-X", "PUT", "--data-binary", f"@{data}",
        "-H", "Content-Type: application/octet-stream",
    )  # fmt: skip
    request = echoed(response)
    assert status == 0
    assert (request["method"], request["body"]) == ("PUT", BINARY)


def test_data_from_a_file_drops_newlines_like_curl(
    tmp_path: Path, invoke_json: Callable[..., tuple[int, Any, str]]
) -> None:
    data = tmp_path / "form.txt"
    data.write_bytes(b"a=1\r\n&b=2\n")
    _, response, _ = invoke_json(ECHO, "/echo", "--data", f"@{data}")
    assert echoed(response)["body"] == b"a=1&b=2"


def test_data_from_standard_input(invoke_json: Callable[..., tuple[int, Any, str]]) -> None:
    _, response, _ = invoke_json(ECHO, "/echo", "--data-binary", "@-", stdin=b"from stdin\n")
    assert echoed(response)["body"] == b"from stdin\n"


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_every_source_builds_an_event_the_handler_answers(source: str, cli: Run) -> None:
    done = cli("invoke", ECHO, "/binary", "--source", source, "--http")
    assert done.returncode == 0, done.stderr
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    assert head.splitlines()[0] == b"HTTP/1.1 200 OK"
    assert body == BINARY


def test_http_prints_status_line_headers_and_body() -> None:
    done = run_cli("invoke", ECHO, "/cookies", "--source", "rest", "--http")
    assert done.returncode == 0
    assert done.stdout == (
        b"HTTP/1.1 200 OK\r\n"
        b"set-cookie: a=1; Path=/\r\n"
        b"set-cookie: b=2; HttpOnly\r\n"
        b"vary: Accept\r\n"
        b"vary: Origin\r\n"
        b"content-type: text/plain; charset=utf-8\r\n"
        b"content-length: 7\r\n"
        b"\r\n"
        b"cookies"
    )


def test_http_shows_cloudfront_headers_by_their_key(cli: Run) -> None:
    done = cli("invoke", ECHO, "/status/204", "--source", "edge", "--http")
    assert done.returncode == 0
    assert done.stdout == b"HTTP/1.1 204 No Content\r\n\r\n"


def test_a_whole_event_from_a_file_answers_in_its_sources_shape(
    tmp_path: Path, invoke_json: Callable[..., tuple[int, Any, str]]
) -> None:
    event = build_event("alb-multi", path="/cookies")
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    status, response, _ = invoke_json(ECHO, "--event", str(event_file))
    assert status == 0
    assert response["statusDescription"] == "200 OK"
    assert response["multiValueHeaders"]["set-cookie"] == ["a=1; Path=/", "b=2; HttpOnly"]


def test_a_whole_event_from_standard_input(
    invoke_json: Callable[..., tuple[int, Any, str]],
) -> None:
    event = build_event("edge", path="/status/201")
    status, response, _ = invoke_json(ECHO, "--event", "-", stdin=json.dumps(event).encode())
    assert status == 0
    assert response["status"] == "201"


def test_an_existing_bridge_handler_is_used_as_it_is(
    invoke_json: Callable[..., tuple[int, Any, str]],
) -> None:
    status, response, _ = invoke_json(f"{APPS}:handler", "/status/202")
    assert (status, response["statusCode"]) == (0, 202)


def test_an_app_by_its_dotted_module_name() -> None:
    done = run_cli("invoke", "tests.local.apps:echo", "/size/3", "--http")
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(b"\r\n\r\nxxx")


def test_a_5xx_answer_exits_1_and_still_prints_the_response(
    invoke_json: Callable[..., tuple[int, Any, str]],
) -> None:
    status, response, _ = invoke_json(ECHO, "/status/503")
    assert (status, response["statusCode"]) == (1, 503)


def test_a_4xx_answer_exits_0(invoke_json: Callable[..., tuple[int, Any, str]]) -> None:
    status, response, _ = invoke_json(ECHO, "/nowhere")
    assert (status, response["statusCode"]) == (0, 404)


def test_an_app_exception_is_lambdas_500_answer() -> None:
    done = run_cli("invoke", ECHO, "/raise")
    assert done.returncode == 1
    assert json.loads(done.stdout)["statusCode"] == 500
    assert b"RuntimeError: raised on purpose" in done.stderr


def test_a_timeout_is_an_invocation_error() -> None:
    # A child process: the timed-out invocation goes on running in the background.
    # The WSGI app blocks in time.sleep, which bridge cannot cancel before the deadline.
    done = run_cli("invoke", f"{APPS}:wsgi_echo", "/sleep/30", "--timeout", "0.5")
    error = json.loads(done.stdout)
    assert done.returncode == 1
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"] == "Task timed out after 0.50 seconds"
    assert b"Sandbox.Timedout: Task timed out after 0.50 seconds" in done.stderr
    # The process ends without waiting for the stuck invocation or tripping over its loop.
    assert b"Exception ignored" not in done.stderr
    assert b"Traceback" not in done.stderr


def test_an_async_app_past_the_deadline_is_bridges_504(
    invoke_json: Callable[..., tuple[int, Any, str]],
) -> None:
    """bridge cancels an ASGI app still awaiting timeout_margin_ms (500) before the deadline."""
    status, response, _ = invoke_json(ECHO, "/sleep/30", "--timeout", "0.6")
    assert status == 1
    assert (response["statusCode"], response["body"]) == (504, "Gateway Timeout")


def test_a_response_over_6_mb_is_bridges_500(
    invoke_json: Callable[..., tuple[int, Any, str]],
) -> None:
    """bridge measures the response before Lambda would refuse it."""
    status, response, _ = invoke_json(ECHO, f"/size/{6 * 1024 * 1024}")
    assert status == 1
    assert response["statusCode"] == 500
    assert "too large for AWS Lambda" in response["body"]


def test_a_request_over_6_mb_never_reaches_the_app(
    tmp_path: Path, invoke_json: Callable[..., tuple[int, Any, str]]
) -> None:
    data = tmp_path / "big.txt"
    data.write_bytes(b"x" * (6 * 1024 * 1024))
    status, error, _ = invoke_json(ECHO, "/echo", "--data-binary", f"@{data}")
    assert status == 1
    assert error["errorType"] == "RequestEntityTooLarge"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere.py:app"], "no such file: 'nowhere.py'"),
        (["no_such_module:app"], "cannot import 'no_such_module'"),
        ([f"{APPS}:missing"], "'tests.local.apps' has no attribute 'missing'"),
        ([f"{APPS}:settings"], "is a dict, not an ASGI or WSGI app"),
        ([ECHO, "--event", "no-such-event.json"], "cannot read the event file"),
        ([ECHO, "--data-binary", "@no-such-body"], "cannot read the data file"),
        ([ECHO, "--event", "setup.py"], "the event file 'setup.py' is not JSON"),
        ([ECHO, "--event", "-", "/path"], "--event takes a whole event"),
        ([ECHO, "-H", "no colon"], "--header must look like 'Name: value'"),
        ([ECHO, "relative/path"], "PATH must start with '/'"),
        ([ECHO, "--source", "soap"], "argument --source: invalid choice: 'soap'"),
        ([ECHO, "--timeout", "0"], "argument --timeout: must be more than 0"),
        ([ECHO, "-d", "a", "--data-binary", "b"], "not allowed with argument"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    args: list[str], message: str, in_root: None, capfd: pytest.CaptureFixture[str]
) -> None:
    status = main_status(["invoke", *args])
    out, err = capfd.readouterr()
    assert status == 2
    assert err.startswith("python -m bridge invoke: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert out == ""


def test_an_event_that_is_not_an_object_is_bad_input() -> None:
    done = run_cli("invoke", ECHO, "--event", "-", stdin=b"[1, 2]")
    assert done.returncode == 2
    assert done.stderr.endswith(b"holds a JSON list, not an object\n")


def test_an_event_of_no_http_source_points_to_non_http_path(cli: Run) -> None:
    done = cli("invoke", ECHO, "--event", "-", stdin=b'{"hello": "world"}')
    assert done.returncode == 2
    assert b"the event is not one of an HTTP source" in done.stderr
    assert done.stderr.endswith(b"use --non-http-path PATH to deliver it to the app\n")


def test_source_with_a_whole_event_is_refused(cli: Run) -> None:
    event = json.dumps(build_event("rest", path="/echo")).encode()
    done = cli("invoke", ECHO, "--event", "-", "--source", "alb", stdin=event)
    assert done.returncode == 2
    assert done.stderr == (
        b"python -m bridge invoke: error: --event takes a whole event, whose source is read "
        b"from it; drop PATH, --source, --method, --header and --data\n"
    )
    assert done.stdout == b""


def test_the_help_of_serve_offers_only_its_own_options() -> None:
    done = run_cli("serve", "--help")
    assert done.returncode == 0
    assert b"--event" not in done.stdout
    assert b"--reload" in done.stdout
    assert b"--stage" in done.stdout


def test_quiet_hides_the_info_lines_of_an_asgi_django_app() -> None:
    app = "examples/django_project/mysite/asgi.py:application"
    loud = run_cli("invoke", app, "/")
    assert loud.returncode == 0, loud.stderr
    assert b"INFO bridge.lifespan: The application does not support the lifespan" in loud.stderr
    quiet = run_cli("invoke", app, "/", "--quiet")
    assert quiet.returncode == 0
    assert own_stderr(quiet) == b""
    assert json.loads(quiet.stdout)["statusCode"] == json.loads(loud.stdout)["statusCode"]


def test_quiet_keeps_warnings(tmp_path: Path) -> None:
    app = tmp_path / "warns.py"
    app.write_text(
        "import logging\n"
        "def app(environ, start_response):\n"
        "    logging.getLogger('app').info('hidden')\n"
        "    logging.getLogger('app').warning('shown')\n"
        "    start_response('200 OK', [])\n"
        "    return [b'']\n"
    )
    done = run_cli("invoke", f"{app}:app", "-q")
    assert done.returncode == 0
    assert done.stderr.decode().endswith("WARNING app: shown\n")
    assert b"hidden" not in done.stderr


def test_an_app_failing_at_import_shows_its_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken_app.py"
    broken.write_text("raise RuntimeError('no config')\n")
    done = run_cli("invoke", f"{broken}:app")
    assert done.returncode == 1
    stderr = done.stderr.decode()
    assert f"importing '{broken}:app' failed" in stderr
    assert "Traceback" in stderr
    assert stderr.rstrip().endswith("RuntimeError: no config")
