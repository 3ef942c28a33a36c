"""Redis connection store (``pip install 'bridge-lambda[redis]'``).

``redis://[[user]:password@]host[:port][/db]`` or ``rediss://`` for TLS.
Options: ``ttl`` (seconds a record lives, default 7200) and ``prefix`` (key
prefix, default ``bridge:ws:``); every other query option goes to redis-py
(``socket_timeout=``, ``db=``...).

Each connection is one string key ``<prefix><connection id>`` holding the JSON
record, with the TTL as the key's expiry; broadcasts ``SCAN`` the prefix.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bridge._log import get_logger
from bridge.websocket.errors import MissingDependencyError
from bridge.websocket.stores.base import (
    StoreURL,
    dump_record,
    load_record,
    reported,
    unreachable,
)
from bridge.websocket.types import ConnectionRecord

if TYPE_CHECKING:
    import redis

logger = get_logger("bridge.websocket.stores.redis")

DEFAULT_PREFIX = "bridge:ws:"
REMEDY = (
    "Check that the Redis server in the store URL is running and reachable from this "
    "function (VPC, security group, password)."
)


class RedisStore:
    """Connection records as expiring Redis keys."""

    def __init__(self, url: str, *, ttl: int, prefix: str = DEFAULT_PREFIX) -> None:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError:
            raise MissingDependencyError("The Redis WebSocket store", "redis", "redis") from None
        self.ttl = ttl
        self.prefix = prefix
        self._where = StoreURL(url).redacted()
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        # One immediate retry: enough to replace a connection that died while
        # the Lambda instance was frozen, without stalling on a dead server.
        self._client: redis.Redis = redis.Redis.from_url(
            url,
            socket_connect_timeout=5,
            socket_timeout=5,
            retry=Retry(NoBackoff(), 1),
        )

    @classmethod
    def from_url(cls, url: StoreURL) -> RedisStore:
        ttl = url.take_ttl()
        prefix = url.take("prefix", DEFAULT_PREFIX) or DEFAULT_PREFIX
        return cls(url.without_options(url.options), ttl=ttl, prefix=prefix)

    def __repr__(self) -> str:
        return f"RedisStore({self._where!r})"

    def _failed(self, action: str, exc: Exception) -> Exception:
        return unreachable(self._where, action, exc, REMEDY)

    def _key(self, connection_id: str) -> str:
        return self.prefix + connection_id

    def save(self, connection_id: str, record: ConnectionRecord) -> None:
        with reported("save a connection", self._errors, self._failed):
            self._client.set(self._key(connection_id), dump_record(record), ex=self.ttl)

    def load(self, connection_id: str) -> ConnectionRecord | None:
        with reported("load a connection", self._errors, self._failed):
            raw = self._client.get(self._key(connection_id))
        if raw is None:
            return None
        return load_record(raw, connection_id, repr(self))

    def delete(self, connection_id: str) -> None:
        with reported("delete a connection", self._errors, self._failed):
            self._client.delete(self._key(connection_id))

    def connections(self) -> list[str]:
        pattern = re.sub(r"([\\*?\[\]])", r"\\\1", self.prefix) + "*"
        start = len(self.prefix.encode("utf-8"))
        with reported("list connections", self._errors, self._failed):
            keys = list(self._client.scan_iter(match=pattern, count=500))
        ids: list[str] = []
        foreign = 0
        for key in keys:
            try:
                ids.append(key[start:].decode("utf-8"))
            except UnicodeDecodeError:
                # Connection ids are str, so every key bridge writes is UTF-8:
                # this one belongs to another program sharing the prefix.
                foreign += 1
        if foreign:
            logger.warning(
                "Redis store %r: skipped %d key%s under the prefix %r that %s not UTF-8 "
                "(not a connection bridge stored).",
                self,
                foreign,
                "" if foreign == 1 else "s",
                self.prefix,
                "is" if foreign == 1 else "are",
            )
        return ids

    def close(self) -> None:
        """Close the pooled connections to the server."""
        self._client.close()
