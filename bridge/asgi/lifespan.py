"""ASGI lifespan: startup once per process, shutdown once when it ends.

``LifespanOn`` keeps the application's lifespan coroutine alive as a task on
the process loop between invocations; ``LifespanOff`` is its null object.
Shutdown runs at interpreter exit and on SIGTERM (which Lambda sends before
it stops an environment with an extension), then any SIGTERM handler
installed before bridge's runs, or the default action.  Shutdown is waited
for at most ``SHUTDOWN_TIMEOUT_S``: after SIGTERM, Lambda gives the runtime
300 to 500 ms before SIGKILL
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

from bridge._log import get_logger
from bridge.asgi.loop import LoopRunner, get_runner
from bridge.errors import LifespanError

if TYPE_CHECKING:  # annotations only: bridge.types is not loaded at run time
    from bridge.types import ASGIApp, Message


logger = get_logger("bridge.lifespan")

#: Seconds between the WARNINGs a startup that has not completed logs (Lambda
#: ends an init phase after 10 s, with nothing from the application).
STARTUP_PATIENCE_S = 4.0

#: Seconds lifespan shutdown is waited for, and then its cancellation.
SHUTDOWN_TIMEOUT_S = 0.5


class LifespanOff:
    """No lifespan: nothing to start, nothing to stop, no state."""

    state: dict[str, Any] | None = None

    def startup(self) -> None:
        return None

    def shutdown(self) -> None:
        return None


class LifespanOn:
    """Runs the application's lifespan protocol on the process loop."""

    def __init__(self, app: ASGIApp, runner: LoopRunner, mode: Literal["on", "auto"]) -> None:
        self.app = app
        self.runner = runner
        self.mode = mode
        #: Copied into every request's scope (``ASGIRunner`` starts it up first).
        self.state: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None
        # Each is bound to the loop that first waits on it (Python 3.10+).
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._startup_done = asyncio.Event()
        self._shutdown_done = asyncio.Event()
        self._sent_any = False
        self._failure: str | None = None
        self._error: BaseException | None = None

    async def _send(self, message: Message) -> None:
        kind = message.get("type")
        if not (isinstance(kind, str) and kind.startswith("lifespan.")):
            raise LifespanError(
                f"Expected a 'lifespan.*' message in reply to the lifespan scope, got {kind!r}: "
                "the application does not handle scope type 'lifespan'."
            )
        self._sent_any = True
        phase = "lifespan.shutdown" if self._startup_done.is_set() else "lifespan.startup"
        if kind == f"{phase}.failed":
            self._failure = str(message.get("message", ""))
        elif kind != f"{phase}.complete":
            raise LifespanError(f"Expected '{phase}.complete' or '{phase}.failed', got {kind!r}.")
        (self._shutdown_done if phase == "lifespan.shutdown" else self._startup_done).set()

    async def _main(self) -> None:
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        try:
            await self.app(scope, self._inbox.get, self._send)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._error = exc
        finally:
            self._startup_done.set()
            self._shutdown_done.set()

    def startup(self) -> None:
        self.runner.run(self._startup())
        _register(self)

    async def _startup(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._main())
        await self._inbox.put({"type": "lifespan.startup"})
        await self._wait_for_startup()
        if self._failure is not None:
            await self._stop_task()
            raise LifespanError(f"Lifespan startup failed: {self._failure or 'no message given'}.")
        if self._error is not None or self._task.done():
            if self.mode == "auto" and not self._sent_any:  # no lifespan support
                logger.info(
                    "The application does not support the lifespan protocol (%s); "
                    "continuing without it.",
                    _describe(self._error) if self._error else "it returned at once",
                )
                self.state.clear()
                self._task = None  # nothing to shut down
                return
            raise LifespanError(
                "Lifespan startup failed: the application "
                + (f"raised {_describe(self._error)}" if self._error else "returned")
                + " before sending 'lifespan.startup.complete'. Fix the startup code, or use "
                "lifespan='off' (or 'auto') if the application has no lifespan support."
            ) from self._error

    async def _wait_for_startup(self) -> None:
        """Wait until startup is over, with a WARNING every ``STARTUP_PATIENCE_S``."""
        done = asyncio.ensure_future(self._startup_done.wait())
        waited = 0.0
        try:
            while not (await asyncio.wait((done,), timeout=STARTUP_PATIENCE_S))[0]:
                waited += STARTUP_PATIENCE_S
                logger.warning(
                    "Lifespan startup has not completed after %g s: the application has not "
                    "sent 'lifespan.startup.complete' or 'lifespan.startup.failed'; still "
                    "waiting (an on-demand Lambda init phase ends after 10 s). Look for "
                    "startup code waiting on something it cannot reach, give it a timeout, or "
                    "use lifespan='off' if the application needs no startup.",
                    waited,
                )
        finally:
            done.cancel()

    def shutdown(self) -> None:
        with _lock:
            if self not in _active:  # never started, or already shut down
                return
            _active.remove(self)
        if self._task is not None:
            self.runner.run(self._shutdown())

    async def _shutdown(self) -> None:
        if self._task is None or self._task.done():
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        done = asyncio.ensure_future(self._shutdown_done.wait())
        if not (await asyncio.wait((done,), timeout=SHUTDOWN_TIMEOUT_S))[0]:
            done.cancel()
            logger.warning(
                "Lifespan shutdown has not completed after %g s: the application has not sent "
                "'lifespan.shutdown.complete' or 'lifespan.shutdown.failed'; cancelled it and "
                "going on (after SIGTERM, Lambda gives the runtime at most 500 ms before "
                "SIGKILL). Look for shutdown code waiting on something it cannot reach, and "
                "give it a timeout.",
                SHUTDOWN_TIMEOUT_S,
            )
        await self._stop_task()
        if self._failure is not None:
            logger.error("Lifespan shutdown failed: %s.", self._failure or "no message given")
        elif self._error is not None:
            logger.error("Lifespan shutdown failed: %s.", _describe(self._error))

    async def _stop_task(self) -> None:
        """Cancel the lifespan task and wait for it, at most ``SHUTDOWN_TIMEOUT_S``."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            if not (await asyncio.wait((task,), timeout=SHUTDOWN_TIMEOUT_S))[0]:
                logger.warning(
                    "The application's lifespan task ignored its cancellation for %g s; "
                    "left behind.",
                    SHUTDOWN_TIMEOUT_S,
                )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


# -- process end: atexit and SIGTERM, shared by every handler in the process

_active: list[LifespanOn] = []
_hooks_installed = False
_previous_sigterm: Any = None
_lock = threading.Lock()


def _register(lifespan: LifespanOn) -> None:
    """Keep ``lifespan`` for :func:`shutdown_all`, which the first one hooks
    to interpreter exit and (on the main thread) to SIGTERM."""
    global _hooks_installed, _previous_sigterm
    with _lock:
        _active.append(lifespan)
        if _hooks_installed:
            return
        _hooks_installed = True
    atexit.register(shutdown_all)
    if threading.current_thread() is not threading.main_thread():
        logger.debug("Not on the main thread: lifespan shutdown will run at exit only.")
        return
    _previous_sigterm = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _on_sigterm)


def shutdown_all() -> None:
    """Shut down every running lifespan, newest first."""
    while True:
        with _lock:
            if not _active:
                return
            lifespan = _active[-1]
        lifespan.shutdown()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    runner = get_runner()
    if runner.is_running_here:
        # An invocation is in progress on this thread: finish it first.  (One
        # on another thread is waited for: shutdown takes its turn on the loop.)
        runner.call_after_run(lambda: _on_sigterm(signum, frame))
        return
    logger.info("SIGTERM received: running lifespan shutdown.")
    shutdown_all()
    previous = _previous_sigterm
    if callable(previous):
        previous(signum, frame)
    elif previous in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
