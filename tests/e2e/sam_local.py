"""SAM CLI's local API Gateway, without Docker, and plain servers to compare it with.

``sam local start-api`` is a Flask application (``LocalApigwService``) that turns each HTTP
request into an API Gateway event, hands it to a *lambda runner* (normally one that starts a
Docker container), and turns the function's JSON answer back into an HTTP response.
:class:`InProcessRunner` is a lambda runner that calls a :class:`bridge.Bridge` handler in this
process instead, one invocation at a time on one thread of its own, as Lambda does.

Everything listens on loopback on a port the OS picks, runs on daemon threads, and is shut down
when its context manager exits.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from bridge import Bridge
from bridge.local.events import FakeContext

#: Longest a single invocation, a server start or a server stop may take.
LIMIT_S = 30.0
#: How often a Werkzeug server checks whether it was asked to stop (its default is 0.5 s).
POLL_S = 0.05

#: What the services treat as binary: request bodies of these types reach the function
#: base64-encoded, and REST API responses of these types are decoded from base64 (the API's
#: ``BinaryMediaTypes``).
BINARY_MEDIA_TYPES = ("application/octet-stream",)

#: The kinds of API Gateway route SAM emulates: (name, event type, payload format version).
#: The names are bridge's source names for the event each one sends.
ROUTE_KINDS = {
    "rest": ("Api", None),
    "http-v1": ("HttpApi", "1.0"),
    "http": ("HttpApi", "2.0"),
}


class InProcessRunner:
    """A SAM lambda runner (``LocalLambdaRunner``'s interface) that calls bridge handlers.

    ``handlers`` maps function names (those of the routes) to handlers. Invocations are
    serialised on one worker thread: a Lambda instance handles one event at a time.
    """

    def __init__(self, handlers: dict[str, Bridge]) -> None:
        self.handlers = handlers
        self.events: list[dict[str, Any]] = []
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sam-lambda")

    def is_debugging(self) -> bool:
        return False

    def invoke(
        self,
        function_identifier: str,
        event: str,
        stdout: Any = None,
        stderr: Any = None,
        tenant_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Run the function on ``event`` (JSON text) and write its JSON answer to ``stdout``."""
        handler = self.handlers[function_identifier]
        decoded = json.loads(event)
        self.events.append(decoded)
        future = self._worker.submit(
            handler, decoded, FakeContext(function_name=function_identifier)
        )
        response = future.result(timeout=LIMIT_S)
        stdout.write_str(json.dumps(response))

    def close(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)


@dataclass
class Running:
    """A server on loopback: its base URL."""

    url: str


def _make_routes(kind: str, function_name: str) -> list[Any]:
    from samcli.local.apigw.route import Route  # type: ignore[import-untyped]

    event_type, version = ROUTE_KINDS[kind]
    if event_type == "HttpApi":
        # An HTTP API's ``$default`` route catches every path, the root included.
        return [
            Route(
                function_name=function_name,
                path="$default",
                methods=["ANY"],
                event_type=event_type,
                payload_format_version=version,
            )
        ]
    # A REST API's greedy ``{proxy+}`` does not match the root: that is a resource of its own.
    return [
        Route(function_name=function_name, path=path, methods=["ANY"], event_type=event_type)
        for path in ("/", "/{proxy+}")
    ]


@contextmanager
def sam_local_api(kind: str, handler: Bridge) -> Iterator[tuple[Running, InProcessRunner]]:
    """SAM's local API Gateway, with one catch-all route of ``kind`` served by ``handler``.

    SAM's own ``run()`` blocks, installs a SIGTERM handler (main thread only) and serves
    ``service._app`` with Werkzeug's development server; here that same Flask application is
    served by the same server on a thread, and stopped on exit.
    """
    from samcli.lib.providers.provider import Api  # type: ignore[import-untyped]
    from samcli.lib.telemetry.event import EventTracker  # type: ignore[import-untyped]
    from samcli.local.apigw.local_apigw_service import (  # type: ignore[import-untyped]
        LocalApigwService,
    )
    from werkzeug.serving import WSGIRequestHandler, make_server

    api = Api(routes=_make_routes(kind, "bridge"))
    api.binary_media_types_set = set(BINARY_MEDIA_TYPES)
    runner = InProcessRunner({"bridge": handler})
    # create() sets this class attribute for every Werkzeug server in the process: restored below.
    protocol_version = WSGIRequestHandler.protocol_version
    with pytest.MonkeyPatch.context() as patch:
        # SAM records a telemetry event per request and sends them in batches; none here.
        patch.setenv("SAM_CLI_TELEMETRY", "0")
        patch.setattr(EventTracker, "track_event", staticmethod(lambda *args, **kwargs: None))
        try:
            service = LocalApigwService(api, runner, host="127.0.0.1", port=0)
            service.create()
            server = make_server("127.0.0.1", 0, service._app, threaded=True)
            # The port goes into the events SAM builds (``X-Forwarded-Port``).
            service.port = server.server_port
            with _serving(partial(server.serve_forever, POLL_S), server.shutdown):
                try:
                    yield Running(f"http://127.0.0.1:{server.server_port}"), runner
                finally:
                    server.server_close()
        finally:
            WSGIRequestHandler.protocol_version = protocol_version
            runner.close()


@contextmanager
def wsgi_server(app: Any) -> Iterator[Running]:
    """``app`` on Werkzeug's threaded development server."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    with _serving(partial(server.serve_forever, POLL_S), server.shutdown):
        try:
            yield Running(f"http://127.0.0.1:{server.server_port}")
        finally:
            server.server_close()


@contextmanager
def asgi_server(app: Any) -> Iterator[Running]:
    """``app`` on uvicorn, with lifespan, on a socket bound before the server starts (so a
    request made at once waits in the listen queue rather than failing)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    server = uvicorn.Server(config)

    def run() -> None:
        asyncio.run(server.serve(sockets=[sock]))

    def stop() -> None:
        server.should_exit = True

    try:
        with _serving(run, stop):
            yield Running(f"http://127.0.0.1:{port}")
    finally:
        sock.close()


@contextmanager
def _serving(serve: Any, stop: Any) -> Iterator[None]:
    """``serve()`` on a daemon thread until the block exits, then ``stop()`` and a bounded join."""
    thread = threading.Thread(target=serve, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop()
        thread.join(LIMIT_S)
        if thread.is_alive():
            raise RuntimeError(f"the server thread did not stop within {LIMIT_S} s")
