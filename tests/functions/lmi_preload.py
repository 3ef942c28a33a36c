"""``python lmi_preload.py HANDLER``: ``python -m awslambdaric HANDLER`` started by a process that
has already run bridge's event loop, as a parent that imports an app before the fork would.
The loop is marked with this process's id (see ``lmi_fastapi.loop_pid``), then awslambdaric
forks its workers."""

from __future__ import annotations

import asyncio
import os
import runpy
import sys

from bridge.asgi.loop import get_runner

#: As ``lmi_fastapi.LOOP_PID`` (not imported here: that would build its app in this process).
LOOP_PID = "first_run_in_pid"


async def mark() -> None:
    setattr(asyncio.get_running_loop(), LOOP_PID, os.getpid())


if __name__ == "__main__":
    get_runner().run(mark())
    sys.stdout.write(f"parent loop pid={os.getpid()}\n")
    sys.stdout.flush()
    runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)
