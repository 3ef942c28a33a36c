"""A function with SnapStart hooks, served by awslambdaric or ``bridge.runtime``.

Each hook notes its name in ``CALLS`` and in the file ``$SNAPSTART_TRACE`` (read by the test while
the restore is held back). ``random`` is seeded at import, as a snapshot would freeze it: every
restored copy starts from the same state unless something reseeds it. ``SNAPSTART_FAIL=before``
or ``after`` adds a hook that fails.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

from bridge import Bridge, snapstart

try:
    from snapshot_restore_py import (  # type: ignore[import-untyped]
        register_after_restore,
        register_before_snapshot,
    )
except ImportError:  # a test hides it: bridge's own registry is used
    register_after_restore = register_before_snapshot = None

CALLS: list[str] = []
random.seed(1234)


def note(name: str) -> None:
    CALLS.append(name)
    with open(os.environ["SNAPSTART_TRACE"], "a") as trace:
        trace.write(name + "\n")


def fail(phase: str) -> None:
    raise RuntimeError(f"{phase}: vault unreachable")


snapstart.before_snapshot(note, "before 1")
snapstart.before_snapshot(note, "before 2")
if register_before_snapshot is not None:
    register_before_snapshot(note, "before direct")
snapstart.after_restore(note, "after 1")
if register_after_restore is not None:
    register_after_restore(note, "after direct")
snapstart.after_restore(note, name="after 2")
if os.environ.get("SNAPSTART_FAIL") == "before":
    snapstart.before_snapshot(fail, "before")
if os.environ.get("SNAPSTART_FAIL") == "after":
    snapstart.after_restore(fail, "after")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = json.dumps({"calls": CALLS, "random": random.random()}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


handler = Bridge(app, lifespan="off")
