"""A WSGI function, deployed as ``wsgi_function.handler``."""

from bridge import Bridge
from tests.local.apps import wsgi_echo

handler = Bridge(wsgi_echo)
