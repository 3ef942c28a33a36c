"""Sending to any connection of a WebSocket API: the store lists them, the
Management API delivers.

Inside an application, ``connections(scope)`` gives the :class:`Connections`
of the invocation (and the async helpers in :mod:`bridge.websocket` wrap it);
elsewhere, for example in a scheduled function, build one yourself::

    Connections.open("dynamodb://ws-connections?region=eu-west-1",
                     "https://abc123.execute-api.eu-west-1.amazonaws.com/prod")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge._log import get_logger
from bridge.websocket.errors import ConnectionGoneError, ManagementAPIError, WebSocketError
from bridge.websocket.management import ManagementClient, client_for
from bridge.websocket.stores import ConnectionStore, close_store, open_store

logger = get_logger("bridge.websocket.connections")

#: The key of bridge's entry in ``scope["extensions"]``.
EXTENSION = "bridge.websocket"

#: Most Management API calls a broadcast makes at once.
BROADCAST_THREADS = 8


@dataclass
class BroadcastResult:
    """Where a broadcast went: delivered, gone (and removed from the store), failed."""

    sent: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class LazyManagementClient:
    """A Management API client made on first use, so events that send nothing
    need neither boto3 nor the time to create a client."""

    def __init__(self, endpoint_url: str, factory: Callable[[str], ManagementClient]) -> None:
        self.endpoint_url = endpoint_url
        self._factory = factory
        self._client: ManagementClient | None = None
        self._lock = threading.Lock()

    def get(self) -> ManagementClient:
        with self._lock:
            if self._client is None:
                self._client = self._factory(self.endpoint_url)
            return self._client

    def post_to_connection(self, connection_id: str, data: bytes) -> None:
        self.get().post_to_connection(connection_id, data)

    def delete_connection(self, connection_id: str) -> None:
        self.get().delete_connection(connection_id)

    def close(self) -> None:
        client, self._client = self._client, None
        close = getattr(client, "close", None)
        if callable(close):
            close()


class Connections:
    """The open connections of one WebSocket API stage.

    Every method blocks (store and Management API calls); from async code use
    the helpers of :mod:`bridge.websocket`, which run them in a worker thread.

    ``deadline`` (a ``time.monotonic()`` time; bridge sets it to the
    invocation's time limit) is when :meth:`broadcast` stops waiting.
    """

    def __init__(
        self,
        store: ConnectionStore,
        management: ManagementClient,
        *,
        deadline: float | None = None,
    ) -> None:
        self.store = store
        self.management = management
        self.deadline = deadline

    @classmethod
    def open(cls, store: str | ConnectionStore, endpoint: str | ManagementClient) -> Connections:
        """From a store URL (or store) and a Management API endpoint URL (or client)."""
        client = client_for(endpoint) if isinstance(endpoint, str) else endpoint
        return cls(open_store(store), client)

    def close_resources(self) -> None:
        """Close the store and the Management API client, when they can be closed."""
        close_store(self.store)
        close_store(self.management)

    def ids(self) -> list[str]:
        """The ids of every stored connection."""
        return list(self.store.connections())

    def send(self, connection_id: str, data: str | bytes) -> bool:
        """Send one message; ``False`` if the connection is gone (its record is removed)."""
        try:
            self.management.post_to_connection(connection_id, _data(data))
        except ConnectionGoneError:
            self.store.delete(connection_id)
            return False
        return True

    def broadcast(self, data: str | bytes, *, exclude: Collection[str] = ()) -> BroadcastResult:
        """Send one message to every stored connection except ``exclude``.

        The sends run side by side (``BROADCAST_THREADS`` at a time), so an
        unreachable connection delays no other; at the ``deadline`` the
        broadcast stops waiting, and the connections not reached by then are
        listed as failed.  Gone connections are removed from the store; other
        failures are logged and listed in the result, and the broadcast goes on.
        """
        payload = _data(data)
        result = BroadcastResult()
        targets = [c for c in self.store.connections() if c not in exclude]
        if not targets:
            return result
        from concurrent.futures import ThreadPoolExecutor, wait

        timeout = None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)
        pool = ThreadPoolExecutor(
            max_workers=min(BROADCAST_THREADS, len(targets)),
            thread_name_prefix="bridge-broadcast",
        )
        try:
            futures = [pool.submit(self.management.post_to_connection, c, payload) for c in targets]
            done = wait(futures, timeout=timeout).done
        finally:
            # Sends still running go on in the background, each bounded by
            # its client's own timeouts; those not started are dropped.
            pool.shutdown(wait=False, cancel_futures=True)
        unexpected: BaseException | None = None
        late = 0
        for connection_id, future in zip(targets, futures, strict=True):
            if future not in done:
                late += 1
                result.failed[connection_id] = "not sent: the invocation's time limit was reached"
                continue
            exc = future.exception()
            if exc is None:
                result.sent.append(connection_id)
            elif isinstance(exc, ConnectionGoneError):
                self.store.delete(connection_id)
                result.gone.append(connection_id)
            elif isinstance(exc, ManagementAPIError):
                logger.warning("Broadcast to connection %s failed: %s", connection_id, exc)
                result.failed[connection_id] = str(exc)
            elif unexpected is None:
                unexpected = exc
        if late:
            logger.warning(
                "Broadcast stopped at the invocation's time limit (the Lambda deadline minus "
                "timeout_margin_ms): %d of %d connections not reached.",
                late,
                len(targets),
            )
        if unexpected is not None:
            raise unexpected
        return result

    def close(self, connection_id: str) -> None:
        """Close a connection and remove its record."""
        self.management.delete_connection(connection_id)
        self.store.delete(connection_id)


def extension(scope: Mapping[str, Any]) -> dict[str, Any]:
    """bridge's entry in the scope's extensions; a clear error outside bridge."""
    extensions = scope.get("extensions") or {}
    entry = extensions.get(EXTENSION)
    if not isinstance(entry, dict):
        raise WebSocketError(
            f"This scope (type {scope.get('type')!r}) has no {EXTENSION!r} extension: the "
            "helpers of bridge.websocket work inside a WebSocket connection that bridge "
            "serves on Lambda (or python -m bridge serve). Under another server, keep your "
            "own list of connections."
        )
    return entry


def _data(data: str | bytes) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"Expected str or bytes to send, got {type(data).__name__}.")
