"""Large bodies: time and peak memory of 1 MiB and 4 MiB binary responses and
of a 4 MiB base64 request body, against the bare base64 step.

Run by ``run.py`` in a child process (``--no-pybase64`` hides pybase64 so
that bridge falls back to the standard library); prints one JSON document.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]

MiB = 2**20


def _peak(call: Callable[[], Any]) -> int:
    """Peak bytes allocated during ``call`` above what was allocated before it."""
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak - before


def _peak_of(contender: Any, event: Any) -> int:
    arg = contender.prepare(event)  # the fresh event copy is not counted
    return _peak(lambda: contender.run_batch([arg]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-pybase64", action="store_true")
    parser.add_argument("--rounds", type=int, default=15)
    options = parser.parse_args()
    if options.no_pybase64:
        sys.modules["pybase64"] = None  # type: ignore[assignment]  # import now fails

    import apps
    import contenders as cs
    from stats import interleave

    from bridge.local.events import build_event

    results: dict[str, Any] = {"pybase64": not options.no_pybase64, "cases": []}
    blob = {size: os.urandom(size * MiB) for size in (1, 4)}

    def response_case(size: int) -> dict[str, Any]:
        body = blob[size]
        expected = base64.b64encode(body).decode("ascii")
        event = build_event("http", path="/blob", headers=[("Accept", "*/*")])
        runners = []
        notes = {}
        factories: list[tuple[str, Callable[[], cs.Contender]]] = [
            ("bridge (ASGI)", lambda: cs.bridge(apps.blob_asgi(body), "http", "asgi")),
            ("bridge (WSGI)", lambda: cs.bridge(apps.blob_wsgi(body), "http", "wsgi")),
            ("mangum lifespan=off", lambda: cs.mangum(apps.blob_asgi(body), "http", "asgi")),
            ("apig-wsgi", lambda: cs.apig_wsgi(apps.blob_wsgi(body), "http", "wsgi")),
            ("serverless-wsgi", lambda: cs.serverless_wsgi(apps.blob_wsgi(body), "http", "wsgi")),
        ]
        memory = {}
        for label, factory in factories:
            try:
                contender = factory()
            except cs.Unavailable as exc:
                notes[label] = str(exc)
                continue
            handler_event = cs.copy_event(event)
            status, _, got = contender.check(handler_event)
            if status != 200 or got != body:
                notes[label] = f"wrong response (status {status}, {len(got)} bytes)"
                continue
            runners.append((label, contender.run_batch, lambda c=contender: c.prepare(event)))
            memory[label] = min(_peak_of(contender, event) for _ in range(2))
        bare = [
            ("bare: base64.b64encode().decode()", lambda b: base64.b64encode(b).decode("ascii")),
        ]
        if not options.no_pybase64:
            import pybase64

            bare.append(("bare: pybase64.b64encode_as_string()", pybase64.b64encode_as_string))
        for label, encode in bare:
            assert encode(body) == expected

            def run(args: list[Any], encode: Callable[[bytes], str] = encode) -> float:
                import time

                start = time.perf_counter()
                for arg in args:
                    encode(arg)
                return time.perf_counter() - start

            runners.append((label, run, lambda: body))
            memory[label] = _peak(lambda encode=encode: encode(body))
        series = interleave(runners, rounds=options.rounds, batch=1)
        return {
            "case": f"{size} MiB binary response",
            "body_bytes": len(body),
            "reference": "bare: base64.b64encode().decode()",
            "rows": {
                name: {**s.summary(), "peak_bytes": memory[name]} for name, s in series.items()
            },
            "notes": notes,
        }

    def request_case() -> dict[str, Any]:
        body = os.urandom(4 * MiB)
        event = build_event(
            "http",
            method="POST",
            path="/echo",
            headers=[("Content-Type", "application/octet-stream")],
            body=body,
        )
        assert event["isBase64Encoded"]
        encoded = event["body"]
        expected = f"{len(body)} {body[:1].hex()}".encode()
        factories: list[tuple[str, Callable[[], cs.Contender]]] = [
            ("bridge (ASGI)", lambda: cs.bridge(apps.echo_length_asgi, "http", "asgi")),
            ("bridge (WSGI)", lambda: cs.bridge(apps.echo_length_wsgi, "http", "wsgi")),
            ("mangum lifespan=off", lambda: cs.mangum(apps.echo_length_asgi, "http", "asgi")),
            ("apig-wsgi", lambda: cs.apig_wsgi(apps.echo_length_wsgi, "http", "wsgi")),
            ("serverless-wsgi", lambda: cs.serverless_wsgi(apps.echo_length_wsgi, "http", "wsgi")),
        ]
        runners = []
        notes = {}
        memory = {}
        for label, factory in factories:
            try:
                contender = factory()
            except cs.Unavailable as exc:
                notes[label] = str(exc)
                continue
            status, _, got = contender.check(event)
            if status != 200 or got != expected:
                notes[label] = f"wrong response (status {status}, {got[:40]!r})"
                continue
            runners.append((label, contender.run_batch, lambda c=contender: c.prepare(event)))
            memory[label] = min(_peak_of(contender, event) for _ in range(2))
        bare = [("bare: base64.b64decode()", base64.b64decode)]
        if not options.no_pybase64:
            import pybase64

            bare.append(("bare: pybase64.b64decode()", pybase64.b64decode))
        for label, decode in bare:
            assert decode(encoded) == body

            def run(args: list[Any], decode: Callable[[str], bytes] = decode) -> float:
                import time

                start = time.perf_counter()
                for arg in args:
                    decode(arg)
                return time.perf_counter() - start

            runners.append((label, run, lambda: encoded))
            memory[label] = _peak(lambda decode=decode: decode(encoded))
        series = interleave(runners, rounds=options.rounds, batch=1)
        return {
            "case": "4 MiB base64 request body",
            "body_bytes": len(body),
            "reference": "bare: base64.b64decode()",
            "rows": {
                name: {**s.summary(), "peak_bytes": memory[name]} for name, s in series.items()
            },
            "notes": notes,
        }

    results["cases"] = [response_case(1), response_case(4), request_case()]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
