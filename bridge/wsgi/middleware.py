"""``WSGIMiddleware``: a WSGI application as an ASGI 3 application, for ASGI
servers and for composing a WSGI application inside an ASGI one
(``Bridge(wsgi_app)`` calls the application directly: :mod:`bridge.wsgi.runner`).
Per request: one hand-off to the process-wide pool (docs/wsgi.rst).
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from bridge.errors import ConfigurationError, ProtocolError
from bridge.types import Message, Receive, Scope, Send, WSGIApp
from bridge.wsgi.response import run_app

THREAD_NAME_PREFIX = "bridge-wsgi"

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def get_executor() -> ThreadPoolExecutor:
    """The process-wide pool WSGI applications run on, created on first use."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(thread_name_prefix=THREAD_NAME_PREFIX)
        return _executor


def _forget_executor_after_fork() -> None:
    global _executor, _executor_lock
    _executor = None
    _executor_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_executor_after_fork)


class WSGIMiddleware:
    """Serve the WSGI application ``app`` as an ASGI 3 application::

        asgi_app = WSGIMiddleware(wsgi_app)

    Serves ``http`` connections; answers ``lifespan`` startup and shutdown
    at once (WSGI has no such events); refuses ``websocket`` connections.
    """

    __slots__ = ("app",)

    def __init__(self, app: WSGIApp) -> None:
        if not callable(app):
            raise ConfigurationError(
                f"WSGIMiddleware expects a WSGI application (a callable), got "
                f"{type(app).__name__}: {app!r}."
            )
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            body = await _read_body(receive)
            if body is None:
                return
            # In a copy of the caller's context: what ASGI middleware set is seen,
            # and what the application sets does not leak back.
            run = contextvars.copy_context().run
            work = get_executor().submit(run, run_app, self.app, scope, body, multithread=True)
            status, headers, content = await asyncio.wrap_future(work)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content, "more_body": False})
        elif kind == "lifespan":
            await _lifespan(receive, send)
        else:
            raise ProtocolError(
                f"A WSGI application can serve 'http' connections only, got {kind!r}."
            )

    def __repr__(self) -> str:
        return f"WSGIMiddleware({self.app!r})"


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None if the client went away first."""
    chunks: list[bytes] = []
    while True:
        message: Message = await receive()
        kind = message.get("type")
        if kind == "http.disconnect":
            return None
        if kind != "http.request":
            raise ProtocolError(f"Expected ASGI message 'http.request', but got {kind!r}.")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        kind = message.get("type")
        if kind == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif kind == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
        else:
            raise ProtocolError(
                f"Expected ASGI message 'lifespan.startup' or 'lifespan.shutdown', got {kind!r}."
            )
