"""Which interface an application speaks, decided once at construction.

* a coroutine function, or an object whose ``__call__`` is one: ASGI 3;
* a class or a synchronous callable taking one positional argument
  (``scope``) and returning an awaitable-taking instance: ASGI 2;
* any other synchronous callable: presumed WSGI (``environ, start_response``).

A plain synchronous callable can only be *presumed* WSGI, so
``interface="asgi"`` or ``"wsgi"`` overrides the guess.

The answers are those of :func:`inspect.iscoroutinefunction` and
:func:`inspect.signature`, but ``inspect`` costs several milliseconds to
import (it pulls in ``ast``, ``dis`` and ``tokenize``) and a WSGI cold start
has no other use for it.  The usual application shapes (a function, a bound
method, an instance of a class with a plain ``def __call__``) are read from
their code objects directly; anything else (classes, partials with bound
arguments, decorated or Cython callables, objects carrying a
``__signature__``) is handed to ``inspect``.
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

#: ``inspect.CO_COROUTINE`` and ``inspect.CO_VARARGS``: code flags whose values
#: are part of the language (``dis.COMPILER_FLAG_NAMES``).
_CO_VARARGS = 0x04
_CO_COROUTINE = 0x80

#: Attributes that make ``inspect.signature`` look somewhere other than the
#: code object (``functools.wraps``, explicit signatures, ``partialmethod``,
#: C-level text signatures).  A callable carrying any of them goes to ``inspect``.
_SIGNATURE_OVERRIDES = (
    "__wrapped__",
    "__signature__",
    "__text_signature__",
    "_partialmethod",
    "__partialmethod__",
)

#: Set by ``inspect.markcoroutinefunction`` (Python 3.12+) on a synchronous
#: function that returns an awaitable; only ``inspect`` can tell its value.
_COROUTINE_MARKER = "_is_coroutine_marker"


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
    while True:
        if isinstance(target, MethodType):
            target = target.__func__
        elif isinstance(target, partial):
            target = target.func
        else:
            break
    if not hasattr(target, _COROUTINE_MARKER):
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
    and importing it costs a WSGI cold start milliseconds."""
    functools = sys.modules.get("functools")
    return functools.partial if functools is not None else ()


def _takes_one_argument(app: Any) -> bool:
    """Whether calling ``app`` takes exactly one positional argument (ASGI 2's scope)."""
    shape = _positional_shape(app)
    if shape is None:
        return _takes_one_argument_by_signature(app)
    required, variadic = shape
    return required == 1 and not variadic


def _positional_shape(app: Any) -> tuple[int, bool] | None:
    """``(required positional parameters, has *args)`` as ``inspect.signature``
    would report them, read from the code object; None when only
    ``inspect`` can tell.

    Covers a plain function, a method bound to an instance, and an instance
    whose class defines ``__call__`` with a plain ``def``.
    """
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
    first_default = count - len(function.__defaults__ or ())
    required = [index < first_default for index in range(count)]
    if bound:
        if not required:
            # ``self`` lands in *args, or there is nowhere for it to go
            # (inspect raises ValueError, which reads as "not ASGI 2").
            return 0, variadic
        del required[0]
    return sum(required), variadic


def _class_attribute(cls: type, name: str) -> object:
    """The attribute as written in the class body (a ``staticmethod`` stays
    one), found along the MRO the way ``inspect.getattr_static`` does."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _has_any(obj: object, names: tuple[str, ...]) -> bool:
    return any(hasattr(obj, name) for name in names)


def _takes_one_argument_by_signature(app: Any) -> bool:
    import inspect

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
