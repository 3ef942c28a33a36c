"""An ASGI function, deployed as ``asgi_function.handler``."""

from local.apps import echo

from bridge import Bridge

handler = Bridge(echo)
