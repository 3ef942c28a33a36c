"""Tasks whose first step runs at once: how ``bridge.runtime`` starts an ASGI
cycle, so that most requests are answered with no loop iteration between the
event and the answer (docs/runtime.rst, "The seam").

Python 3.12+ does this itself (``asyncio.Task(..., eager_start=True)``).
On 3.11 :func:`start_task` does the same by hand: the task is created
around :class:`_Resumed`, the first step of the coroutine is run in the
task's context with the task as ``current_task()`` (so anyio cancel scopes
and the like see the task they will later run in), and the task, when the
loop gets to it, carries on from what that step awaited.  On 3.10 (no
``context`` for a task) the task is only scheduled.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Coroutine, Generator
from typing import Any


class _Resumed(Coroutine[Any, Any, None]):
    """``coro`` after its first step, for a task to carry on from there (3.11)."""

    __slots__ = ("_coro", "_error", "_finished", "_started", "_yielded")

    def __init__(self, coro: Coroutine[Any, Any, None]) -> None:
        self._coro = coro
        self._yielded: Any = None
        self._finished = False
        self._error: BaseException | None = None
        self._started = False

    def first_step(self, context: contextvars.Context) -> bool:
        """Run the first step of the coroutine in ``context``; whether it finished."""
        try:
            self._yielded = context.run(self._coro.send, None)
        except StopIteration:
            self._finished = True
        except BaseException as exc:  # raised again by the task, which then holds it
            self._finished = True
            self._error = exc
        return self._finished

    def send(self, value: Any) -> Any:
        if self._started:
            return self._coro.send(value)
        self._started = True
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if self._finished:
            raise StopIteration
        return self._yielded  # the future the first step awaits, for the task to wait on

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        if not self._started:
            # Cancelled before the task's first step: the coroutine has
            # not been told yet; the future it awaits is cancelled, as
            # Task.cancel() does with the future a task waits on.
            self._started = True
            if self._finished:
                raise StopIteration
            if isinstance(self._yielded, asyncio.Future):
                self._yielded.cancel()
        return self._coro.throw(typ, val, tb)

    def close(self) -> None:
        self._coro.close()

    @property
    def returned(self) -> bool:
        """Whether the first step ended with the coroutine's return."""
        return self._finished and self._error is None and not self._started

    def __await__(self) -> Generator[Any, None, None]:
        return (yield from self._coro.__await__())


def returned(awaitable: object) -> bool:
    """Whether ``awaitable`` is a task whose coroutine has returned: done, or
    (3.11, started by :func:`start_task`) done at the loop's next iteration
    with nothing left to run but the task's own bookkeeping."""
    if not isinstance(awaitable, asyncio.Task):
        return False
    if awaitable.done():
        return not awaitable.cancelled() and awaitable.exception() is None
    coro = awaitable.get_coro()
    return isinstance(coro, _Resumed) and coro.returned


if sys.version_info >= (3, 12):

    def start_task(
        loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None]
    ) -> tuple[asyncio.Task[None], bool]:
        """The task of ``coro``, its first step run, and whether ``coro`` has finished."""
        task = asyncio.Task(coro, loop=loop, eager_start=True)
        return task, task.done()

elif sys.version_info >= (3, 11):
    from asyncio.tasks import _enter_task, _leave_task

    def start_task(
        loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None]
    ) -> tuple[asyncio.Task[None], bool]:
        """The task of ``coro``, its first step run, and whether ``coro`` has finished
        (the task itself is then done at the loop's next iteration)."""
        resumed = _Resumed(coro)
        context = contextvars.copy_context()
        task = loop.create_task(resumed, context=context)
        current = asyncio.current_task(loop)
        if current is not None:
            _leave_task(loop, current)
        _enter_task(loop, task)
        try:
            finished = resumed.first_step(context)
        finally:
            _leave_task(loop, task)
            if current is not None:
                _enter_task(loop, current)
        return task, finished

else:

    def start_task(
        loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None]
    ) -> tuple[asyncio.Task[None], bool]:
        """The task of ``coro``, scheduled (3.10), and False."""
        return loop.create_task(coro), False
