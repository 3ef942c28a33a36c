"""How ``Bridge`` serves a WSGI application: directly, on the invoking thread.

A decision: Lambda hands one request at a time to one thread, with the whole
body known, so the blocking call is made right there, with no event loop and
no thread hand-off: over 50x faster than through an ASGI shim
(benchmarks/README.md).  Only a handler called inside a running event loop
runs the application on the WSGI thread pool, since Django's
``async_to_sync`` refuses a thread with a running loop (docs/wsgi.rst).
"""

from __future__ import annotations

import sys
from contextvars import copy_context

from bridge.wsgi.response import WSGIResponse, respond, respond_to_scope

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from bridge.types import HTTPScope, WSGIApp


class WSGIRunner:
    """Runs one HTTP request through a WSGI application."""

    __slots__ = ("app",)

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def handle(self, scope: HTTPScope, body: bytes) -> WSGIResponse:
        """The response to a request given as an ASGI scope (a custom event source)."""
        return _call(respond_to_scope, self.app, scope, body)

    def respond(self, environ: dict[str, Any]) -> WSGIResponse:
        """The response to an environ already built (the built-in event sources)."""
        return _call(respond, self.app, environ)


def _call(function: Callable[..., WSGIResponse], *args: Any) -> WSGIResponse:
    """``function(*args)`` in a copy of this context: on this thread, or, when
    called inside a running event loop, on the WSGI pool, waited for."""
    context = copy_context()  # the request's variables stay in this copy
    asyncio = sys.modules.get("asyncio")  # no running loop without asyncio
    if asyncio is None or asyncio._get_running_loop() is None:
        return context.run(function, *args)
    from bridge.wsgi.middleware import get_executor

    return get_executor().submit(context.run, function, *args).result()
