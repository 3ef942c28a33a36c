"""Every HTTP request sample in ../shared/events, through a real handler.

The samples are real events published by AWS and others; the folder sits
beside the repository and is not part of it, so this module is skipped only
when that folder is absent.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from bridge import Bridge, UnknownEventError
from bridge.sources import EventSource, SourceSelector
from tests.apps import echo_app, wsgi_echo_app
from tests.sources.traits import TRAITS

EVENTS = Path(__file__).resolve().parents[3] / "shared" / "events"
MANIFEST = EVENTS / "MANIFEST.md"

if not MANIFEST.is_file():
    pytest.skip(f"the shared event corpus is absent ({EVENTS})", allow_module_level=True)

#: The folder (kind) of a sample and the sources it may be detected as.
KIND_SOURCES = {
    "alb": {"alb"},
    "apigw-http-v1": {"http-v1", "rest"},
    "apigw-http-v2": {"http"},
    "apigw-rest-v1": {"rest"},
    "cloudfront-edge": {"edge"},
    "function-url": {"url"},
    "vpc-lattice-v1": {"lattice"},
    "vpc-lattice-v2": {"lattice-v2"},
}
RESPONSE_KIND_SOURCE = {
    "alb": "alb",
    "apigw-rest-v1": "rest",
    "apigw-http-v2": "http",
    "function-url": "url",
}


def manifest_rows() -> list[tuple[str, str, str]]:
    """(file, kind, role) for every sample the manifest lists."""
    rows = []
    for line in MANIFEST.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 5 and cells[1].startswith("`") and cells[1].endswith(".json`"):
            rows.append((cells[1].strip("`"), cells[2], cells[4]))
    return rows


ROWS = manifest_rows()
REQUESTS = [(f, k) for f, k, role in ROWS if role == "request" and k in KIND_SOURCES]
RESPONSE_TRIGGERS = [f for f, k, role in ROWS if role == "request+response"]
#: Published responses serialized from a class that has every field of the
#: 1.0 format; HTTP API 2.0 does not read ``multiValueHeaders``.
SERIALIZED_CLASS_ARTIFACTS = {"apigw-http-v2/aws-lambda-java-libs__apigw_v2_http_response.json"}
RESPONSES = [
    (f, k)
    for f, k, role in ROWS
    if role == "response" and k in RESPONSE_KIND_SOURCE and f not in SERIALIZED_CLASS_ARTIFACTS
]


def test_manifest_was_read() -> None:
    assert len(ROWS) >= 100
    assert len(REQUESTS) >= 80


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def request_body(event: dict[str, Any], source: str) -> tuple[bytes | None, bool]:
    """The body bytes the sample carries, and whether its base64 flag lies."""
    if source == "edge":
        block = event["Records"][0]["cf"]["request"].get("body") or {}
        data, flag = block.get("data"), block.get("encoding") == "base64"
    elif source == "lattice":
        data, flag = event.get("body"), event.get("is_base64_encoded")
    else:
        data, flag = event.get("body"), event.get("isBase64Encoded")
    if not data:
        return b"", False
    if flag:
        try:
            return base64.b64decode(data, validate=True), False
        except binascii.Error:
            return None, True
    return data.encode("utf-8"), False


def sample_path(event: dict[str, Any], source: str) -> str:
    """The path the app should see, derived independently from the sample."""
    if source == "edge":
        return unquote(event["Records"][0]["cf"]["request"]["uri"])
    if source == "http":
        return str(event["rawPath"])  # API Gateway already decoded it
    if source == "url":
        return unquote(event["rawPath"])
    if source in ("lattice", "lattice-v2"):
        target = str(event.get("raw_path") or event.get("path"))
        return unquote(target.partition("?")[0])
    path = event["path"] if event["path"].startswith("/") else "/" + event["path"]
    return unquote(path)


@pytest.fixture(scope="module", params=["asgi", "wsgi"])
def handler(request: pytest.FixtureRequest) -> Any:
    """The echo app on both paths: ASGI, and WSGI through the same front end."""
    bridge = Bridge(echo_app if request.param == "asgi" else wsgi_echo_app)
    yield bridge
    bridge.close()


@pytest.mark.parametrize(("name", "kind"), REQUESTS, ids=[f for f, _ in REQUESTS])
def test_request_sample(handler: Bridge, name: str, kind: str) -> None:
    event = load(name)
    selected = SourceSelector().select(event)
    assert isinstance(selected, EventSource)
    source = selected.name
    assert source in KIND_SOURCES[kind]

    response = handler(event, None)
    assert set(response) <= TRAITS[source].response_keys
    assert json.loads(json.dumps(response)) == response

    body, lying_flag = request_body(event, source)
    status = int(response.get("statusCode") or response["status"])
    if lying_flag:  # a sample whose body is flagged base64 but is not
        assert status == 400
        assert "not valid base64" in response["body"]
        return
    assert status == 200
    seen = json.loads(response["body"])
    assert base64.b64decode(seen["body"]) == body
    assert seen["path"].endswith(sample_path(event, source))
    assert seen["path"].startswith(seen["root_path"])
    method = event.get("httpMethod") or event.get("method")
    if source in ("http", "url"):
        method = event["requestContext"]["http"]["method"]
    elif source == "edge":
        method = event["Records"][0]["cf"]["request"]["method"]
    assert seen["method"] == method


@pytest.mark.parametrize("name", RESPONSE_TRIGGERS)
def test_response_trigger_samples_are_not_requests(name: str) -> None:
    with pytest.raises(UnknownEventError, match="viewer- or origin-request"):
        SourceSelector().select(load(name))


@pytest.mark.parametrize(("name", "kind"), RESPONSES, ids=[f for f, _ in RESPONSES])
def test_published_responses_use_only_keys_we_allow(name: str, kind: str) -> None:
    """Our list of accepted response keys agrees with the published responses."""
    assert set(load(name)) <= TRAITS[RESPONSE_KIND_SOURCE[kind]].response_keys


#: Published samples with an authorizer, and the principal REMOTE_USER holds.
AUTHORIZER_SAMPLES = {
    "apigw-rest-v1/aws-lambda-go__apigw-request.json": "admin",
    "apigw-rest-v1/powertools-typescript__apigw-rest-lambda-authorizer-auth.json": "user",
    "apigw-rest-v1/powertools-typescript__apigw-rest-jwt-authorizer-auth.json": (
        "d2f50444-0041-7036-aea2-a955fca33d37"
    ),
    "apigw-http-v1/powertools-python__apiGatewayProxyEvent.json": None,  # claims: null
    "apigw-http-v2/aws-lambda-go__apigw-v2-request-iam.json": "arn:aws:iam::1234567890:user/Admin",
    "apigw-http-v2/aws-lambda-go__apigw-v2-request-jwt-authorizer.json": None,  # no sub claim
    "apigw-http-v2/aws-lambda-go__apigw-v2-request-lambda-authorizer.json": None,
    "apigw-http-v2/voker__apigwv2-request.json": None,  # empty placeholders
    "function-url/aws-lambda-go__lambda-urls-request.json": (
        "arn:aws:iam::111122223333:user/example-user"
    ),
}


@pytest.mark.parametrize("name", sorted(AUTHORIZER_SAMPLES))
def test_a_samples_authorizer_and_principal_reach_the_app(name: str) -> None:
    event = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ)
        start_response("204 No Content", [])
        return []

    Bridge(app)(event, None)

    (environ,) = seen
    assert environ["aws.authorizer"] == event["requestContext"]["authorizer"]
    assert environ.get("REMOTE_USER") == AUTHORIZER_SAMPLES[name]
