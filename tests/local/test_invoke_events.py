"""``python -m bridge invoke APP --event FILE --non-http-path PATH``: an event
that is not an HTTP request, through the app, its result printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .running import APPS, ROOT, main_status, own_stderr, run_cli

FLASK = "examples/events_flask.py:app"
FASTAPI = "examples/events_fastapi.py:app"


def sqs_file(folder: Path, *bodies: str) -> str:
    records = [
        {"messageId": f"m{i}", "body": body, "eventSource": "aws:sqs"}
        for i, body in enumerate(bodies)
    ]
    path = folder / "sqs.json"
    path.write_text(json.dumps({"Records": records}))
    return str(path)


@pytest.fixture(autouse=True)
def in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """``main`` run in-process from the repository root; sys.path is restored after."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr("sys.path", list(__import__("sys").path))


@pytest.mark.parametrize("app", [FLASK, FASTAPI])
def test_prints_the_partial_batch_response(tmp_path: Path, app: str) -> None:
    event = sqs_file(tmp_path, '{"quantity": 1}', '{"quantity": 0}')
    done = run_cli("invoke", app, "--event", event, "--non-http-path", "/events")
    assert (done.returncode, own_stderr(done)) == (0, b"")
    assert json.loads(done.stdout) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_an_answer_that_fails_the_invocation(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "kinesis.json"
    event.write_text('{"Records": [{"eventSource": "aws:kinesis", "kinesis": {}}]}')
    status = main_status(["invoke", FLASK, "--event", str(event), "--non-http-path", "/events"])
    out, err = capfd.readouterr()
    assert status == 1
    assert json.loads(out)["errorType"] == "ApplicationError"
    assert err == (
        "python -m bridge invoke: ApplicationError: The application answered POST /events "
        "with status 422: a non-2xx answer to a non-HTTP event fails the invocation. "
        "Body: 'no handler for events from kinesis'.\n"
    )


def test_the_warmup_ping_needs_no_option(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", _stdin('{"source": "serverless-plugin-warmup"}'))
    status = main_status(["invoke", f"{APPS}:echo", "--event", "-"])
    out, err = capfd.readouterr()
    assert (status, json.loads(out), err) == (0, {}, "")


def test_an_http_event_is_still_read_as_http(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    status = main_status(["invoke", f"{APPS}:echo", "/echo", "--non-http-path", "/events"])
    out, err = capfd.readouterr()
    assert (status, err) == (0, "")
    assert json.loads(json.loads(out)["body"])["path"] == "/echo"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [f"{APPS}:handler", "--non-http-path", "/events"],
            "is a Bridge already, so --non-http-path cannot configure it",
        ),
        ([f"{APPS}:echo", "--non-http-path", "events"], "--non-http-path: non_http_path must be"),
    ],
)
def test_bad_uses_of_the_option(
    capfd: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status = main_status(["invoke", *args])
    _, err = capfd.readouterr()
    assert status == 2
    assert message in err


def _stdin(text: str) -> object:
    import io

    return io.TextIOWrapper(io.BytesIO(text.encode()))
