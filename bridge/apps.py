"""Which interface an application speaks, decided once at construction: a
coroutine function (or an object whose ``__call__`` is one) is ASGI 3, a
class or a synchronous callable taking one positional argument ASGI 2, any
other that can take two presumed WSGI.  ``interface=`` overrides the guess
where the signature allows it (README, ``interface``).

The answers are those of :func:`inspect.iscoroutinefunction` and
:func:`inspect.signature`, but importing ``inspect`` would lengthen every
cold start (``benchmarks/README.md``): the usual shapes (a function, a bound
method, an instance of a class with a plain ``def __call__``) are read from
their code objects, anything else is handed to ``inspect``.
"""

from __future__ import annotations

import sys
from types import BuiltinFunctionType, FunctionType, MethodType

from bridge.errors import ConfigurationError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from functools import partial
    from typing import Any, Literal

    Interface = Literal["asgi2", "asgi3", "wsgi"]

#: ``inspect.CO_VARARGS`` and ``inspect.CO_COROUTINE``.
_CO_VARARGS = 0x04
_CO_COROUTINE = 0x80

#: Attributes that make ``inspect.signature`` look elsewhere than the code object.
_SIGNATURE_OVERRIDES = (
    "__wrapped__",
    "__signature__",
    "__text_signature__",
    "_partialmethod",
    "__partialmethod__",
)


def detect_interface(app: object, interface: str = "auto") -> Interface:
    if interface not in ("auto", "asgi", "wsgi"):
        raise ConfigurationError(f"interface must be 'auto', 'asgi' or 'wsgi', got {interface!r}.")
    if not callable(app):
        raise ConfigurationError(
            f"Bridge(app) expects a WSGI or ASGI application (a callable), got "
            f"{type(app).__name__}: {app!r}. Pass the application object itself, e.g. "
            "Bridge(app) rather than Bridge('module:app')."
        )
    if is_async_callable(app):
        if interface == "wsgi":
            raise ConfigurationError(
                f"interface='wsgi' was given, but {_name(app)} is a coroutine function "
                "(async def), which can only be an ASGI application. Leave interface='auto'."
            )
        return "asgi3"
    arity = _positional_shape(app) or _arity_by_signature(app)
    if interface == "wsgi":
        if arity is not None and not _accepts(arity, 2):
            raise ConfigurationError(
                f"interface='wsgi' was given, but {_name(app)} {_takes(arity)}; a WSGI "
                "application is called with two: (environ, start_response)."
            )
        return "wsgi"
    if interface == "asgi":
        if arity is None or _accepts(arity, 1):
            return "asgi2"
        if _accepts(arity, 3):  # a synchronous callable that returns an awaitable
            return "asgi3"
        raise ConfigurationError(
            f"interface='asgi' was given, but {_name(app)} is not a coroutine function and "
            f"{_takes(arity)}; an ASGI application is an async callable taking (scope, "
            "receive, send), or (ASGI 2) a callable taking (scope)."
            + (" Its signature is WSGI's: use interface='wsgi'." if _accepts(arity, 2) else "")
        )
    if arity is None:
        return "wsgi"  # the signature cannot be read: presumed
    required, maximum = arity
    if required == 1 and maximum is not None:
        return "asgi2"
    if _accepts(arity, 2):
        return "wsgi"
    if isinstance(app, type):
        hint = (
            f" It is a class: if its instances are the application, pass one: "
            f"Bridge({app.__name__}())."
        )
    elif _accepts(arity, 3):
        hint = (
            " It takes (scope, receive, send) like an ASGI 3 application but is not a "
            "coroutine function: if it returns an awaitable, pass interface='asgi'."
        )
    else:
        hint = ""
    raise ConfigurationError(
        f"Bridge(app) expects a WSGI application (called with environ, start_response) or "
        f"an ASGI one (an async callable taking scope, receive, send), but {_name(app)} "
        f"{_takes(arity)}, so it is neither.{hint}"
    )


def _accepts(arity: tuple[int, int | None], count: int) -> bool:
    """Whether a callable of this arity can be called with ``count`` positional arguments."""
    required, maximum = arity
    return required <= count and (maximum is None or count <= maximum)


def _takes(arity: tuple[int, int | None]) -> str:
    """``"takes 0 to 1 positional arguments"`` and the like, for messages."""
    required, maximum = arity
    if maximum is None:
        return f"takes {required} or more positional arguments"
    if maximum == required:
        return f"takes {required} positional argument{'s' if required != 1 else ''}"
    return f"takes {required} to {maximum} positional arguments"


def _name(app: object) -> str:
    """The object as messages name it: ``the class FastAPI``, ``the function hello``."""
    if isinstance(app, type):
        return f"the class {app.__module__}.{app.__qualname__}"
    name = getattr(app, "__qualname__", None)
    if isinstance(name, str) and type(app) in (FunctionType, MethodType):
        return f"the function {name}"
    return f"the {type(app).__name__} object"


def is_async_callable(obj: Any) -> bool:
    partial = _partial_type()
    while isinstance(obj, partial):
        obj = obj.func
    if _is_coroutine_function(obj) or getattr(obj, "_is_coroutine", None) is not None:
        return True
    if isinstance(obj, type):
        return False
    call = getattr(obj, "__call__", None)  # noqa: B004 - the bound method is wanted
    return _is_coroutine_function(call) or getattr(call, "_is_coroutine", None) is not None


def _is_coroutine_function(obj: Any) -> bool:
    """``inspect.iscoroutinefunction(obj)``, importing ``inspect`` only when
    the object is function-like but not a plain Python function."""
    target = obj
    partial = _partial_type()
    while isinstance(target, (MethodType, partial)):
        target = target.__func__ if isinstance(target, MethodType) else target.func
    # The marker of ``inspect.markcoroutinefunction`` (3.12+), which only inspect reads.
    if not hasattr(target, "_is_coroutine_marker"):
        if type(target) is FunctionType:
            return bool(target.__code__.co_flags & _CO_COROUTINE)
        if isinstance(target, (type, BuiltinFunctionType)) or not hasattr(target, "__code__"):
            # Neither a code object nor a marker: inspect would answer False.
            return False
    import inspect

    return inspect.iscoroutinefunction(obj)


def _partial_type() -> type[partial[Any]] | tuple[()]:
    """``functools.partial``, or ``()`` (which no object is an instance of)
    when ``functools`` was never imported: no partial object can exist then,
    and a WSGI cold start does not load it."""
    functools = sys.modules.get("functools")
    return functools.partial if functools is not None else ()


def _positional_shape(app: Any) -> tuple[int, int | None] | None:
    """The arity, ``(required positional parameters, most positional arguments
    or None for *args)``, read from the code object of a plain function, a
    bound method or an instance whose class has a plain ``def __call__``; None
    for anything else (only ``inspect`` can tell)."""
    bound = False
    function: object = app
    if isinstance(app, MethodType):
        bound, function = True, app.__func__
    elif type(app) is not FunctionType:
        if isinstance(app, type) or _has_any(app, (*_SIGNATURE_OVERRIDES, "__code__")):
            return None
        bound, function = True, _class_attribute(type(app), "__call__")
    if type(function) is not FunctionType or _has_any(function, _SIGNATURE_OVERRIDES):
        return None
    code = function.__code__
    count = code.co_argcount  # positional-only included
    variadic = bool(code.co_flags & _CO_VARARGS)
    if bound:
        if not count:
            # ``self`` lands in *args, or there is nowhere for it to go
            # (inspect raises ValueError: not readable).
            return (0, None) if variadic else None
        count -= 1  # ``self``, which may have a default itself
    required = max(count - len(function.__defaults__ or ()), 0)
    return required, None if variadic else count


def _class_attribute(cls: type, name: str) -> object:
    """The attribute as written in the class body (a ``staticmethod`` stays
    one), found along the MRO the way ``inspect.getattr_static`` does."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _has_any(obj: object, names: tuple[str, ...]) -> bool:
    return any(hasattr(obj, name) for name in names)


def _arity_by_signature(app: Any) -> tuple[int, int | None] | None:
    """The arity by ``inspect.signature``; None when not even it can tell."""
    import inspect

    try:
        signature = inspect.signature(app)
    except (TypeError, ValueError):
        return None
    parameters = signature.parameters.values()
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(1 for p in positional if p.default is p.empty)
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return required, None
    return required, len(positional)
