"""A WSGI function, deployed as ``wsgi_function.handler``."""

from local.apps import wsgi_echo

from bridge import Bridge

handler = Bridge(wsgi_echo)
