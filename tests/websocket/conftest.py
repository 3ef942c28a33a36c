"""Fixtures of the WebSocket tests: real servers, stores over every backend,
handlers, and a recording Management API."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from bridge import Bridge
from bridge.websocket.stores import ConnectionStore, close_store, open_store
from tests.websocket import servers
from tests.websocket.apps import Journal, echo, journaled

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient

STORE_KINDS = ("sqlite", "redis", "postgres", "dynamodb")
REGION = "us-east-1"
_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{os.getpid()}x{next(_names)}"


@pytest.fixture(scope="session", autouse=True)
def aws_environment() -> Iterator[None]:
    """Credentials and region for boto3 that point nowhere real."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with servers.moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with servers.redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with servers.postgres_server() as url:
        yield url


@pytest.fixture
def management() -> Iterator[servers.ManagementStub]:
    with servers.management_stub() as stub:
        yield stub


@pytest.fixture
def dynamodb(moto_url: str) -> Iterator[DynamoDBClient]:
    import boto3

    client = boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_url)
    yield client
    client.close()


def create_table(client: DynamoDBClient, name: str) -> None:
    """The documented table layout: key ``connection_id``, TTL on ``expires_at``."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "connection_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "connection_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )


@pytest.fixture
def dynamodb_table(dynamodb: DynamoDBClient) -> str:
    name = unique("connections-")
    create_table(dynamodb, name)
    return name


@pytest.fixture(params=STORE_KINDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL of every kind, isolated for this test."""
    kind: str = request.param
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/connections.db"
    if kind == "redis":
        base: str = request.getfixturevalue("redis_url")
        return f"{base}?prefix={unique('test:')}:"
    if kind == "postgres":
        base = request.getfixturevalue("postgres_url")
        return f"{base}?table={unique('connections_')}"
    table: str = request.getfixturevalue("dynamodb_table")
    moto: str = request.getfixturevalue("moto_url")
    return f"dynamodb://{table}?region={REGION}&endpoint_url={moto}"


StoreFactory = Callable[[str], ConnectionStore]


@pytest.fixture
def make_store() -> Iterator[StoreFactory]:
    """Opens stores from URLs and closes them at teardown."""
    opened: list[ConnectionStore] = []

    def factory(url: str) -> ConnectionStore:
        store = open_store(url)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        close_store(store)


@pytest.fixture
def store(store_url: str, make_store: StoreFactory) -> ConnectionStore:
    return make_store(store_url)


WebSocketHandlerFactory = Callable[..., Bridge]


@pytest.fixture
def make_ws_handler(tmp_path: Path) -> Iterator[WebSocketHandlerFactory]:
    """Bridges for WebSocket apps (SQLite store unless told), closed at teardown."""
    handlers: list[Bridge] = []

    def factory(app: Any, **options: Any) -> Bridge:
        options.setdefault("websocket_store", f"sqlite:///{tmp_path}/handler.db")
        options.setdefault("lifespan", "off")
        handler = Bridge(app, **options)
        handlers.append(handler)
        return handler

    yield factory
    for handler in reversed(handlers):
        handler.close()


@pytest.fixture
def journal() -> Journal:
    return Journal()


@pytest.fixture
def echo_handler(
    make_ws_handler: WebSocketHandlerFactory,
    journal: Journal,
    management: servers.ManagementStub,
) -> Bridge:
    """The echo app, its sends going to the recording Management API."""
    return make_ws_handler(journaled(journal, echo), websocket_endpoint=management.url)


def moto_posts(connection_id: str) -> bytes:
    """Everything posted to a connection of moto's Management API, concatenated."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
    from moto.core.models import DEFAULT_ACCOUNT_ID

    backend = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID][REGION]
    # moto keys connections by the id as it appears in the request path
    connection = backend.connections.get(quote(connection_id, safe=""))
    return b"" if connection is None else connection.data


def moto_deleted(connection_id: str) -> bool:
    """Whether moto's Management API has no such connection (never posted, or deleted)."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
    from moto.core.models import DEFAULT_ACCOUNT_ID

    backend = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID][REGION]
    return quote(connection_id, safe="") not in backend.connections
