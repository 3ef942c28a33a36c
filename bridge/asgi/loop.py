"""The one event loop of the process.

bridge creates a private event loop the first time an ASGI app needs it and
reuses it, by every handler, for the life of the process: connection pools
and clients created at startup stay bound to a loop that keeps existing.  It
is never installed as the thread's current loop and no loop policy is
touched, so ``asyncio.run()`` elsewhere neither disturbs it nor is disturbed
by it.  Handlers called from several threads at once take turns on it, each
on its caller's thread (README, "Failure modes").  ``bridge.runtime`` drives
it itself (:meth:`LoopRunner.serve`).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from bridge._log import get_logger
from bridge.errors import LoopError

T = TypeVar("T")
logger = get_logger("bridge.asgi.loop")

#: Seconds :meth:`LoopRunner.close` waits for each step of closing the loop
#: (cancelled tasks, async generators) at process exit.
EXIT_TIMEOUT_S = 0.5


class LoopRunner:
    """Runs coroutines to completion on one private loop, reused."""

    __slots__ = ("_after_run", "_inherited", "_lock", "_loop", "_owner", "_serving")

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._after_run: list[Callable[[], None]] = []
        #: Held for the whole of a run: one at a time, whichever the thread.
        #: Re-entrant only for a signal handler that runs on this thread
        #: between the acquire and ``_owner`` being set (the loop is not
        #: running yet, so its run can come first).
        self._lock = threading.RLock()
        #: The thread that holds it (``threading.get_ident()``), or None.
        self._owner: int | None = None
        #: Whether :meth:`serve` runs the loop (bridge.runtime): :meth:`run`
        #: from another thread then hands its coroutine to the loop.
        self._serving = False
        #: After a fork: the copy of the parent's loop, kept (see :meth:`_forget_after_fork`).
        self._inherited: asyncio.AbstractEventLoop | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None or loop.is_closed():
            loop = self._loop = asyncio.new_event_loop()
        return loop

    def run(
        self,
        coro: Coroutine[Any, Any, T],
        on_pending: Callable[[asyncio.Task[T]], object] | None = None,
    ) -> T:
        """Run ``coro`` to completion on the process loop and return its result.

        Most requests finish in their first step: nothing they await ever
        blocks.  So the loop is stopped *before* it starts, which asyncio
        documents as "poll the selector once with a timeout of zero, run what
        is ready, and return": one iteration, in which the new task takes its
        first step.  Only a task still pending after that is handed to
        ``run_until_complete()``, after ``on_pending(task)`` (which arms a
        deadline timer only for a task that waits).

        A call made while another thread runs the loop waits for its turn.
        """
        if asyncio._get_running_loop() is not None:
            coro.close()
            raise LoopError(
                "The bridge handler was called from inside a running event loop, where it "
                "cannot run its own. Lambda calls handlers from a plain thread; in async code "
                "call it in a worker thread: await asyncio.to_thread(handler, event, context)."
            )
        me = threading.get_ident()
        if self._owner == me:  # only this thread sets it to its own id
            coro.close()
            raise LoopError(
                "The bridge handler was called again on a thread where it is already "
                "running (from a signal handler or a callback of the running invocation); "
                "call it once that invocation has returned."
            )
        if self._serving:
            return self._submit(coro, on_pending)
        self._lock.acquire()
        self._owner = me
        try:
            loop = self._loop
            if loop is None or loop.is_closed():
                loop = self.loop
            task = loop.create_task(coro)
            try:
                loop.stop()
                loop.run_forever()
                if not task.done():
                    if on_pending is not None:
                        on_pending(task)
                    loop.run_until_complete(task)
            except BaseException:
                # A BaseException (KeyboardInterrupt, SystemExit) raised by the
                # task's own step escapes the loop after the task stored it:
                # mark it retrieved, as run_until_complete() does, so that the
                # task is not logged as "exception was never retrieved".
                if task.done() and not task.cancelled():
                    task.exception()
                raise
            return task.result()
        finally:
            self._owner = None
            self._lock.release()
            if self._after_run:
                callbacks, self._after_run = self._after_run, []
                for callback in callbacks:
                    callback()

    def serve(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro``, a server that owns the loop for the life of the
        process (``bridge.runtime``), on the process loop.  Meanwhile
        :meth:`run` called from another thread (a WebSocket event, lifespan
        startup or shutdown) hands its coroutine to the running loop, instead
        of waiting for a turn that would never come."""

        async def serving() -> T:
            self._serving = True
            try:
                return await coro
            finally:
                self._serving = False

        return self.run(serving())

    def _submit(
        self,
        coro: Coroutine[Any, Any, T],
        on_pending: Callable[[asyncio.Task[T]], object] | None,
    ) -> T:
        """``coro`` run on the loop :meth:`serve` drives, from another thread."""
        loop = self.loop

        async def watched() -> T:
            task = loop.create_task(coro)
            if on_pending is not None:
                on_pending(task)
            return await task

        return asyncio.run_coroutine_threadsafe(watched(), loop).result()

    @property
    def is_running_here(self) -> bool:
        """True while :meth:`run` is in progress on the calling thread."""
        return self._owner == threading.get_ident()

    def call_after_run(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current ``run`` returns (used by signal handlers)."""
        self._after_run.append(callback)

    def close(self) -> None:
        if not self._lock.acquire(timeout=EXIT_TIMEOUT_S):
            logger.warning(
                "The event loop is still running an invocation on another thread after %g s; "
                "left open.",
                EXIT_TIMEOUT_S,
            )
            return
        try:
            self._close()
        finally:
            self._lock.release()

    def _close(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None or loop.is_closed():
            return
        try:
            # Every wait is bounded: a task that ignores its cancellation, or
            # an async generator that never finishes, must not keep the
            # process from ending.
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending, timeout=EXIT_TIMEOUT_S))
                for task in pending:
                    if task.done() and not task.cancelled():
                        task.exception()  # retrieved: the task is over
            loop.run_until_complete(
                asyncio.wait((loop.create_task(loop.shutdown_asyncgens()),), timeout=EXIT_TIMEOUT_S)
            )
            # At interpreter exit Python 3.12 refuses the thread this starts;
            # concurrent.futures has joined the executor's threads by then.
            with contextlib.suppress(RuntimeError):
                loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()

    def _forget_after_fork(self) -> None:
        # The parent's loop is not this process's to run or to close: closing it (which
        # the garbage collector would do, with an "unclosed event loop" warning) would
        # unregister its descriptors from the epoll instance it shares with the parent.
        # So the copy stays referenced, unused, and this process starts afresh (with a
        # lock of its own: another thread may have held the parent's).
        inherited = self._inherited if self._loop is None else self._loop
        LoopRunner.__init__(self)
        self._inherited = inherited


_RUNNER = LoopRunner()
atexit.register(_RUNNER.close)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_RUNNER._forget_after_fork)


def get_runner() -> LoopRunner:
    """The process-wide loop runner."""
    return _RUNNER
