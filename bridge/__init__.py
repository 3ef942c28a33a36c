"""bridge: run any Python web app (WSGI or ASGI) on AWS Lambda.

from bridge import Bridge
handler = Bridge(app)

Import time is part of every cold start, so the modules ``import bridge``
loads (the WSGI path) load no standard-library module they can do without:
not ``asyncio`` or ``logging`` (loaded by the first ASGI app and the first
log record), and not ``typing``.  Those modules spell
``typing.TYPE_CHECKING`` as ``TYPE_CHECKING = False``, which type checkers
read as ``typing.TYPE_CHECKING``, and keep every ``typing`` and
``collections.abc`` name they use for annotations inside
``if TYPE_CHECKING:``.  ``tests/test_imports.py`` holds them to it.
"""

from bridge.adapter import Bridge
from bridge.errors import (
    ApplicationError,
    BridgeError,
    ConfigurationError,
    LifespanError,
    LoopError,
    MalformedEventError,
    ProtocolError,
    UnknownEventError,
)
from bridge.sources.base import EventSource, SourceConfig

__version__ = "0.1.0"

__all__ = [
    "ApplicationError",
    "Bridge",
    "BridgeError",
    "ConfigurationError",
    "EventSource",
    "LifespanError",
    "LoopError",
    "MalformedEventError",
    "ProtocolError",
    "SourceConfig",
    "UnknownEventError",
    "__version__",
]
