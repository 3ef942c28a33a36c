"""Which interface an application speaks, decided once at construction.

* a coroutine function, or an object whose ``__call__`` is one: ASGI 3;
* a class or a synchronous callable taking one positional argument
  (``scope``) and returning an awaitable-taking instance: ASGI 2;
* any other synchronous callable: presumed WSGI (``environ, start_response``).

A plain synchronous callable can only be *presumed* WSGI, so
``interface="asgi"`` or ``"wsgi"`` overrides the guess.
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Any, Literal

from bridge.errors import ConfigurationError

logger = logging.getLogger("bridge.apps")

Interface = Literal["asgi2", "asgi3", "wsgi"]


def detect_interface(app: object, interface: str = "auto") -> Interface:
    if interface not in ("auto", "asgi", "wsgi"):
        raise ConfigurationError(f"interface must be 'auto', 'asgi' or 'wsgi', got {interface!r}.")
    if not callable(app):
        raise ConfigurationError(
            f"Bridge(app) expects a WSGI or ASGI application (a callable), got "
            f"{type(app).__name__}: {app!r}. Pass the application object itself, e.g. "
            "Bridge(app) rather than Bridge('module:app')."
        )
    if interface == "wsgi":
        return "wsgi"
    if is_async_callable(app):
        return "asgi3"
    if interface == "asgi" or _takes_one_argument(app):
        return "asgi2"
    return "wsgi"


def is_async_callable(obj: Any) -> bool:
    while isinstance(obj, functools.partial):
        obj = obj.func
    if inspect.iscoroutinefunction(obj) or getattr(obj, "_is_coroutine", None) is not None:
        return True
    if inspect.isclass(obj):
        return False
    call = getattr(obj, "__call__", None)  # noqa: B004 - the bound method is wanted
    return inspect.iscoroutinefunction(call) or getattr(call, "_is_coroutine", None) is not None


def _takes_one_argument(app: Any) -> bool:
    """Whether calling ``app`` takes exactly one positional argument (ASGI 2's scope)."""
    try:
        signature = inspect.signature(app)
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in signature.parameters.values())
    return len(positional) == 1 and not variadic
