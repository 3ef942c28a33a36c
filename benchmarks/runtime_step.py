"""bridge.runtime's invocation excluding the Runtime API exchange (the *step*),
in this process, without a server or a second process in the way.

    python benchmarks/runtime_step.py                       # trivial-asgi, fastapi-async
    python benchmarks/runtime_step.py --apps fastapi-async --rounds 40
    python benchmarks/runtime_step.py --against /path/to/other/checkout

The runtime's own worker loop (``Runtime._worker``) runs on bridge's process
loop with a connection that answers at once: ``/next`` with the invocation
``runtime.py``'s server hands out (the same headers and event), parsed by
the runtime's own parser, then ``/response`` with 202.  The clock is read
where ``runtime_child.py`` reads it: when ``/next`` has returned and when
``/response`` begins.  Each ``/next`` first lets the loop turn once, as a
real exchange does.  A sample is the mean step over ``--count`` invocations;
rounds are interleaved.

``--against PATH`` also runs the ``bridge`` package of another checkout,
imported in this same process under another name (its ``bridge`` imports
rewritten in a temporary copy), interleaved round by round with this one:
the paired ratio new / old with its 95% bootstrap interval.  Both have
their own process loop.  The first answer of each is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [path for path in (ROOT, HERE) if path not in sys.path]

import apps  # noqa: E402
from runtime import _event, next_reply  # noqa: E402
from stats import Series, paired_ratio, paired_ratio_interval  # noqa: E402

REQUEST_ID = b"8476a536-e9f4-11e8-9739-000000000001"
ACCEPTED = b'HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{"status":"OK"}\n'


def next_answer() -> bytes:
    """The ``/next`` answer ``runtime.py``'s server gives."""
    event = _event()
    deadline = str(int((time.time() + 3600) * 1000)).encode()
    return next_reply(REQUEST_ID, deadline, event)


def contender(package: str, app_name: str) -> Callable[[int], float]:
    """A function running ``count`` invocations through ``package``'s runtime
    worker, returning the mean step in seconds."""
    http = importlib.import_module(f"{package}.runtime.http")
    main = importlib.import_module(f"{package}.runtime.main")
    loop = importlib.import_module(f"{package}.asgi.loop")
    handler = importlib.import_module(package).Bridge(apps.APPS[app_name][1]())
    answer = next_answer()

    class Answering:
        """A connection whose server answers at once."""

        def __init__(self, count: int, stop: asyncio.Event) -> None:
            self.parser = http.ResponseParser()
            self.left = count
            self.stop = stop
            self.mark = 0.0
            self.steps = 0.0
            self.first: bytes | None = None

        async def exchange(self, request: Any, stream: bytes = b"") -> Any:
            if request.method == "POST":
                self.steps += time.perf_counter() - self.mark
                if self.first is None:
                    self.first = request.body
                self.parser.expect("POST")
                self.parser.feed(ACCEPTED)
                return self.parser.next_response()
            if not self.left:
                self.stop.set()
            self.left -= 1
            await asyncio.sleep(0)  # a real exchange waits on the loop
            self.parser.expect("GET")
            self.parser.feed(answer)
            response = self.parser.next_response()
            self.mark = time.perf_counter()
            return response

        def close(self) -> None:
            pass

    runtime = main.Runtime("127.0.0.1:9001", None)
    runtime.handler = handler
    runtime._trace_env = True  # one invocation at a time, as the runtime runs them

    async def run(count: int) -> float:
        runtime._stop = stop = asyncio.Event()
        connection = Answering(count, stop)
        await runtime._worker(handler, connection)
        first = connection.first or b""
        if b'"statusCode":200' not in first or b'"body":"hello"' not in first:
            raise AssertionError(f"{package} answered {first[:200]!r}")
        return connection.steps / count

    runner = loop.get_runner()
    return lambda count: runner.serve(run(count))


def renamed_copy(checkout: str, into: str) -> str:
    """A copy of ``checkout``'s bridge package as ``bridge_other`` in ``into``."""
    sys.path.insert(0, into)
    target = os.path.join(into, "bridge_other")
    shutil.copytree(os.path.join(checkout, "bridge"), target)
    pattern = re.compile(r"\b(from|import) bridge\b")
    for folder, _, files in os.walk(target):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as file:
                    text = file.read()
                with open(path, "w", encoding="utf-8") as file:
                    file.write(pattern.sub(r"\1 bridge_other", text))
    return "bridge_other"


def measure(app_name: str, against: str | None, rounds: int, count: int) -> None:
    runs = {"this checkout": contender("bridge", app_name)}
    if against is not None:
        runs["the other"] = contender(renamed_copy(against, tempfile.mkdtemp()), app_name)
    for run in runs.values():
        run(count)  # warm-up
    steps = {label: Series(label) for label in runs}
    for _ in range(rounds):
        for label in random.sample(list(runs), len(runs)):
            gc.collect()
            steps[label].samples.append(runs[label](count))
    medians = ", ".join(f"{label} {series.median * 1e6:.1f} µs" for label, series in steps.items())
    line = f"{app_name}: step median {medians}"
    if against is not None:
        new, old = steps["this checkout"], steps["the other"]
        low, high = paired_ratio_interval(new, old)
        line += f"; this / the other {paired_ratio(new, old):.3f}x ({low:.3f}-{high:.3f})"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", default="trivial-asgi,fastapi-async")
    parser.add_argument("--against", help="another checkout, to compare with (paired)")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--count", type=int, default=300, help="invocations per sample")
    options = parser.parse_args()
    for app_name in options.apps.split(","):
        measure(app_name, options.against, options.rounds, options.count)


if __name__ == "__main__":
    main()
