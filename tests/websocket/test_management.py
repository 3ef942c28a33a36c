"""Management API clients: boto3 against moto and a recording server, the
plain HTTP client, and the choice between them."""

from __future__ import annotations

import sys

import pytest

from bridge.errors import ConfigurationError
from bridge.websocket import (
    Boto3ManagementClient,
    ConnectionGoneError,
    HTTPManagementClient,
    ManagementAPIError,
    MissingDependencyError,
)
from bridge.websocket.management import client_for
from bridge.websocket.source import endpoint_for
from tests.websocket import servers
from tests.websocket.conftest import moto_deleted, moto_posts, unique


@pytest.fixture
def boto3_client(moto_url: str) -> Boto3ManagementClient:
    return Boto3ManagementClient(moto_url)


def test_boto3_client_posts_through_moto(moto_url: str) -> None:
    client = Boto3ManagementClient(moto_url)
    connection = unique("post-") + "="
    try:
        client.post_to_connection(connection, b"first|")
        client.post_to_connection(connection, "second ☃".encode())
        assert moto_posts(connection) == "first|second ☃".encode()
        client.delete_connection(connection)
        assert moto_deleted(connection)
    finally:
        client.close()


def test_boto3_client_reports_gone_connections(management: servers.ManagementStub) -> None:
    management.gone.add("left=")
    client = Boto3ManagementClient(management.url)
    try:
        with pytest.raises(ConnectionGoneError) as info:
            client.post_to_connection("left=", b"x")
        assert info.value.connection_id == "left="
        client.delete_connection("left=")  # gone already: nothing to do
        assert [c.method for c in management.calls] == ["POST", "DELETE"]
    finally:
        client.close()


def test_boto3_client_names_the_missing_permission(management: servers.ManagementStub) -> None:
    management.forbidden.add("c1=")
    client = Boto3ManagementClient(management.url)
    try:
        with pytest.raises(ManagementAPIError) as info:
            client.post_to_connection("c1=", b"x")
        assert not isinstance(info.value, ConnectionGoneError)
        message = str(info.value)
        assert "ForbiddenException" in message
        assert "execute-api:ManageConnections" in message
        assert management.url in message
    finally:
        client.close()


def test_boto3_client_unreachable_endpoint_is_a_management_error() -> None:
    client = Boto3ManagementClient(f"http://127.0.0.1:{servers.closed_port()}")
    try:
        with pytest.raises(ManagementAPIError, match="failed to send to connection 'c1='"):
            client.post_to_connection("c1=", b"x")
    finally:
        client.close()


@pytest.mark.parametrize(
    ("endpoint", "region"),
    [
        ("https://abc123.execute-api.eu-west-3.amazonaws.com/prod", "eu-west-3"),
        ("https://chat.example.com/prod", "us-east-1"),
    ],
)
def test_boto3_client_region_comes_from_the_endpoint(endpoint: str, region: str) -> None:
    client = Boto3ManagementClient(endpoint)
    try:
        assert client._client.meta.region_name == region
        assert client._client.meta.endpoint_url == endpoint
    finally:
        client.close()


def test_http_client_posts_and_deletes(management: servers.ManagementStub) -> None:
    client = HTTPManagementClient(management.url + "/")
    client.post_to_connection("a/b=", b"\x00payload")
    client.delete_connection("a/b=")
    assert [(c.method, c.path, c.body) for c in management.calls] == [
        ("POST", "/@connections/a%2Fb%3D", b"\x00payload"),
        ("DELETE", "/@connections/a%2Fb%3D", b""),
    ]


def test_http_client_reports_gone_and_other_failures(management: servers.ManagementStub) -> None:
    management.gone.add("left=")
    management.forbidden.add("no=")
    client = HTTPManagementClient(management.url)
    with pytest.raises(ConnectionGoneError):
        client.post_to_connection("left=", b"x")
    client.delete_connection("left=")
    with pytest.raises(ManagementAPIError, match="HTTP 403"):
        client.post_to_connection("no=", b"x")


def test_http_client_unreachable_says_to_start_the_emulator() -> None:
    client = HTTPManagementClient(f"http://127.0.0.1:{servers.closed_port()}")
    with pytest.raises(ManagementAPIError, match="local emulator is running"):
        client.post_to_connection("c1=", b"x")


@pytest.mark.parametrize(
    "url", ["https://abc.execute-api.us-east-1.amazonaws.com/prod", "http://10.0.0.1:3001"]
)
def test_http_client_refuses_non_loopback_endpoints(url: str) -> None:
    with pytest.raises(ConfigurationError, match="only talks to a local emulator"):
        HTTPManagementClient(url)


def test_client_for_prefers_boto3() -> None:
    client = client_for("http://127.0.0.1:3001")
    assert isinstance(client, Boto3ManagementClient)
    client.close()


def test_client_for_falls_back_to_http_for_loopback_without_boto3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    assert isinstance(client_for("http://localhost:3001"), HTTPManagementClient)
    with pytest.raises(MissingDependencyError, match=r"pip install 'bridge-lambda\[websockets\]'"):
        client_for("https://abc.execute-api.us-east-1.amazonaws.com/prod")


@pytest.mark.parametrize(
    ("domain", "stage", "expected"),
    [
        (
            "abc.execute-api.us-east-1.amazonaws.com",
            "prod",
            "https://abc.execute-api.us-east-1.amazonaws.com/prod",
        ),
        ("ws.example.com", "$default", "https://ws.example.com"),
        ("ws.example.com", None, "https://ws.example.com"),
        (None, "prod", None),
    ],
)
def test_endpoint_is_derived_from_domain_and_stage(
    domain: str | None, stage: str | None, expected: str | None
) -> None:
    assert endpoint_for(domain, stage) == expected
