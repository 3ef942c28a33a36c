"""Every WebSocket sample of the shared event corpus, through a real handler.

The corpus sits beside the repository (``../shared/events``), or beside one
of its parent folders (a worktree), never inside it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bridge import Bridge
from bridge.websocket import source
from bridge.websocket.events import connect_event
from tests.websocket import servers
from tests.websocket.apps import Journal


def find_corpus() -> Path:
    repo = Path(__file__).resolve().parents[2]
    for folder in repo.parents:
        if (folder / "shared" / "events" / "MANIFEST.md").is_file():
            return folder / "shared" / "events"
    return repo.parent / "shared" / "events"


EVENTS = find_corpus()
MANIFEST = EVENTS / "MANIFEST.md"

if not MANIFEST.is_file():
    if os.environ.get("CI"):
        raise RuntimeError(f"the shared event corpus is missing in CI ({EVENTS})")
    pytest.skip(f"the shared event corpus is absent ({EVENTS})", allow_module_level=True)


def websocket_samples() -> list[str]:
    names = []
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 5 and cells[2] == "apigw-websocket" and cells[4] == "request":
            names.append(cells[1].strip("`"))
    return names


SAMPLES = websocket_samples()


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return event


def of_type(event_type: str) -> list[str]:
    return [n for n in SAMPLES if load(n)["requestContext"]["eventType"] == event_type]


def test_the_corpus_has_every_event_type() -> None:
    assert {load(n)["requestContext"]["eventType"] for n in SAMPLES} == {
        "CONNECT",
        "MESSAGE",
        "DISCONNECT",
    }


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_is_detected_as_websocket(name: str) -> None:
    assert source.matches(load(name))


@pytest.mark.parametrize("name", of_type("CONNECT"))
def test_connect_samples_open_a_connection(
    name: str, echo_handler: Bridge, journal: Journal
) -> None:
    event = load(name)
    assert echo_handler(event) == {"statusCode": 200}
    scope = journal.last_scope()
    context = event["requestContext"]
    assert scope["client"] == (context["identity"]["sourceIp"], 0)
    assert scope["path"] == (event.get("path") or "/")
    query = event.get("multiValueQueryStringParameters") or {}
    expected = "&".join(f"{k}={v}" for k, values in query.items() for v in values)
    assert scope["query_string"] == expected.encode()
    store = echo_handler._websocket.store if echo_handler._websocket else None
    assert store is not None
    record = store.load(context["connectionId"])
    assert record is not None
    assert record["endpoint_url"] is not None


@pytest.mark.parametrize("name", of_type("MESSAGE"))
def test_message_samples_reach_the_app(
    name: str, echo_handler: Bridge, journal: Journal, management: servers.ManagementStub
) -> None:
    event = load(name)
    connection = event["requestContext"]["connectionId"]
    echo_handler(connect_event(connection))
    assert echo_handler(event) == {"statusCode": 200}
    assert journal.received[-1] == {
        "type": "websocket.receive",
        "bytes": None,
        "text": event["body"],
    }
    assert management.posts(connection) == [f"echo:{event['body']}".encode()]


@pytest.mark.parametrize("name", of_type("DISCONNECT"))
def test_disconnect_samples_close_the_connection(
    name: str, echo_handler: Bridge, journal: Journal
) -> None:
    event = load(name)
    connection = event["requestContext"]["connectionId"]
    echo_handler(connect_event(connection))
    assert echo_handler(event) == {"statusCode": 200}
    code = event["requestContext"]["disconnectStatusCode"]
    assert journal.received[-1] == {
        "type": "websocket.disconnect",
        "code": code,
        "reason": event["requestContext"]["disconnectReason"],
    }


def test_message_sample_endpoint_is_the_stage_url() -> None:
    name = "apigw-websocket/powertools-python__apiGatewayWebSocketApiMessage.json"
    request = source.to_request(load(name), None)
    assert request.endpoint_url == "https://asasasas.execute-api.us-east-1.amazonaws.com/prod"
    assert request.route_key == "chat"
