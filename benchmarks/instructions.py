"""CPU instructions per invocation, counted by ``perf stat`` (Linux).

Timings on a shared machine move with the neighbours; user-space instruction
counts do not, so they show what a change to the hot path does::

    python benchmarks/instructions.py                     # every contender, trivial apps
    python benchmarks/instructions.py --app flask --source rest
    python benchmarks/instructions.py --app django --headers browser

Each figure is (instructions of a child that makes N calls - those of the same
child making none) / N, both children building the same N fresh events first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]

import apps  # noqa: E402
import contenders as cs  # noqa: E402
from run import HEADER_SETS  # noqa: E402

from bridge.local.events import build_event  # noqa: E402


def _contender(name: str, app_name: str, source: str, headers: str) -> cs.Contender:
    interface, factory = apps.APPS[app_name]
    app = factory()
    event = _event(source, headers)
    makers: dict[str, Any] = {
        "bridge": lambda: cs.bridge(app, source, interface),
        "mangum": lambda: cs.mangum(app, source, interface, "off"),
        "mangum-auto": lambda: cs.mangum(app, source, interface, "auto"),
        "apig-wsgi": lambda: cs.apig_wsgi(app, source, interface),
        "serverless-wsgi": lambda: cs.serverless_wsgi(app, source, interface),
        "floor": lambda: (cs.asgi_awaited if interface == "asgi" else cs.wsgi_direct)(
            app, source, interface, event
        ),
        "floor-run_until_complete": lambda: cs.asgi_run_until_complete(
            app, source, interface, event
        ),
    }
    return makers[name]()  # type: ignore[no-any-return]


def _event(source: str, headers: str) -> dict[str, Any]:
    return build_event(source, path="/hello", query="a=1&b=two", headers=HEADER_SETS[headers])


def _child(  # noqa: PLR0917 (the child's command line, in order)
    name: str, app_name: str, source: str, headers: str, total: int, calls: int
) -> None:
    contender = _contender(name, app_name, source, headers)
    event = _event(source, headers)
    args = [contender.prepare(event) for _ in range(total + 100)]
    contender.run_batch(args[:100])  # warm up: caches, first-call imports
    contender.run_batch(args[100 : 100 + calls])


def _count(  # noqa: PLR0917 (the child's command line, in order)
    name: str, app_name: str, source: str, headers: str, total: int, calls: int
) -> int:
    output = subprocess.run(
        ["perf", "stat", "-x,", "-e", "instructions:u", sys.executable, __file__, "--child",
         name, app_name, source, headers, str(total), str(calls)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    for line in output.stderr.splitlines():
        if "instructions" in line:
            return int(line.split(",")[0])
    raise RuntimeError(f"perf printed no instruction count: {output.stderr.strip()}")


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        name, app_name, source, headers, total, calls = sys.argv[2:8]
        _child(name, app_name, source, headers, int(total), int(calls))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default=None, help="one app (default: trivial-asgi and -wsgi)")
    parser.add_argument("--source", default="http")
    parser.add_argument("--headers", default="minimal", choices=sorted(HEADER_SETS))
    parser.add_argument("-n", type=int, default=3000, help="calls per count")
    options = parser.parse_args()
    if shutil.which("perf") is None:
        raise SystemExit("perf is not installed (apt-get install linux-perf).")
    app_names = [options.app] if options.app else ["trivial-asgi", "trivial-wsgi"]
    for app_name in app_names:
        interface = apps.APPS[app_name][0]
        names = (
            ["bridge", "mangum", "mangum-auto", "floor", "floor-run_until_complete"]
            if interface == "asgi"
            else ["bridge", "apig-wsgi", "serverless-wsgi", "mangum", "floor"]
        )
        print(
            f"{app_name}, {options.source} event, {options.headers} headers: "
            "instructions per invocation"
        )
        for name in names:
            try:
                counted = (name, app_name, options.source, options.headers, options.n)
                full = _count(*counted, options.n)
                empty = _count(*counted, 0)
            except subprocess.CalledProcessError as exc:
                print(f"  {name:26} failed: {exc.stderr.strip().splitlines()[-1:]}")
                continue
            print(f"  {name:26} {(full - empty) / options.n / 1000:8.1f}k")


if __name__ == "__main__":
    main()
