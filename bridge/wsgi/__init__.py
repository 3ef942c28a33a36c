"""Serving WSGI applications (PEP 3333).

* :class:`WSGIRunner` is what ``Bridge(wsgi_app)`` uses: the application is
  called directly on the thread Lambda invokes the handler on, with no event
  loop and no thread hand-off (``asyncio`` is not even imported).
* :class:`WSGIMiddleware` wraps a WSGI application as an ASGI 3 application
  for any ASGI server; it runs the application on one process-wide thread
  pool, with one hand-off per request.

For the built-in event sources the environ is built straight from the text
the source read (:func:`to_environ`, the builder its reader hands the fields
to); from an ASGI scope (the middleware, custom event sources)
:func:`build_environ` gives the same environ.  Either way the same code
collects the response (:func:`bridge.wsgi.response.respond`).
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
