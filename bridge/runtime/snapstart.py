"""SnapStart under ``python -m bridge.runtime``.

With ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``, once the handler is
loaded (init done, lifespan started) and before the first ``/next``, the
runtime:

1. runs the before-snapshot hooks (:mod:`bridge.snapstart`, and those
   registered directly with ``snapshot_restore_py``); a failure goes to
   ``/init/error`` as ``Runtime.BeforeSnapshotError``;
2. calls ``GET /restore/next``, which Lambda answers once the snapshot has
   been taken and this copy of it restored;
3. reseeds ``random``, then runs the after-restore hooks; a failure goes to
   ``/restore/error`` as ``Runtime.AfterRestoreError``.

These are the steps and error types of AWS's own runtime client.  After a
failure the runtime stops (exit status 1), as after an init error.
"""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable

from bridge._log import get_logger
from bridge.runtime.api import (
    RuntimeAPIError,
    check_accepted,
    error_body,
    init_error_request,
    restore_error_request,
    restore_next_request,
)
from bridge.runtime.client import Connection
from bridge.runtime.http import HTTPProtocolError, Request
from bridge.snapstart import SnapStartHookError, run_after_restore, run_before_snapshot

__all__ = ["AFTER_RESTORE_ERROR", "BEFORE_SNAPSHOT_ERROR", "snap_start"]

logger = get_logger("bridge.runtime")

BEFORE_SNAPSHOT_ERROR = "Runtime.BeforeSnapshotError"
AFTER_RESTORE_ERROR = "Runtime.AfterRestoreError"

#: Runs a plain function off the loop (the runtime's thread pool) and awaits it.
RunSync = Callable[[Callable[[], None]], Awaitable[None]]


async def snap_start(connection: Connection, run_sync: RunSync) -> bool:
    """The SnapStart steps; True when the runtime may go on to ``/next``,
    False after a failure (logged, and reported where Lambda expects it)."""
    try:
        await run_sync(run_before_snapshot)
    except SnapStartHookError as exc:
        await _report(connection, init_error_request(_error(BEFORE_SNAPSHOT_ERROR, exc)), exc)
        return False
    try:
        response = await connection.exchange(restore_next_request())
        if response.status != 200:
            raise RuntimeAPIError(
                f"GET /restore/next answered {response.status} {response.reason}: "
                f"{response.body[:200]!r}",
                status=response.status,
            )
    except (OSError, RuntimeAPIError, HTTPProtocolError) as exc:
        logger.error("The runtime stops: SnapStart restore failed: %s", exc)
        return False
    try:
        await run_sync(run_after_restore)
    except SnapStartHookError as exc:
        await _report(connection, restore_error_request(_error(AFTER_RESTORE_ERROR, exc)), exc)
        return False
    return True


def _error(error_type: str, exc: SnapStartHookError) -> dict[str, object]:
    cause = exc.__cause__ or exc
    frames = traceback.format_list(traceback.extract_tb(cause.__traceback__))
    return error_body(error_type, str(exc), frames)


async def _report(connection: Connection, request: Request, exc: SnapStartHookError) -> None:
    logger.error("The function cannot start: %s", exc, exc_info=exc.__cause__ or exc)
    try:
        check_accepted(await connection.exchange(request), request.target)
    except (OSError, RuntimeAPIError, HTTPProtocolError) as post_exc:
        logger.error("Could not report the SnapStart failure to the Runtime API: %s", post_exc)
