"""The handler a command runs: the object ``APP`` names, made a :class:`~bridge.Bridge` with
the command line's options, and the :class:`~bridge.local.invoker.Invoker` that runs it.

Bad input raises :class:`UsageError`; the app's own code failing while it loads raises
:class:`AppFailed`. :mod:`bridge.local.cli` reports either and sets the exit status.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bridge.adapter import Bridge
from bridge.local.events import FakeContext
from bridge.local.invoker import Invoker
from bridge.local.loader import AppNotFound, load_app
from bridge.local.streaming import STREAMING_SOURCES

__all__ = [
    "ABANDONED",
    "AppFailed",
    "UsageError",
    "invoke_mode_for",
    "load_target",
    "running",
    "streams",
    "wrap",
]


class UsageError(Exception):
    """Bad input: reported in one line, exit status 2."""


class AppFailed(Exception):
    """The app's own code failed while it was loaded: reported with its traceback, status 1."""


#: Invokers left with a timed-out invocation still running.
ABANDONED: list[Invoker] = []


def load_target(spec: str) -> object:
    """The object ``spec`` names: a Bridge, or something that can be an app."""
    try:
        target = load_app(spec)
    except AppNotFound as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:
        raise AppFailed(_failure(f"importing {spec!r} failed", exc)) from None
    if not isinstance(target, Bridge) and not callable(target):
        raise UsageError(f"{spec!r} is a {type(target).__name__}, not an ASGI or WSGI app")
    return target


def invoke_mode_for(spec: str, target: object, requested: str | None, source: str) -> str:
    """The invoke mode to wrap an app with: ``--invoke-mode``, which a Bridge handler's own
    must match; RESPONSE_STREAM asked for only with a source that streams on AWS."""
    if isinstance(target, Bridge) and requested not in (None, target.invoke_mode):
        raise UsageError(
            f"{spec} is a Bridge handler with invoke_mode={target.invoke_mode!r}, which is "
            f"used as it is: drop --invoke-mode, or name the app itself, which is then "
            f"wrapped in Bridge(app, invoke_mode={requested!r})"
        )
    if requested == "RESPONSE_STREAM" and source not in STREAMING_SOURCES:
        raise UsageError(
            "--invoke-mode RESPONSE_STREAM needs a source that streams on AWS: "
            f"{' or '.join(repr(name) for name in STREAMING_SOURCES)} (a function URL, API "
            f"Gateway REST); the {source!r} service answers buffered: pass --source url or "
            "--source rest"
        )
    return requested or "BUFFERED"


def wrap(spec: str, target: object, **options: Any) -> Any:
    """``target`` itself when it is a Bridge, else ``Bridge(target, **options)``."""
    if isinstance(target, Bridge):
        return target
    try:
        return Bridge(target, **options)
    except Exception as exc:
        raise AppFailed(_failure(f"starting {spec!r} failed (Lambda's init phase)", exc)) from None


def streams(handler: Any, source: str) -> bool:
    """Whether ``handler`` streams its answers to ``source``'s events."""
    return (
        isinstance(handler, Bridge)
        and handler.invoke_mode == "RESPONSE_STREAM"
        and source in STREAMING_SOURCES
    )


@contextmanager
def running(handler: Any, timeout: float) -> Iterator[Invoker]:
    """An :class:`Invoker` of ``handler``, closed at the end; one left with a timed-out
    invocation still running is kept in :data:`ABANDONED`."""
    with Invoker(handler, timeout=timeout, make_context=_context) as invoker:
        try:
            yield invoker
        finally:
            if invoker.stuck:
                ABANDONED.append(invoker)


def _context(request_id: str, timeout_ms: int) -> object:
    context = FakeContext(timeout_ms=timeout_ms)
    context.aws_request_id = request_id
    return context


def _failure(what: str, exc: BaseException) -> str:
    return f"{what}:\n{''.join(traceback.format_exception(exc)).rstrip()}"
