"""PostgreSQL connection store (``pip install 'bridge-lambda[postgres]'``, psycopg 3).

``postgresql://user:password@host:port/dbname`` (``postgres://`` too).
Options: ``ttl`` (seconds a record lives, default 7200) and ``table``
(default ``bridge_websocket_connections``, created when missing); every other
query option goes to libpq (``sslmode=``, ``connect_timeout=``...).

One connection is opened on first use and kept for the life of the process;
if it has died (a frozen Lambda instance, a restarted server) it is replaced
once before an error is raised.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from bridge._log import get_logger
from bridge.websocket.errors import MissingDependencyError, WebSocketConfigurationError
from bridge.websocket.stores.base import StoreURL, expiry, now, unreachable
from bridge.websocket.types import ConnectionRecord

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")
logger = get_logger("bridge.websocket.stores.postgres")
DEFAULT_TABLE = "bridge_websocket_connections"
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")
REMEDY = (
    "Check that the PostgreSQL server in the store URL is running and reachable from this "
    "function, and that the user may create and write the table."
)


class PostgresStore:
    """Connection records in one PostgreSQL table (``jsonb`` records)."""

    def __init__(self, conninfo: str, *, ttl: int, table: str = DEFAULT_TABLE) -> None:
        try:
            import psycopg
            from psycopg import sql
        except ImportError:
            raise MissingDependencyError(
                "The PostgreSQL WebSocket store", "psycopg", "postgres"
            ) from None
        if not _TABLE_NAME.fullmatch(table):
            raise WebSocketConfigurationError(
                f"PostgreSQL store: 'table' must be a plain name or schema.name of letters, "
                f"digits and underscores, got {table!r}."
            )
        self.ttl = ttl
        self.table = table
        self._psycopg = psycopg
        self._conninfo = conninfo
        self._where = StoreURL(conninfo).redacted()
        self._conn: psycopg.Connection[Any] | None = None
        name = sql.Identifier(*table.split("."))
        self._sql = {
            "schema": sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (connection_id text PRIMARY KEY, "
                "record jsonb NOT NULL, expires_at timestamptz NOT NULL)"
            ).format(name),
            "save": sql.SQL(
                "INSERT INTO {} (connection_id, record, expires_at) "
                "VALUES (%s, %s, to_timestamp(%s)) "
                "ON CONFLICT (connection_id) DO UPDATE "
                "SET record = EXCLUDED.record, expires_at = EXCLUDED.expires_at"
            ).format(name),
            "purge": sql.SQL("DELETE FROM {} WHERE expires_at <= to_timestamp(%s)").format(name),
            "load": sql.SQL(
                "SELECT record FROM {} WHERE connection_id = %s AND expires_at > to_timestamp(%s)"
            ).format(name),
            "delete": sql.SQL("DELETE FROM {} WHERE connection_id = %s").format(name),
            "list": sql.SQL(
                "SELECT connection_id FROM {} WHERE expires_at > to_timestamp(%s) "
                "ORDER BY connection_id"
            ).format(name),
        }

    @classmethod
    def from_url(cls, url: StoreURL) -> PostgresStore:
        ttl = url.take_ttl()
        table = url.take("table", DEFAULT_TABLE) or DEFAULT_TABLE
        return cls(url.without_options(url.options), ttl=ttl, table=table)

    def __repr__(self) -> str:
        return f"PostgresStore({self._where!r}, table={self.table!r})"

    def _connect(self) -> psycopg.Connection[Any]:
        conn = self._psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
        try:
            conn.execute(self._sql["schema"])
        except BaseException:
            conn.close()
            raise
        return conn

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def _run(self, action: str, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        broken = (self._psycopg.OperationalError, self._psycopg.InterfaceError)
        try:
            try:
                return work(self._connection())
            except broken as exc:
                conn = self._conn
                self.close()
                if conn is not None and not (conn.closed or conn.broken):
                    raise
                logger.info("PostgreSQL store %s: reconnecting after %s", self._where, exc)
            return work(self._connection())
        except self._psycopg.Error as exc:
            if isinstance(exc, broken):
                self.close()
            raise unreachable(self._where, action, exc, REMEDY) from exc

    def save(self, connection_id: str, record: ConnectionRecord) -> None:
        from psycopg.types.json import Jsonb

        def work(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                conn.execute(self._sql["purge"], (now(),))
                conn.execute(self._sql["save"], (connection_id, Jsonb(record), expiry(self.ttl)))

        self._run("save a connection", work)

    def load(self, connection_id: str) -> ConnectionRecord | None:
        def work(conn: psycopg.Connection[Any]) -> Any:
            return conn.execute(self._sql["load"], (connection_id, now())).fetchone()

        row = self._run("load a connection", work)
        if row is None:
            return None
        record: ConnectionRecord = row[0]
        return record

    def delete(self, connection_id: str) -> None:
        self._run(
            "delete a connection",
            lambda conn: conn.execute(self._sql["delete"], (connection_id,)),
        )

    def connections(self) -> list[str]:
        rows = self._run(
            "list connections", lambda conn: conn.execute(self._sql["list"], (now(),)).fetchall()
        )
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        """Close the connection to the server; the next operation opens a new one."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
