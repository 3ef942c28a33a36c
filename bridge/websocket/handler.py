"""One WebSocket event through an ASGI application: load or build the scope,
run the WebSocket cycle on the process loop, then save or forget the
connection and answer API Gateway."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bridge._log import get_logger
from bridge.asgi.loop import LoopRunner
from bridge.asgi.runner import time_limit
from bridge.body import BodySerializer
from bridge.errors import MalformedEventError
from bridge.types import ASGIApp, LambdaContext, LambdaEvent, LambdaResponse
from bridge.websocket import source
from bridge.websocket.connections import EXTENSION, Connections, LazyManagementClient
from bridge.websocket.cycle import WebSocketCycle
from bridge.websocket.errors import UnknownConnectionError, WebSocketConfigurationError
from bridge.websocket.management import ManagementClient, client_for
from bridge.websocket.records import record_to_scope, scope_to_record
from bridge.websocket.stores import ConnectionStore, close_store, open_store

if TYPE_CHECKING:
    from bridge.asgi.runner import Watchdog

logger = get_logger("bridge.websocket")

ClientFactory = Callable[[str], ManagementClient]


class WebSocketHandler:
    """The WebSocket side of a :class:`~bridge.Bridge`."""

    def __init__(
        self,
        store: object | None,
        endpoint: str | ManagementClient | None = None,
        path: str = "/",
    ) -> None:
        if not isinstance(path, str) or not path.startswith("/"):
            raise WebSocketConfigurationError(
                f"websocket_path must be a path starting with '/', such as '/ws'; got {path!r}."
            )
        if endpoint is not None and not isinstance(endpoint, str):
            missing = [
                name
                for name in ("post_to_connection", "delete_connection")
                if not callable(getattr(endpoint, name, None))
            ]
            if missing:
                raise WebSocketConfigurationError(
                    "websocket_endpoint must be a Management API URL or an object with "
                    f"post_to_connection and delete_connection; got {endpoint!r}, which lacks "
                    f"{', '.join(missing)}."
                )
        self.store: ConnectionStore | None = None if store is None else open_store(store)
        #: Stores given as URLs are bridge's to close; objects belong to the caller.
        self._owns_store = isinstance(store, str)
        self.endpoint = endpoint
        self.path = path
        self._clients: dict[str, LazyManagementClient] = {}

    def management(self, endpoint_url: str | None) -> ManagementClient:
        """The Management API client for an event's endpoint, or the configured one."""
        if self.endpoint is not None and not isinstance(self.endpoint, str):
            return self.endpoint
        url = self.endpoint or endpoint_url or ""
        client = self._clients.get(url)
        if client is None:
            client = self._clients[url] = LazyManagementClient(url, _client_for)
        return client

    def handle(
        self,
        event: LambdaEvent,
        context: LambdaContext | None,
        *,
        app: ASGIApp,
        runner: LoopRunner,
        state: dict[str, Any] | None,
        serializer: BodySerializer,
        watchdog: Watchdog | None = None,
        margin_ms: int | None = None,
    ) -> LambdaResponse:
        """Serve one WebSocket event; with a ``watchdog``, the app is cancelled
        at the Lambda deadline minus ``margin_ms``, and broadcasts stop there."""
        try:
            request = source.to_request(event, context, path=self.path)
        except MalformedEventError as exc:
            logger.warning("Rejected a WebSocket event: %s", exc)
            return {"statusCode": exc.status, "body": f"Bad request: {exc}"}
        store = self.store
        if store is None:
            raise WebSocketConfigurationError(
                f"Received a WebSocket {request.event_type} event, but no connection store is "
                "configured, so the connection could not be found again on its next message. "
                "Pass one: Bridge(app, websocket_store='dynamodb://TABLE?region=REGION') (or "
                "redis://, postgresql://; sqlite:///file.db for local runs)."
            )
        connection_id = request.connection_id
        connect_scope = request.scope
        if connect_scope is not None:
            scope: dict[str, Any] = dict(connect_scope)
        else:
            record = store.load(connection_id)
            if record is None:
                if request.event_type == "DISCONNECT":
                    logger.info(
                        "WebSocket connection %s is not in the store (already closed); "
                        "nothing to do for its DISCONNECT.",
                        connection_id,
                    )
                    return {"statusCode": 200}
                raise UnknownConnectionError(
                    f"WebSocket MESSAGE for connection {connection_id!r}, which the store "
                    f"{store!r} does not know. Its $connect must run through this Bridge "
                    "with the same websocket_store, and the record may have expired (ttl)."
                )
            scope = dict(record_to_scope(record, connection_id))
        management = self.management(request.endpoint_url)
        scope["aws.event"] = event
        scope["aws.context"] = context
        if state is not None:
            scope["state"] = state.copy()
        limit = time_limit(scope, margin_ms)
        scope["extensions"] = {
            "websocket.http.response": {},
            EXTENSION: {
                "connection_id": connection_id,
                "event_type": request.event_type,
                "route_key": request.route_key,
                "connections": Connections(
                    store, management, deadline=None if limit is None else time.monotonic() + limit
                ),
            },
        }
        cycle = WebSocketCycle(
            request.event_type,
            connection_id,
            management,
            message=request.message,
            close_code=request.close_code,
            close_reason=request.close_reason,
        )
        if watchdog is None:
            runner.run(cycle.run(app, scope))
        else:
            watch = watchdog.watch
            runner.run(cycle.run(app, scope), lambda task: watch(cycle, task))

        if connect_scope is not None:
            if cycle.accepted:
                store.save(
                    connection_id,
                    scope_to_record(
                        connect_scope,
                        subprotocol=cycle.subprotocol,
                        endpoint_url=getattr(management, "endpoint_url", request.endpoint_url)
                        or None,
                    ),
                )
            return source.to_response(cycle.status, cycle.headers, bytes(cycle.body), serializer)
        if cycle.peer_closed:
            store.delete(connection_id)
        if cycle.timed_out is not None:
            return {"statusCode": 504}
        return {"statusCode": 500 if cycle.error is not None else 200}

    def close(self) -> None:
        """Close the store and the Management API clients this handler opened."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        if self.store is not None and self._owns_store:
            close_store(self.store)


def _client_for(endpoint_url: str) -> ManagementClient:
    if not endpoint_url:
        raise WebSocketConfigurationError(
            "The WebSocket event has no requestContext.domainName, so the Management API "
            "endpoint cannot be derived from it. Pass it: Bridge(app, websocket_endpoint="
            "'https://API_ID.execute-api.REGION.amazonaws.com/STAGE')."
        )
    return client_for(endpoint_url)
