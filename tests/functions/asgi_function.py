"""An ASGI function, deployed as ``asgi_function.handler``."""

from bridge import Bridge
from tests.local.apps import echo

handler = Bridge(echo)
