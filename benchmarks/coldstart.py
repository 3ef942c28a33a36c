"""Cold start, in fresh interpreters.

As a child (``coldstart.py import MODULE`` or ``coldstart.py first CONTENDER``)
it prints one JSON line; ``measure()`` (used by ``run.py``) starts the children
interleaved and collects medians.

* ``import``: ``time.perf_counter`` around ``import MODULE`` alone, and whether
  ``asyncio`` was imported by it.
* ``first``: the parent's clock from just before it starts the process to the
  line the child prints after its first correct response: interpreter start,
  imports, handler construction and the first invocation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

#: import label -> the statement timed.
IMPORTS = {
    "bridge": "import bridge",
    "mangum": "import mangum",
    "apig_wsgi": "import apig_wsgi",
    "serverless_wsgi": "import serverless_wsgi",
    "mangum + a2wsgi": "import mangum, a2wsgi",
    "asyncio (for scale)": "import asyncio",
}

#: first-response label -> (interface, setup code defining ``handler``)
FIRST: dict[str, tuple[str, str]] = {
    "bridge ASGI": ("asgi", "from bridge import Bridge\nhandler = Bridge(apps.trivial_asgi)"),
    "mangum ASGI lifespan=off": (
        "asgi",
        "from mangum import Mangum\nhandler = Mangum(apps.trivial_asgi, lifespan='off')",
    ),
    "mangum ASGI lifespan=auto": (
        "asgi",
        "from mangum import Mangum\nhandler = Mangum(apps.trivial_asgi)",
    ),
    "bridge WSGI": ("wsgi", "from bridge import Bridge\nhandler = Bridge(apps.trivial_wsgi)"),
    "apig-wsgi": (
        "wsgi",
        "from apig_wsgi import make_lambda_handler\n"
        "handler = make_lambda_handler(apps.trivial_wsgi, binary_support=True)",
    ),
    "serverless-wsgi": (
        "wsgi",
        "import serverless_wsgi\n"
        "def handler(event, context):\n"
        "    return serverless_wsgi.handle_request(apps.trivial_wsgi, event, context)",
    ),
    "mangum + a2wsgi": (
        "wsgi",
        "from mangum import Mangum\nfrom a2wsgi import WSGIMiddleware\n"
        "handler = Mangum(WSGIMiddleware(apps.trivial_wsgi), lifespan='off')",
    ),
}

_EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/hello",
    "rawQueryString": "",
    "headers": {"host": "example.com", "x-forwarded-proto": "https", "x-forwarded-port": "443"},
    "requestContext": {
        "domainName": "example.com",
        "stage": "$default",
        "http": {"method": "GET", "path": "/hello", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
        "requestId": "x",
    },
    "isBase64Encoded": False,
}


def _child_import(label: str) -> None:
    statement = IMPORTS[label]
    had_asyncio = "asyncio" in sys.modules
    start = time.perf_counter()
    exec(statement)
    elapsed = time.perf_counter() - start
    print(json.dumps({"seconds": elapsed, "asyncio": "asyncio" in sys.modules and not had_asyncio}))


def _child_first(label: str) -> None:
    # The apps module is tiny and imports nothing at module level but typing.
    import apps

    namespace: dict[str, Any] = {"apps": apps}
    try:
        exec(FIRST[label][1], namespace)
    except ImportError as exc:
        print(json.dumps({"unavailable": f"{type(exc).__name__}: {exc}"}), flush=True)
        return
    response = namespace["handler"](json.loads(json.dumps(_EVENT)), None)
    ok = response.get("statusCode") == 200 and response.get("body") == "hello"
    print(json.dumps({"ok": ok, "asyncio": "asyncio" in sys.modules}), flush=True)


#: Bytecode for every contender, bridge's source checkout included, is compiled
#: once into this folder by the untimed first pass and read from it afterwards,
#: as from an installed package.  Nothing is written into the work tree.
PYCACHE = os.path.join(tempfile.gettempdir(), "bridge-bench-pycache")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT, HERE])
    env.pop("PYTHONDEVMODE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    return env


def _run(args: list[str]) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, env=_env(), cwd=HERE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    elapsed = time.perf_counter() - start
    process.communicate()
    return elapsed, json.loads(line) if line else {"error": f"exit {process.returncode}"}


def measure(repeats: int) -> dict[str, Any]:
    import random

    from stats import Series

    shuffle = random.Random(7).shuffle
    # One untimed pass of each, so every .pyc exists and the page cache is warm.
    for label in IMPORTS:
        _run([__file__, "import", label])
    for label in FIRST:
        _run([__file__, "first", label])
    imports = {label: Series(label) for label in IMPORTS}
    loads_asyncio: dict[str, bool] = {}
    firsts = {label: Series(label) for label in [*FIRST, "python -c pass (for scale)"]}
    notes: dict[str, str] = {}
    jobs = [("import", label) for label in IMPORTS] + [("first", label) for label in firsts]
    for _ in range(repeats):
        shuffle(jobs)
        for kind, label in jobs:
            if kind == "import":
                _, data = _run([__file__, "import", label])
                imports[label].samples.append(data["seconds"])
                loads_asyncio[label] = data["asyncio"]
            elif label.startswith("python -c"):
                elapsed, _ = _run(["-c", "print('{}')"])
                firsts[label].samples.append(elapsed)
            else:
                elapsed, data = _run([__file__, "first", label])
                if "unavailable" in data:
                    notes[label] = data["unavailable"]
                elif not data.get("ok"):
                    notes[label] = f"wrong first response: {data}"
                else:
                    firsts[label].samples.append(elapsed)
                    loads_asyncio[f"first: {label}"] = data["asyncio"]
    return {
        "imports": {k: {**v.summary(), "asyncio": loads_asyncio[k]} for k, v in imports.items()},
        "first": {
            k: {**v.summary(), "asyncio": loads_asyncio.get(f"first: {k}")}
            for k, v in firsts.items()
            if v.samples
        },
        "notes": notes,
    }


if __name__ == "__main__":
    if sys.argv[1] == "import":
        _child_import(sys.argv[2])
    else:
        _child_first(sys.argv[2])
