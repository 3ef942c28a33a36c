"""Connection stores: the protocol against every backend, each on a real server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bridge.errors import ConfigurationError
from bridge.websocket import (
    ConnectionStore,
    MissingDependencyError,
    StoreError,
    WebSocketConfigurationError,
    open_store,
)
from bridge.websocket.records import record_to_scope, scope_to_record
from bridge.websocket.stores import base
from bridge.websocket.types import ConnectionRecord
from tests.websocket import servers
from tests.websocket.conftest import REGION, StoreFactory, unique

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient

RECORD: ConnectionRecord = {
    "version": 1,
    "scope": {"path": "/chat", "headers": [["host", "example.com"]], "client": ["1.2.3.4", 0]},
    "subprotocol": None,
    "endpoint_url": "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
    "text": "naïve ☃",
    "numbers": [1, 2.5, True, None],
}


class Clock:
    """Stands in for the ``time`` module of the stores: a settable ``time()``."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(1_800_000_000.0)
    monkeypatch.setattr(base, "time", clock)
    return clock


# ------------------------------------------------------------ the protocol


def test_saved_record_loads_back_unchanged(store: ConnectionStore) -> None:
    store.save("conn-A=", RECORD)
    assert store.load("conn-A=") == RECORD


def test_save_replaces_the_previous_record(store: ConnectionStore) -> None:
    store.save("conn-A=", RECORD)
    store.save("conn-A=", {"version": 1, "other": "value"})
    assert store.load("conn-A=") == {"version": 1, "other": "value"}


def test_unknown_connection_loads_as_none(store: ConnectionStore) -> None:
    assert store.load("never-saved") is None


def test_delete_removes_and_ignores_unknown_ids(store: ConnectionStore) -> None:
    store.save("conn-A=", RECORD)
    store.delete("conn-A=")
    store.delete("never-saved")
    assert store.load("conn-A=") is None


def test_connections_lists_every_stored_id(store: ConnectionStore) -> None:
    for connection_id in ("one=", "two=", "three="):
        store.save(connection_id, RECORD)
    store.delete("two=")
    assert sorted(store.connections()) == ["one=", "three="]


def test_another_instance_sees_the_same_connections(
    store_url: str, make_store: StoreFactory
) -> None:
    first, second = make_store(store_url), make_store(store_url)
    first.save("shared=", RECORD)
    assert second.load("shared=") == RECORD
    assert list(second.connections()) == ["shared="]


def test_a_connection_scope_round_trips_through_the_store(store: ConnectionStore) -> None:
    scope = {
        "type": "websocket",
        "scheme": "wss",
        "http_version": "1.1",
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "query_string": b"room=caf%C3%A9&x=1",
        "headers": [(b"host", b"example.com"), (b"x-name", "café".encode()), (b"x-b", b"\xff")],
        "client": ("203.0.113.7", 0),
        "server": ("example.com", 443),
        "subprotocols": ["chat", "json"],
    }
    store.save("scoped=", scope_to_record(scope, subprotocol="chat", endpoint_url="https://x/y"))
    loaded = store.load("scoped=")
    assert loaded is not None
    assert loaded["subprotocol"] == "chat"
    assert record_to_scope(loaded, "scoped=") == {
        **scope,
        "asgi": {"version": "3.0", "spec_version": "2.4"},
    }


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "dynamodb"])
def test_expired_records_are_ignored(
    kind: str, request: pytest.FixtureRequest, make_store: StoreFactory, clock: Clock
) -> None:
    url = _url_of_kind(kind, request)
    store = make_store(url + "&ttl=60" if "?" in url else url + "?ttl=60")
    store.save("old=", RECORD)
    clock.now += 59
    assert store.load("old=") == RECORD
    clock.now += 2
    assert store.load("old=") is None
    assert list(store.connections()) == []


def _url_of_kind(kind: str, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        tmp_path: Path = request.getfixturevalue("tmp_path")
        return f"sqlite:///{tmp_path}/expiry.db"
    if kind == "postgres":
        return f"{request.getfixturevalue('postgres_url')}?table={unique('expiry_')}"
    table = request.getfixturevalue("dynamodb_table")
    return f"dynamodb://{table}?region={REGION}&endpoint_url={request.getfixturevalue('moto_url')}"


# ------------------------------------------------------- backend specifics


def test_redis_keys_carry_the_ttl(redis_url: str, make_store: StoreFactory) -> None:
    import redis

    prefix = unique("ttl:") + ":"
    store = make_store(f"{redis_url}?prefix={prefix}&ttl=300")
    store.save("c1=", RECORD)
    client = redis.Redis.from_url(redis_url)
    try:
        assert 0 < client.ttl(prefix + "c1=") <= 300
        assert client.get(prefix + "c1=") is not None
    finally:
        client.close()


def test_redis_prefix_keeps_stores_apart(redis_url: str, make_store: StoreFactory) -> None:
    first = make_store(f"{redis_url}?prefix=app*one:")
    second = make_store(f"{redis_url}?prefix=app*two:")
    first.save("c1=", RECORD)
    assert second.load("c1=") is None
    assert list(second.connections()) == []
    assert list(first.connections()) == ["c1="]


def test_redis_skips_keys_under_its_prefix_that_are_not_utf8(
    redis_url: str, make_store: StoreFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A key another program wrote under the prefix, not UTF-8, is no
    connection of bridge's: listing (and so every broadcast) goes on without it."""
    import redis

    prefix = unique("foreign:") + ":"
    store = make_store(f"{redis_url}?prefix={prefix}")
    store.save("c1=", RECORD)
    client = redis.Redis.from_url(redis_url)
    try:
        client.set(prefix.encode() + b"\xff\xfe-not-utf8", b"{}")
    finally:
        client.close()
    with caplog.at_level("WARNING", logger="bridge.websocket.stores.redis"):
        assert list(store.connections()) == ["c1="]
    assert [record.getMessage() for record in caplog.records] == [
        f"Redis store {store!r}: skipped 1 key under the prefix {prefix!r} that is not "
        "UTF-8 (not a connection bridge stored)."
    ]


def test_dynamodb_items_follow_the_documented_layout(
    dynamodb: DynamoDBClient,
    dynamodb_table: str,
    moto_url: str,
    make_store: StoreFactory,
    clock: Clock,
) -> None:
    store = make_store(f"dynamodb://{dynamodb_table}?region={REGION}&endpoint_url={moto_url}")
    store.save("c1=", RECORD)
    item = dynamodb.get_item(TableName=dynamodb_table, Key={"connection_id": {"S": "c1="}})["Item"]
    assert set(item) == {"connection_id", "record", "expires_at"}
    assert item["expires_at"] == {"N": str(1_800_000_000 + 7200)}
    assert "S" in item["record"]
    ttl = dynamodb.describe_time_to_live(TableName=dynamodb_table)["TimeToLiveDescription"]
    assert ttl.get("AttributeName") == "expires_at"


def test_dynamodb_missing_table_names_the_layout(moto_url: str, make_store: StoreFactory) -> None:
    store = make_store(f"dynamodb://no-such-table?region={REGION}&endpoint_url={moto_url}")
    with pytest.raises(StoreError) as info:
        store.load("c1=")
    message = str(info.value)
    assert "ResourceNotFoundException" in message
    assert "Create the table 'no-such-table' with partition key 'connection_id'" in message


def test_dynamodb_without_region_says_how_to_set_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(WebSocketConfigurationError, match=r"\?region="):
        open_store("dynamodb://table")


def test_postgres_reconnects_once_after_the_connection_died(
    postgres_url: str, make_store: StoreFactory
) -> None:
    import psycopg

    store = make_store(f"{postgres_url}?table={unique('reconnect_')}")
    store.save("c1=", RECORD)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND datname = current_database()"
        )
    assert store.load("c1=") == RECORD


def test_postgres_table_name_is_validated(postgres_url: str) -> None:
    with pytest.raises(WebSocketConfigurationError, match="'table' must be a plain name"):
        open_store(f"{postgres_url}?table=x;drop")


def test_sqlite_in_a_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/missing/dir/c.db")
    with pytest.raises(StoreError) as info:
        store.save("c1=", RECORD)
    assert f"{tmp_path}/missing/dir/c.db" in str(info.value)
    assert "directory exists and is writable" in str(info.value)


# ------------------------------------------------------------ unreachable


@pytest.mark.parametrize(
    "template",
    [
        "redis://:s3cret@127.0.0.1:{port}/0",
        "postgresql://bridge:s3cret@127.0.0.1:{port}/postgres",
        "dynamodb://table?region=us-east-1&endpoint_url=http://127.0.0.1:{port}",
    ],
    ids=["redis", "postgres", "dynamodb"],
)
def test_unreachable_server_is_a_clear_store_error(template: str, make_store: StoreFactory) -> None:
    store = make_store(template.format(port=servers.closed_port()))
    with pytest.raises(StoreError) as info:
        store.save("c1=", RECORD)
    message = str(info.value)
    assert "failed to save a connection" in message
    assert "s3cret" not in message
    assert "Check" in message


# ------------------------------------------------------------ configuration


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://host/db", "has 'mysql'; expected one of sqlite, redis"),
        ("connections.db", "has no scheme"),
        ("sqlite:///c.db?ttl=soon", "'ttl' must be a positive number of seconds, got 'soon'"),
        ("sqlite:///c.db?ttl=0", "'ttl' must be a positive number"),
        ("sqlite:///c.db?colour=blue", "unknown option(s) colour"),
        ("sqlite:///c.db?timeout=x", "'timeout' must be a number of seconds"),
        ("sqlite://host/c.db", "names a host ('host')"),
        ("sqlite:///:memory:", "in-memory database would forget every connection"),
        ("sqlite://", "expected a database file path"),
        ("dynamodb:///?region=us-east-1", "expected dynamodb://TABLE?region=REGION"),
        ("dynamodb://t?region=us-east-1&bogus=1", "unknown option(s) bogus"),
    ],
)
def test_bad_store_urls_say_what_was_expected(url: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        open_store(url)
    assert expected in str(info.value)


def test_store_objects_need_the_four_methods() -> None:
    class Partial:
        def save(self, connection_id: str, record: ConnectionRecord) -> None: ...

    with pytest.raises(ConfigurationError, match="lacks load, delete, connections"):
        open_store(Partial())


def test_any_object_with_the_four_methods_is_a_store() -> None:
    class Memory:
        def __init__(self) -> None:
            self.records: dict[str, ConnectionRecord] = {}

        def save(self, connection_id: str, record: ConnectionRecord) -> None:
            self.records[connection_id] = record

        def load(self, connection_id: str) -> ConnectionRecord | None:
            return self.records.get(connection_id)

        def delete(self, connection_id: str) -> None:
            self.records.pop(connection_id, None)

        def connections(self) -> list[str]:
            return list(self.records)

    memory = Memory()
    assert open_store(memory) is memory
    assert isinstance(memory, ConnectionStore)


@pytest.mark.parametrize(
    ("module", "url", "extra"),
    [
        ("redis", "redis://127.0.0.1/0", "redis"),
        ("psycopg", "postgresql://127.0.0.1/db", "postgres"),
        ("boto3", "dynamodb://table?region=us-east-1", "dynamodb"),
    ],
)
def test_missing_driver_says_which_extra_to_install(
    module: str, url: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError) as info:
        open_store(url)
    assert f"pip install 'bridge-lambda[{extra}]'" in str(info.value)
    assert isinstance(info.value, ImportError)


def test_stored_garbage_is_reported_not_misread(store: ConnectionStore) -> None:
    store.save("odd=", {"version": 99})
    record: Any = store.load("odd=")
    with pytest.raises(StoreError, match="not a bridge connection record"):
        record_to_scope(record, "odd=")
