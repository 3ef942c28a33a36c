"""The connection-store protocol and what the built-in stores share.

A connection store keeps one JSON record per open WebSocket connection, so
that every Lambda instance can find the scope of a connection that another
instance accepted.  The protocol is four synchronous methods; any object that
has them can be passed as ``Bridge(app, websocket_store=...)``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol, runtime_checkable
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

from bridge.websocket.errors import StoreError, WebSocketConfigurationError
from bridge.websocket.types import ConnectionRecord

#: API Gateway closes every WebSocket connection after two hours at most, so a
#: record older than that belongs to a connection that no longer exists.
DEFAULT_TTL = 7200


@runtime_checkable
class ConnectionStore(Protocol):
    """Where bridge keeps each open connection between invocations.

    ``save`` replaces any record stored under the same id; ``load`` returns
    ``None`` for an unknown (or expired) id; ``delete`` of an unknown id does
    nothing; ``connections`` lists the ids of every stored connection, for
    broadcasts.  Records are JSON objects.  Methods may block; bridge calls
    them outside the application's coroutines or in a worker thread.
    """

    def save(self, connection_id: str, record: ConnectionRecord) -> None: ...

    def load(self, connection_id: str) -> ConnectionRecord | None: ...

    def delete(self, connection_id: str) -> None: ...

    def connections(self) -> Iterable[str]: ...


class StoreURL:
    """A parsed store URL: the parts, the query options and a printable form."""

    __slots__ = ("options", "parts", "scheme", "url")

    def __init__(self, url: str) -> None:
        self.url = url
        self.parts: SplitResult = urlsplit(url)
        self.scheme = self.parts.scheme.lower()
        self.options: dict[str, str] = dict(parse_qsl(self.parts.query, keep_blank_values=True))

    def take(self, name: str, default: str | None = None) -> str | None:
        """Remove and return a bridge option, so the rest can go to a driver."""
        return self.options.pop(name, default)

    def take_ttl(self) -> int:
        raw = self.take("ttl")
        if raw is None:
            return DEFAULT_TTL
        if not raw.isdigit() or int(raw) <= 0:
            raise WebSocketConfigurationError(
                f"Store URL {self.redacted()}: 'ttl' must be a positive number of seconds, "
                f"got {raw!r}. Use for example ?ttl=7200 (API Gateway's longest connection)."
            )
        return int(raw)

    def without_options(self, keep: Iterable[str] = ()) -> str:
        """The URL with only the query options in ``keep`` left."""
        kept = "&".join(f"{k}={v}" for k, v in self.options.items() if k in keep)
        return urlunsplit(self.parts._replace(query=kept))

    def redacted(self) -> str:
        """The URL with any password replaced, for messages and logs."""
        parts = self.parts
        if parts.password is None:
            return self.url
        netloc = parts.netloc.rpartition("@")
        user = netloc[0].partition(":")[0]
        return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))

    def reject_unknown(self, known: Iterable[str], passed_on: str = "") -> None:
        unknown = sorted(set(self.options) - set(known))
        if unknown:
            to = f" {passed_on}" if passed_on else ""
            raise WebSocketConfigurationError(
                f"Store URL {self.redacted()}: unknown option(s) {', '.join(unknown)}. "
                f"Known options: {', '.join(sorted(known))}{to}."
            )


def expiry(ttl: int) -> int:
    """The Unix time, in seconds, at which a record saved now expires."""
    return int(time.time()) + ttl


def now() -> int:
    return int(time.time())


def dump_record(record: Mapping[str, object]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def load_record(text: str | bytes, connection_id: str, where: str) -> ConnectionRecord:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise StoreError(
            f"{where}: the record of connection {connection_id!r} is not JSON ({exc}). "
            "Delete it; the client has to reconnect."
        ) from exc
    if not isinstance(value, dict):
        raise StoreError(
            f"{where}: the record of connection {connection_id!r} is a JSON "
            f"{type(value).__name__}, expected an object. Delete it; the client has to reconnect."
        )
    return value


@contextmanager
def reported(
    action: str, errors: tuple[type[Exception], ...], failed: Callable[[str, Exception], Exception]
) -> Iterator[None]:
    """Raise ``failed(action, exc)`` (a :class:`StoreError`, see :func:`unreachable`)
    for any of the backend's ``errors`` raised inside."""
    try:
        yield
    except errors as exc:
        raise failed(action, exc) from exc


def unreachable(where: str, action: str, exc: BaseException, remedy: str) -> StoreError:
    """The error raised when a store's backend fails: names store, step, cause, remedy."""
    return StoreError(
        f"WebSocket connection store {where} failed to {action}: "
        f"{type(exc).__name__}: {exc}. {remedy}"
    )
