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
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]

MiB = 2**20


def _run_bare(step: Callable[[Any], Any], args: list[Any]) -> float:
    """A bare codec step as a contender's batch: the seconds ``args`` take."""
    start = time.perf_counter()
    for arg in args:
        step(arg)
    return time.perf_counter() - start


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

    def measure(
        case: str,
        event: dict[str, Any],
        *,
        factories: list[tuple[str, Callable[[], cs.Contender]]],
        expected: bytes,
        bare: list[tuple[str, Callable[[Any], Any]]],
        bare_input: Any,
        body_bytes: int,
    ) -> dict[str, Any]:
        """Every contender that answers ``event`` with ``expected``, and the
        bare codec steps on ``bare_input``, timed interleaved; peak memory of each."""
        runners: list[tuple[str, Callable[[list[Any]], float], Callable[[], Any]]] = []
        notes: dict[str, str] = {}
        memory: dict[str, int] = {}
        for label, factory in factories:
            try:
                contender = factory()
            except cs.Unavailable as exc:
                notes[label] = str(exc)
                continue
            status, _, got = contender.check(cs.copy_event(event))
            if status != 200 or got != expected:
                notes[label] = f"wrong response (status {status}, {got[:40]!r})"
                continue
            runners.append((label, contender.run_batch, partial(contender.prepare, event)))
            memory[label] = min(_peak_of(contender, event) for _ in range(2))
        for label, step in bare:
            runners.append((label, partial(_run_bare, step), lambda: bare_input))
            memory[label] = _peak(partial(step, bare_input))
        series = interleave(runners, rounds=options.rounds, batch=1)
        return {
            "case": case,
            "body_bytes": body_bytes,
            "reference": bare[0][0],
            "rows": {
                name: {**s.summary(), "peak_bytes": memory[name]} for name, s in series.items()
            },
            "notes": notes,
        }

    def response_case(size: int) -> dict[str, Any]:
        body = blob[size]
        expected = base64.b64encode(body).decode("ascii")
        bare: list[tuple[str, Callable[[Any], Any]]] = [
            ("bare: base64.b64encode().decode()", lambda b: base64.b64encode(b).decode("ascii")),
        ]
        if not options.no_pybase64:
            import pybase64

            bare.append(("bare: pybase64.b64encode_as_string()", pybase64.b64encode_as_string))
        assert all(step(body) == expected for _, step in bare)
        return measure(
            f"{size} MiB binary response",
            build_event("http", path="/blob", headers=[("Accept", "*/*")]),
            factories=[
                ("bridge (ASGI)", lambda: cs.bridge(apps.blob_asgi(body), "http", "asgi")),
                ("bridge (WSGI)", lambda: cs.bridge(apps.blob_wsgi(body), "http", "wsgi")),
                ("mangum lifespan=off", lambda: cs.mangum(apps.blob_asgi(body), "http", "asgi")),
                ("apig-wsgi", lambda: cs.apig_wsgi(apps.blob_wsgi(body), "http", "wsgi")),
                (
                    "serverless-wsgi",
                    lambda: cs.serverless_wsgi(apps.blob_wsgi(body), "http", "wsgi"),
                ),
            ],
            expected=body,
            bare=bare,
            bare_input=body,
            body_bytes=len(body),
        )

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
        bare: list[tuple[str, Callable[[Any], Any]]] = [
            ("bare: base64.b64decode()", base64.b64decode)
        ]
        if not options.no_pybase64:
            import pybase64

            bare.append(("bare: pybase64.b64decode()", pybase64.b64decode))
        assert all(step(encoded) == body for _, step in bare)
        return measure(
            "4 MiB base64 request body",
            event,
            factories=[
                ("bridge (ASGI)", lambda: cs.bridge(apps.echo_length_asgi, "http", "asgi")),
                ("bridge (WSGI)", lambda: cs.bridge(apps.echo_length_wsgi, "http", "wsgi")),
                ("mangum lifespan=off", lambda: cs.mangum(apps.echo_length_asgi, "http", "asgi")),
                ("apig-wsgi", lambda: cs.apig_wsgi(apps.echo_length_wsgi, "http", "wsgi")),
                (
                    "serverless-wsgi",
                    lambda: cs.serverless_wsgi(apps.echo_length_wsgi, "http", "wsgi"),
                ),
            ],
            expected=f"{len(body)} {body[:1].hex()}".encode(),
            bare=bare,
            bare_input=encoded,
            body_bytes=len(body),
        )

    results["cases"] = [response_case(1), response_case(4), request_case()]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
