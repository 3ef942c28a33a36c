"""SnapStart hooks: code to run before Lambda snapshots the initialised
function and after it restores a copy of it (docs/runtime.rst, "SnapStart").

What init created (open sockets, the state of ``random``, cached
credentials) is shared by every copy restored from the snapshot: register
hooks at import time (the snapshot is taken when init ends) to close it
before the snapshot or reopen it after.  Under AWS's runtime interface
client they go to AWS's ``snapshot_restore_py``; under ``python -m
bridge.runtime`` the runtime runs them.  Hooks are plain functions: mark an
async resource stale and reopen it in the next request that needs it.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = [
    "INIT_TYPE_ENV",
    "SnapStartHookError",
    "after_restore",
    "before_snapshot",
    "ensure_reseed",
    "is_snap_start",
    "reseed_random",
    "run_after_restore",
    "run_before_snapshot",
]

F = TypeVar("F", bound=Callable[..., Any])
#: One registered hook: the function and the arguments it is called with.
Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]

#: Set by Lambda to ``snap-start`` while it initialises a function for a snapshot.
INIT_TYPE_ENV = "AWS_LAMBDA_INITIALIZATION_TYPE"

#: Where hooks go when ``snapshot_restore_py`` is not installed (bridge.runtime only).
_own_before: list[Hook] = []
_own_after: list[Hook] = []


class SnapStartHookError(Exception):
    """A before-snapshot or after-restore hook raised; the original
    exception is ``__cause__``."""

    def __init__(self, phase: str, hook: Callable[..., Any], exc: BaseException) -> None:
        name = getattr(hook, "__qualname__", None) or repr(hook)
        module = getattr(hook, "__module__", None)
        where = f"{module}.{name}" if module else name
        super().__init__(f"The {phase} hook {where} failed: {type(exc).__name__}: {exc}")
        self.phase = phase
        self.hook = hook


def is_snap_start() -> bool:
    """Whether this process is being initialised for a SnapStart snapshot."""
    return os.environ.get(INIT_TYPE_ENV) == "snap-start"


def before_snapshot(func: F, *args: Any, **kwargs: Any) -> F:
    """Register ``func(*args, **kwargs)`` to run before the snapshot is
    taken; usable as a decorator.  Returns ``func``."""
    _check(func, "before_snapshot")
    _registries()[0].append((func, args, kwargs))
    return func


def after_restore(func: F, *args: Any, **kwargs: Any) -> F:
    """Register ``func(*args, **kwargs)`` to run after each restore from the
    snapshot, after bridge has reseeded ``random``; usable as a decorator.
    Returns ``func``."""
    _check(func, "after_restore")
    _registries()[1].append((func, args, kwargs))
    return func


def reseed_random() -> None:
    """Reseed the ``random`` module's generator from ``os.urandom``: a
    restored copy must not replay the snapshot's sequence."""
    import random  # loaded only after a restore, not at every start

    random.seed()


def run_before_snapshot() -> None:
    """Run (and consume) the before-snapshot hooks, last registered first,
    as awslambdaric does.  Raises :class:`SnapStartHookError`."""
    registry = _registries()[0]
    while registry:
        func, args, kwargs = registry.pop()
        _call("before-snapshot", func, args, kwargs)


def run_after_restore() -> None:
    """Reseed ``random``, then run the after-restore hooks in the order of
    registration.  Raises :class:`SnapStartHookError`."""
    reseed_random()
    for func, args, kwargs in list(_registries()[1]):
        if func is not reseed_random:  # done above, first
            _call("after-restore", func, args, kwargs)


def ensure_reseed() -> None:
    """Register :func:`reseed_random` as an after-restore hook, once: under
    awslambdaric a registered hook is the only code that runs after a restore."""
    _registries()


def _call(phase: str, func: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> None:
    try:
        func(*args, **kwargs)
    except Exception as exc:
        raise SnapStartHookError(phase, func, exc) from exc


def _check(func: Any, what: str) -> None:
    if not callable(func):
        raise TypeError(f"{what}() takes a function to call, got {func!r}.")
    if inspect.iscoroutinefunction(func):
        raise TypeError(
            f"{what}() takes a plain function, got the coroutine function {func!r}: hooks run "
            "outside the app's event loop. Close or mark the resource in a plain function and "
            "reopen it in the next request that uses it."
        )


def _registries() -> tuple[list[Hook], list[Hook]]:
    """Where hooks are registered and run from: AWS's registry when it is
    installed (so that awslambdaric runs them, and bridge.runtime those
    registered with it directly), else bridge's own; the reseed first."""
    try:
        import snapshot_restore_py as aws  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        aws = None
    before: list[Hook] = _own_before if aws is None else aws.get_before_snapshot()
    after: list[Hook] = _own_after if aws is None else aws.get_after_restore()
    if not any(func is reseed_random for func, _, _ in after):
        after.append((reseed_random, (), {}))
    return before, after
