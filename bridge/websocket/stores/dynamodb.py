"""DynamoDB connection store (``pip install 'bridge-lambda[dynamodb]'``, boto3).

``dynamodb://TABLE?region=eu-west-1``.  Options: ``region`` (default: the
function's own region), ``endpoint_url`` (another endpoint, e.g. a local
DynamoDB) and ``ttl`` (seconds a record lives, default 7200).

Table layout (create it with the function; bridge does not create tables):

* partition key ``connection_id`` (String), no sort key;
* ``record`` (String): the connection's JSON record;
* ``expires_at`` (Number): Unix time in seconds; enable DynamoDB TTL on this
  attribute so abandoned records disappear.  Records past it are ignored even
  before DynamoDB removes them.

Reads are strongly consistent, so a MESSAGE that follows its CONNECT at once
finds the record.  The function needs ``dynamodb:GetItem``, ``PutItem``,
``DeleteItem`` and ``Scan`` on the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bridge.websocket.errors import MissingDependencyError, WebSocketConfigurationError
from bridge.websocket.stores.base import (
    StoreURL,
    dump_record,
    expiry,
    load_record,
    now,
    reported,
    unreachable,
)
from bridge.websocket.types import ConnectionRecord

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient

KEY = "connection_id"
RECORD = "record"
EXPIRES = "expires_at"


class DynamoDBStore:
    """Connection records as items of one DynamoDB table."""

    def __init__(
        self,
        table: str,
        *,
        ttl: int,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: DynamoDBClient | None = None,
    ) -> None:
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError, ClientError, NoRegionError
        except ImportError:
            raise MissingDependencyError(
                "The DynamoDB WebSocket store", "boto3", "dynamodb"
            ) from None
        self.table = table
        self.ttl = ttl
        self._errors: tuple[type[Exception], ...] = (BotoCoreError, ClientError)
        if client is None:
            try:
                client = boto3.client(
                    "dynamodb",
                    region_name=region,
                    endpoint_url=endpoint_url,
                    config=Config(connect_timeout=5, read_timeout=5, retries={"max_attempts": 2}),
                )
            except NoRegionError:
                raise WebSocketConfigurationError(
                    f"DynamoDB store for table {table!r}: no AWS region is configured. "
                    f"Add ?region=... to the store URL (dynamodb://{table}?region=us-east-1) "
                    "or set AWS_REGION."
                ) from None
        self._client = client
        self._where = f"dynamodb://{table} ({self._client.meta.endpoint_url})"

    @classmethod
    def from_url(cls, url: StoreURL) -> DynamoDBStore:
        ttl = url.take_ttl()
        region = url.take("region")
        endpoint_url = url.take("endpoint_url")
        url.reject_unknown(["ttl", "region", "endpoint_url"])
        table = url.parts.netloc
        if not table or url.parts.path not in ("", "/"):
            raise WebSocketConfigurationError(
                f"DynamoDB store URL {url.url!r}: expected dynamodb://TABLE?region=REGION "
                "with the table name in place of the host and no path."
            )
        return cls(table, ttl=ttl, region=region or None, endpoint_url=endpoint_url or None)

    def __repr__(self) -> str:
        return f"DynamoDBStore({self._where!r})"

    def _failed(self, action: str, exc: Exception) -> Exception:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            remedy = (
                f"Create the table {self.table!r} with partition key {KEY!r} (String) and "
                f"TTL on {EXPIRES!r}, in the region and account of this function."
            )
        elif code in ("AccessDeniedException", "UnrecognizedClientException"):
            remedy = (
                "Give the function's role dynamodb:GetItem, PutItem, DeleteItem and Scan "
                "on the table."
            )
        else:
            remedy = "Check the table name, region and endpoint in the store URL."
        return unreachable(self._where, action, exc, remedy)

    def save(self, connection_id: str, record: ConnectionRecord) -> None:
        with reported("save a connection", self._errors, self._failed):
            self._client.put_item(
                TableName=self.table,
                Item={
                    KEY: {"S": connection_id},
                    RECORD: {"S": dump_record(record)},
                    EXPIRES: {"N": str(expiry(self.ttl))},
                },
            )

    def load(self, connection_id: str) -> ConnectionRecord | None:
        with reported("load a connection", self._errors, self._failed):
            item = self._client.get_item(
                TableName=self.table, Key={KEY: {"S": connection_id}}, ConsistentRead=True
            ).get("Item")
        if item is None or not _alive(item):
            return None
        return load_record(item[RECORD]["S"], connection_id, repr(self))

    def delete(self, connection_id: str) -> None:
        with reported("delete a connection", self._errors, self._failed):
            self._client.delete_item(TableName=self.table, Key={KEY: {"S": connection_id}})

    def connections(self) -> list[str]:
        with reported("list connections", self._errors, self._failed):
            return list(self._scan())

    def _scan(self) -> Iterator[str]:
        pages = self._client.get_paginator("scan").paginate(
            TableName=self.table,
            ProjectionExpression="#id, #exp",
            ExpressionAttributeNames={"#id": KEY, "#exp": EXPIRES},
            ConsistentRead=True,
        )
        for page in pages:
            for item in page.get("Items", []):
                if _alive(item):
                    yield item[KEY]["S"]

    def close(self) -> None:
        """Close the client's HTTP connections."""
        self._client.close()


def _alive(item: dict[str, Any]) -> bool:
    expires = item.get(EXPIRES, {}).get("N")
    return expires is None or int(expires) > now()
