"""The exceptions bridge raises.  Every message names what was expected, what
arrived and what to do about it."""

from __future__ import annotations


class BridgeError(Exception):
    """Base class of every exception bridge raises on purpose."""


class ConfigurationError(BridgeError, ValueError):
    """A ``Bridge(...)`` argument is invalid."""


class UnknownEventError(BridgeError):
    """The Lambda event matches none of the configured event sources."""


class MalformedEventError(BridgeError):
    """The event comes from a known source but its content is unusable.

    The handler answers these with an error response (``status``, 400 unless
    said otherwise) instead of raising.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ProtocolError(BridgeError, RuntimeError):
    """The application broke the ASGI or WSGI protocol."""


class LifespanError(BridgeError):
    """Lifespan startup or shutdown failed."""


class LoopError(BridgeError, RuntimeError):
    """The handler was called where it cannot run its event loop."""


class ApplicationError(BridgeError):
    """The application's answer fails the invocation: a non-2xx answer to a
    non-HTTP event (``non_http_path``), or a status listed in
    ``error_statuses``.  Lambda records it as a function error, so the event
    is retried or sent to the function's on-failure destination.

    ``status`` and ``request`` (``"POST /events"``) are the answer's;
    ``body`` is its first bytes.
    """

    def __init__(
        self, message: str, *, status: int = 0, request: str = "", body: bytes = b""
    ) -> None:
        super().__init__(message)
        self.status = status
        self.request = request
        self.body = body
