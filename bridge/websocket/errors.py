"""The exceptions of bridge's WebSocket support.

Every message names what was expected, what arrived and what to do.
"""

from __future__ import annotations

from bridge.errors import BridgeError, ConfigurationError, ProtocolError


class WebSocketError(BridgeError):
    """Base class of the WebSocket errors bridge raises on purpose."""


class WebSocketConfigurationError(WebSocketError, ConfigurationError):
    """A WebSocket option (store URL or object, Management API endpoint) cannot be used."""


class WebSocketProtocolError(WebSocketError, ProtocolError):
    """The application broke the ASGI WebSocket protocol."""


class MissingDependencyError(WebSocketError, ImportError):
    """A store or client needs an optional dependency that is not installed."""

    def __init__(self, what: str, module: str, extra: str) -> None:
        super().__init__(
            f"{what} needs the '{module}' package, which is not installed. "
            f"Install it with: pip install 'bridge-lambda[{extra}]'"
        )
        self.extra = extra


class StoreError(WebSocketError):
    """The connection store could not be reached or refused an operation."""


class UnknownConnectionError(WebSocketError):
    """A MESSAGE event names a connection that the store does not know."""


class ManagementAPIError(WebSocketError):
    """A call to the API Gateway Management API failed."""


class ConnectionGoneError(ManagementAPIError):
    """The Management API says the connection no longer exists (HTTP 410)."""

    def __init__(self, connection_id: str) -> None:
        super().__init__(f"WebSocket connection {connection_id!r} is gone (HTTP 410).")
        self.connection_id = connection_id


class ClientDisconnected(OSError):
    """Raised into the application when it sends on a connection that is closed.

    ASGI asks servers to raise a subclass of ``OSError`` in that case.
    """
