"""Serving WSGI applications (PEP 3333): :class:`WSGIRunner` (what
``Bridge(wsgi_app)`` uses, :mod:`bridge.wsgi.runner`) and
:class:`WSGIMiddleware` (a WSGI application as an ASGI 3 one).  The environ
comes from :func:`to_environ` (a built-in source's reader) or
:func:`build_environ` (an ASGI scope); :func:`bridge.wsgi.response.respond`
collects every response.
"""

from __future__ import annotations

from bridge.wsgi.environ import CONTEXT_KEY, EVENT_KEY, build_environ, to_environ
from bridge.wsgi.response import run_app
from bridge.wsgi.runner import WSGIRunner

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from typing import Any

    from bridge.wsgi.middleware import WSGIMiddleware, get_executor

__all__ = [
    "CONTEXT_KEY",
    "EVENT_KEY",
    "WSGIMiddleware",
    "WSGIRunner",
    "build_environ",
    "get_executor",
    "run_app",
    "to_environ",
]


def __getattr__(name: str) -> Any:
    # The middleware needs asyncio; import it only for those who use it.
    if name in ("WSGIMiddleware", "get_executor"):
        from bridge.wsgi import middleware

        return getattr(middleware, name)
    raise AttributeError(f"module 'bridge.wsgi' has no attribute {name!r}")
