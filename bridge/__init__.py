"""bridge: run any Python web app (WSGI or ASGI) on AWS Lambda.

from bridge import Bridge
handler = Bridge(app)
"""

from bridge.adapter import Bridge
from bridge.errors import (
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
