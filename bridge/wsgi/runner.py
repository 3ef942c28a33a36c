"""How ``Bridge`` serves a WSGI application: on the invoking thread, directly.

Lambda hands one request at a time to one thread, with the whole body known
up front, and takes the whole response back.  A WSGI application is a plain
blocking call, so the handler simply makes it: no event loop, no thread
hand-off, and ``asyncio`` is never imported on this path.  Code that needs an
event loop of its own (``asgiref.sync.async_to_sync`` in Django's async
views and middleware) finds none running and starts its own, as it would
under any threaded WSGI server.
"""

from __future__ import annotations

from bridge.types import Headers, HTTPScope, WSGIApp
from bridge.wsgi.response import run_app


class WSGIRunner:
    """Runs one HTTP request through a WSGI application."""

    __slots__ = ("app",)

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def handle(self, scope: HTTPScope, body: bytes) -> tuple[int, Headers, bytes]:
        return run_app(self.app, scope, body)

    def close(self) -> None:
        """Nothing to release: WSGI has no shutdown protocol."""
