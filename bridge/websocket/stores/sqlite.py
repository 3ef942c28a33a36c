"""SQLite connection store: a file on the local disk, for local runs and tests.

``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` (three
slashes, then the path).  Options: ``ttl`` (seconds a record lives, default
7200) and ``timeout`` (seconds to wait for a locked database, default 5).

Every Lambda instance has its own disk, so this store only suits a single
process (``python -m bridge serve``, tests).  Each operation opens and closes
its own connection: nothing stays open between invocations.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager

from bridge.websocket.errors import WebSocketConfigurationError
from bridge.websocket.stores.base import (
    StoreURL,
    dump_record,
    expiry,
    load_record,
    now,
    unreachable,
)
from bridge.websocket.types import ConnectionRecord

TABLE = "bridge_websocket_connections"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    connection_id TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    expires_at INTEGER NOT NULL
)
"""


class SQLiteStore:
    """Connection records in one table of a SQLite database file."""

    def __init__(self, path: str, *, ttl: int, timeout: float = 5.0) -> None:
        if not path or path == ":memory:":
            raise WebSocketConfigurationError(
                f"SQLite store: expected a database file path, got {path!r}. An in-memory "
                "database would forget every connection between invocations: use "
                "sqlite:///connections.db (relative) or sqlite:////tmp/connections.db (absolute)."
            )
        self.path = path
        self.ttl = ttl
        self.timeout = timeout
        self._ready = False

    @classmethod
    def from_url(cls, url: StoreURL) -> SQLiteStore:
        ttl = url.take_ttl()
        raw_timeout = url.take("timeout", "5")
        url.reject_unknown(["ttl", "timeout"])
        if url.parts.netloc:
            raise WebSocketConfigurationError(
                f"SQLite store URL {url.url!r} names a host ({url.parts.netloc!r}); expected "
                "sqlite:///relative/path.db or sqlite:////absolute/path.db (three slashes "
                "before the path)."
            )
        try:
            timeout = float(raw_timeout or "5")
        except ValueError:
            raise WebSocketConfigurationError(
                f"SQLite store URL {url.url!r}: 'timeout' must be a number of seconds, "
                f"got {raw_timeout!r}."
            ) from None
        return cls(url.parts.path[1:], ttl=ttl, timeout=timeout)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    @contextmanager
    def _db(self, action: str) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.path, timeout=self.timeout)) as db, db:
                if not self._ready:
                    db.execute(SCHEMA)
                    self._ready = True
                yield db
        except sqlite3.Error as exc:
            raise unreachable(
                f"sqlite:///{self.path}",
                action,
                exc,
                "Check that the directory exists and is writable by this process.",
            ) from exc

    def save(self, connection_id: str, record: ConnectionRecord) -> None:
        with self._db("save a connection") as db:
            db.execute(f"DELETE FROM {TABLE} WHERE expires_at <= ?", (now(),))
            db.execute(
                f"INSERT OR REPLACE INTO {TABLE} (connection_id, record, expires_at) "
                "VALUES (?, ?, ?)",
                (connection_id, dump_record(record), expiry(self.ttl)),
            )

    def load(self, connection_id: str) -> ConnectionRecord | None:
        with self._db("load a connection") as db:
            row = db.execute(
                f"SELECT record FROM {TABLE} WHERE connection_id = ? AND expires_at > ?",
                (connection_id, now()),
            ).fetchone()
        if row is None:
            return None
        return load_record(row[0], connection_id, repr(self))

    def delete(self, connection_id: str) -> None:
        with self._db("delete a connection") as db:
            db.execute(f"DELETE FROM {TABLE} WHERE connection_id = ?", (connection_id,))

    def connections(self) -> list[str]:
        with self._db("list connections") as db:
            rows = db.execute(
                f"SELECT connection_id FROM {TABLE} WHERE expires_at > ? ORDER BY rowid",
                (now(),),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        """Nothing stays open between operations; present for symmetry."""
