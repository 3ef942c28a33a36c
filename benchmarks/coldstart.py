"""Cold start, in fresh interpreters.

Every child is ``python -S -c CODE`` with nothing imported before the part
measured but the built-in ``sys`` and ``time``, so no contender is handed a
module the harness happened to load already.  ``-S`` because ``site`` would
run the ``.pth`` hooks of site-packages first, and some load modules: an
editable install's hook alone loads ``pathlib``, ``re`` and
``urllib.parse``.  The site-packages folders are put on ``PYTHONPATH``
instead.

* ``import``: ``time.perf_counter`` around ``import MODULE`` alone, and
  whether ``asyncio`` was imported by it.
* ``import``, within the runtime client: the same, in a child that has
  first imported ``awslambdaric.bootstrap`` (untimed), as the Lambda runtime
  has when it imports the function's module.  The runtime client loads
  ``json``, ``logging``, ``re``, ``enum``, ``functools``, ``collections``
  and ``threading``, among others; an adapter that needs them finds them
  there.
* ``first``: the parent's clock from just before it starts the process to
  the line the child prints after its first correct response: interpreter
  start, imports, handler construction and the first invocation.
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

_IMPORT_CODE = """\
import sys, time
{before}
start = time.perf_counter()
{statement}
elapsed = time.perf_counter() - start
print(repr((elapsed, "asyncio" in sys.modules)))
"""

# The trivial apps, as source text: importing benchmarks/apps.py would load
# typing and collections.abc before the contender does.
_APPS = """\
async def asgi_app(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": b"hello"})


def wsgi_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"hello"]
"""

#: first-response label -> setup code defining ``handler``
FIRST: dict[str, str] = {
    "bridge ASGI": "from bridge import Bridge\nhandler = Bridge(asgi_app)",
    "mangum ASGI lifespan=off": (
        "from mangum import Mangum\nhandler = Mangum(asgi_app, lifespan='off')"
    ),
    "mangum ASGI lifespan=auto": "from mangum import Mangum\nhandler = Mangum(asgi_app)",
    "bridge WSGI": "from bridge import Bridge\nhandler = Bridge(wsgi_app)",
    "apig-wsgi": (
        "from apig_wsgi import make_lambda_handler\n"
        "handler = make_lambda_handler(wsgi_app, binary_support=True)"
    ),
    "serverless-wsgi": (
        "import serverless_wsgi\n"
        "def handler(event, context):\n"
        "    return serverless_wsgi.handle_request(wsgi_app, event, context)"
    ),
    "mangum + a2wsgi": (
        "from mangum import Mangum\nfrom a2wsgi import WSGIMiddleware\n"
        "handler = Mangum(WSGIMiddleware(wsgi_app), lifespan='off')"
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

_FIRST_CODE = """\
import sys
{apps}
try:
{setup}
except ImportError as exc:
    print(repr(("unavailable", f"{{type(exc).__name__}}: {{exc}}")), flush=True)
    raise SystemExit(0)
response = handler({event!r}, None)
ok = response.get("statusCode") == 200 and response.get("body") == "hello"
result = "ok" if ok else "wrong: " + repr(response)[:200]
print(repr((result, "asyncio" in sys.modules)), flush=True)
"""


def _first_code(label: str) -> str:
    setup = "\n".join("    " + line for line in FIRST[label].splitlines())
    return _FIRST_CODE.format(apps=_APPS, setup=setup, event=_EVENT)


#: Bytecode for every contender, bridge's source checkout included, is compiled
#: once into this folder by the untimed first pass and read from it afterwards,
#: as from an installed package.  Nothing is written into the work tree.
PYCACHE = os.path.join(tempfile.gettempdir(), "bridge-bench-pycache")


#: What the Lambda runtime has imported before it imports the function.
RUNTIME_CLIENT = "import awslambdaric.bootstrap"


def _env() -> dict[str, str]:
    import sysconfig

    env = dict(os.environ)
    paths = sysconfig.get_paths()
    site_packages = dict.fromkeys([paths["purelib"], paths["platlib"]])
    env["PYTHONPATH"] = os.pathsep.join([ROOT, HERE, *site_packages])
    env.pop("PYTHONDEVMODE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    return env


def _run(code: str) -> tuple[float, Any]:
    import ast

    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-S", "-c", code],
        stdout=subprocess.PIPE,
        env=_env(),
        cwd=HERE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    elapsed = time.perf_counter() - start
    process.communicate()
    return elapsed, ast.literal_eval(line) if line else ("error", f"exit {process.returncode}")


def measure(repeats: int) -> dict[str, Any]:
    import random

    from stats import Series

    shuffle = random.Random(7).shuffle
    codes = {("import", k): _IMPORT_CODE.format(before="", statement=v) for k, v in IMPORTS.items()}
    runtime_client = _run(RUNTIME_CLIENT + "\nprint(repr(('ok', False)))")[1][0] == "ok"
    if runtime_client:
        codes |= {
            ("runtime", k): _IMPORT_CODE.format(before=RUNTIME_CLIENT, statement=v)
            for k, v in IMPORTS.items()
        }
    codes |= {("first", k): _first_code(k) for k in FIRST}
    codes[("first", "python -c pass (for scale)")] = "print(repr(('ok', False)))"
    # One untimed pass of each: every .pyc exists and the page cache is warm.
    for code in codes.values():
        _run(code)
    imports = {label: Series(label) for label in IMPORTS}
    within_runtime = {label: Series(label) for kind, label in codes if kind == "runtime"}
    firsts = {label: Series(label) for kind, label in codes if kind == "first"}
    loads_asyncio: dict[str, bool] = {}
    notes: dict[str, str] = {}
    jobs = list(codes)
    for _ in range(repeats):
        shuffle(jobs)
        for kind, label in jobs:
            elapsed, (value, asyncio_loaded) = _run(codes[(kind, label)])
            if kind in ("import", "runtime") and not isinstance(value, float):
                notes[f"import {label}"] = f"{value}: {asyncio_loaded}"
            elif kind == "import":
                imports[label].samples.append(value)
                loads_asyncio[label] = asyncio_loaded
            elif kind == "runtime":
                within_runtime[label].samples.append(value)
            elif value == "ok":
                firsts[label].samples.append(elapsed)
                loads_asyncio[f"first: {label}"] = asyncio_loaded
            else:
                notes[label] = str(asyncio_loaded if value in ("unavailable", "error") else value)
    return {
        "imports": {k: {**v.summary(), "asyncio": loads_asyncio[k]} for k, v in imports.items()},
        "first": {
            k: {**v.summary(), "asyncio": loads_asyncio.get(f"first: {k}")}
            for k, v in firsts.items()
            if v.samples
        },
        "imports_within_runtime_client": {
            k: v.summary() for k, v in within_runtime.items() if v.samples
        },
        "notes": notes,
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3), indent=1))
