"""``python -m bridge.runtime [HANDLER]``: the command line and the settings
read from the environment, then what this process runs: the runtime
(:mod:`bridge.runtime.main`), a supervisor of worker processes
(:mod:`bridge.runtime.processes`, ``BRIDGE_WSGI_WORKERS=processes``) or one
of its workers.  The runtime's modules are imported once the choice is
made: a supervisor does without the event loop and the adapter.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from bridge.runtime.arguments import PROG, handler_argument
from bridge.runtime.link import WORKERS_ENV, WorkerLink, workers_setting

__all__ = ["main"]


def _concurrency(value: str | None) -> int:
    if value is None or not value.strip():
        return 1
    if not value.strip().isdigit() or int(value) < 1:
        raise ValueError(
            f"AWS_LAMBDA_MAX_CONCURRENCY must be a whole number of invocations (1 or more), "
            f"got {value!r}."
        )
    return int(value)


def main(argv: Sequence[str] | None = None) -> int:
    handler = handler_argument(sys.argv[1:] if argv is None else argv)
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
    try:
        if not address:
            raise ValueError(
                "AWS_LAMBDA_RUNTIME_API is not set: this command is the runtime of a Lambda "
                "function (a provided.al2023 bootstrap or a container ENTRYPOINT). Locally, "
                "use python -m bridge serve or invoke."
            )
        concurrency = _concurrency(os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY"))
        run = _entry(address, handler or os.environ.get("_HANDLER"), concurrency)
    except ValueError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        raise SystemExit(2) from None
    return run()


def _entry(address: str, spec: str | None, concurrency: int) -> Callable[[], int]:
    """What this process runs: the runtime, a supervisor of worker processes
    (``BRIDGE_WSGI_WORKERS=processes``), or one of those workers."""
    processes = workers_setting(os.environ.get(WORKERS_ENV)) == "processes"
    link = WorkerLink.from_environ()
    if link is not None:
        from bridge.runtime.main import Runtime, run_forever

        worker = Runtime(address, spec, concurrency=1, link=link)

        def serve_as_worker() -> int:
            try:
                return run_forever(worker.serve)
            finally:
                link.close()

        return serve_as_worker
    if processes and concurrency > 1:
        from bridge.snapstart import is_snap_start

        if is_snap_start():
            raise ValueError(
                f"{WORKERS_ENV}=processes does not support SnapStart "
                f"(AWS_LAMBDA_INITIALIZATION_TYPE=snap-start): unset one or the other."
            )
        from bridge.runtime.processes import Supervisor

        return Supervisor(address, spec, concurrency).run
    from bridge.runtime.main import Runtime, run_forever

    runtime = Runtime(address, spec, concurrency=concurrency)
    return lambda: run_forever(runtime.serve)
