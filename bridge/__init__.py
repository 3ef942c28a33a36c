"""bridge: run any Python web app (WSGI or ASGI) on AWS Lambda.

from bridge import Bridge
handler = Bridge(app)

Import time is part of every cold start, so ``import bridge`` (the WSGI
path) loads no ``asyncio``, ``logging`` or ``typing``.  Its modules spell
``typing.TYPE_CHECKING`` as ``TYPE_CHECKING = False`` (type checkers read it
as the real one) and keep annotation-only imports under it;
``tests/test_imports.py`` holds them to it.
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
