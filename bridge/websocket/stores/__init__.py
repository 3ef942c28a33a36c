"""Connection stores, chosen by URL.

=====================================================  ===============================
URL                                                    store (extra to install)
=====================================================  ===============================
``sqlite:///connections.db``                           :class:`.SQLiteStore` (none)
``redis://host:6379/0``, ``rediss://...``              :class:`.RedisStore` (``redis``)
``postgresql://user:pw@host/db``, ``postgres://...``   :class:`.PostgresStore` (``postgres``)
``dynamodb://TABLE?region=REGION``                     :class:`.DynamoDBStore` (``dynamodb``)
=====================================================  ===============================

Every URL takes ``?ttl=SECONDS`` (default 7200, API Gateway's longest
connection).  An object with ``save``, ``load``, ``delete`` and
``connections`` can be used instead of a URL.
"""

from __future__ import annotations

from typing import Any

from bridge.websocket.errors import WebSocketConfigurationError
from bridge.websocket.stores.base import DEFAULT_TTL, ConnectionStore, StoreURL

__all__ = ["DEFAULT_TTL", "ConnectionStore", "StoreURL", "close_store", "open_store"]

_EXAMPLES = (
    "sqlite:///connections.db, redis://host:6379/0, postgresql://user:password@host/db "
    "or dynamodb://TABLE?region=REGION"
)
_METHODS = ("save", "load", "delete", "connections")


def open_store(store: object) -> ConnectionStore:
    """A connection store from a URL, or ``store`` itself when it has the four methods."""
    if isinstance(store, str):
        return _from_url(store)
    missing = [name for name in _METHODS if not callable(getattr(store, name, None))]
    if missing:
        raise WebSocketConfigurationError(
            f"websocket_store must be a URL ({_EXAMPLES}) or an object with the methods "
            f"{', '.join(_METHODS)}; got {store!r}, which lacks {', '.join(missing)}."
        )
    result: ConnectionStore = store  # type: ignore[assignment]
    return result


def close_store(store: object) -> None:
    """Close a store that has a ``close()`` method (the built-in ones do)."""
    close = getattr(store, "close", None)
    if callable(close):
        close()


def _from_url(raw: str) -> ConnectionStore:
    url = StoreURL(raw)
    scheme = url.scheme
    cls: Any
    if scheme == "sqlite":
        from bridge.websocket.stores.sqlite import SQLiteStore as cls
    elif scheme in ("redis", "rediss"):
        from bridge.websocket.stores.redis import RedisStore as cls
    elif scheme in ("postgresql", "postgres"):
        from bridge.websocket.stores.postgres import PostgresStore as cls
    elif scheme == "dynamodb":
        from bridge.websocket.stores.dynamodb import DynamoDBStore as cls
    else:
        shown = f"{scheme!r}" if scheme else "no scheme"
        raise WebSocketConfigurationError(
            f"websocket_store URL {url.redacted()!r} has {shown}; expected one of sqlite, "
            f"redis, rediss, postgresql, postgres, dynamodb, e.g. {_EXAMPLES}."
        )
    store: ConnectionStore = cls.from_url(url)
    return store
