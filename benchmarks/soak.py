"""Soak: many invocations of one bridge handler in one process.

``soak.py APP N`` warms up, records resident memory, the tasks on bridge's
loop and the live threads, runs N invocations (each response checked), and
records them again; prints one JSON line.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def tasks() -> int | None:
    if "asyncio" not in sys.modules:
        return None  # no loop at all: nothing to count
    import asyncio

    from bridge.asgi.loop import get_runner

    loop = get_runner()._loop
    return len(asyncio.all_tasks(loop)) if loop is not None else 0


def snapshot() -> dict[str, Any]:
    gc.collect()
    return {"rss": rss_bytes(), "tasks": tasks(), "threads": threading.active_count()}


def main() -> None:
    app_name, count = sys.argv[1], int(sys.argv[2])
    import logging

    import apps
    from contenders import CONTEXT, copy_event

    from bridge import Bridge
    from bridge.local.events import build_event

    logging.getLogger("bridge").setLevel(logging.ERROR)
    try:
        handler = Bridge(apps.APPS[app_name][1]())
    except ImportError as exc:
        print(json.dumps({"unavailable": f"bridge: WSGI support not available ({exc})"}))
        return
    template = build_event("http", path="/hello", query="a=1", headers=[("User-Agent", "soak")])
    context = CONTEXT

    def call() -> None:
        response = handler(copy_event(template), context)
        if response["statusCode"] != 200 or response["body"] != "hello":
            raise AssertionError(f"wrong response: {response!r}")

    for _ in range(min(2000, count // 10)):
        call()
    before = snapshot()
    start = time.perf_counter()
    for _ in range(count):
        call()
    elapsed = time.perf_counter() - start
    after = snapshot()
    print(json.dumps({"n": count, "seconds": elapsed, "before": before, "after": after}))


if __name__ == "__main__":
    main()
