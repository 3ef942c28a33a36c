"""The contenders: adapters (called with a Lambda event) and floors (the app
called directly).  Each one is a :class:`Contender` with three steps:

* ``prepare(event)``: what one call consumes, made outside the timed region
  (a fresh copy of the event, or a fresh scope/environ for the floors);
* ``run_batch(args)``: calls it once per argument and returns the seconds taken;
* ``check(event)``: one call, decoded to ``(status, headers, body)``, compared
  with the expected answer before anything is timed.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridge.local.events import FakeContext
from bridge.local.responses import decode_response


class InvocationContext(FakeContext):
    """A context that every invocation receives as Lambda gives it: with the
    function's whole timeout still ahead (a plain ``FakeContext`` counts down
    from its creation, and a long run would outlive it)."""

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


CONTEXT = InvocationContext()
# Mangum logs every lifespan-less startup at INFO/WARNING; keep the output readable.
logging.getLogger("mangum").setLevel(logging.ERROR)
logging.getLogger("mangum.lifespan").setLevel(logging.ERROR)
logging.getLogger("bridge").setLevel(logging.ERROR)

Result = tuple[int, list[tuple[str, str]], bytes]


class Unavailable(Exception):
    """This contender cannot run here; the message says why."""


@dataclass
class Contender:
    name: str
    prepare: Callable[[Any], Any]
    run_batch: Callable[[list[Any]], float]
    check: Callable[[Any], Result]


def copy_event(value: Any) -> Any:
    """A fresh deep copy of a JSON-shaped event (strings are shared: immutable)."""
    if isinstance(value, dict):
        return {k: copy_event(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_event(v) for v in value]
    return value


def _event_contender(name: str, source: str, handler: Callable[[Any, Any], Any]) -> Contender:
    def run_batch(events: list[Any]) -> float:
        context = CONTEXT
        start = time.perf_counter()
        for event in events:
            handler(event, context)
        return time.perf_counter() - start

    def check(event: Any) -> Result:
        return decode_response(source, handler(copy_event(event), CONTEXT))

    return Contender(name, copy_event, run_batch, check)


# ----------------------------------------------------------------- adapters


def bridge(app: Any, source: str, interface: str) -> Contender:
    from bridge import Bridge

    try:
        handler = Bridge(app)
    except ImportError as exc:
        if interface == "wsgi":
            raise Unavailable("bridge: WSGI support not available in this checkout") from exc
        raise
    return _event_contender("bridge", source, handler)


def mangum(app: Any, source: str, interface: str, lifespan: str = "off") -> Contender:
    try:
        from mangum import Mangum
    except ImportError as exc:
        raise Unavailable(f"mangum not installed ({exc})") from exc
    if interface == "wsgi":
        try:
            from a2wsgi import WSGIMiddleware
        except ImportError as exc:
            raise Unavailable(f"a2wsgi not installed ({exc})") from exc
        app = WSGIMiddleware(app)
    handler = Mangum(app, lifespan=lifespan)  # type: ignore[arg-type]
    label = "mangum+a2wsgi" if interface == "wsgi" else f"mangum lifespan={lifespan}"
    return _event_contender(label, source, handler)


def apig_wsgi(app: Any, source: str, interface: str) -> Contender:
    try:
        from apig_wsgi import make_lambda_handler
    except ImportError as exc:
        raise Unavailable(f"apig-wsgi not installed ({exc})") from exc
    return _event_contender("apig-wsgi", source, make_lambda_handler(app, binary_support=True))


def serverless_wsgi(app: Any, source: str, interface: str) -> Contender:
    try:
        import serverless_wsgi as sw  # type: ignore[import-untyped]
    except ImportError as exc:
        raise Unavailable(f"serverless-wsgi not installed ({exc})") from exc
    return _event_contender(
        "serverless-wsgi", source, lambda event, context: sw.handle_request(app, event, context)
    )


# ------------------------------------------------------------------- floors


def _template_scope(event: Any, source: str) -> dict[str, Any]:
    """The scope a server would hand the app for this event (bridge builds it once)."""
    from bridge.sources import BUILTIN_SOURCES, SourceConfig

    for candidate in BUILTIN_SOURCES:
        if candidate.matches(event):
            scope, _ = candidate.to_request(copy_event(event), CONTEXT, SourceConfig())
            scope.pop("aws.event", None)
            scope.pop("aws.context", None)
            return dict(scope)
    raise Unavailable(f"no scope for {source}")


class _Collector:
    """``receive`` and ``send`` for one direct call: the body in, messages out."""

    __slots__ = ("body", "messages", "request")

    def __init__(self, body: bytes) -> None:
        self.request = {"type": "http.request", "body": body, "more_body": False}
        self.messages: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        request = self.request
        if request is None:  # asked again: the client has gone (no app here waits for it)
            return {"type": "http.disconnect"}
        self.request = None  # type: ignore[assignment]
        return request

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    def result(self) -> Result:
        start = self.messages[0]
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
        body = b"".join(m.get("body", b"") for m in self.messages[1:])
        return start["status"], headers, body


def _fresh_scope(template: dict[str, Any]) -> Callable[[Any], tuple[dict[str, Any], _Collector]]:
    def prepare(event: Any) -> tuple[dict[str, Any], _Collector]:
        scope = dict(template)
        scope["headers"] = list(template["headers"])
        return scope, _Collector(b"")

    return prepare


_FLOOR_LOOP: asyncio.AbstractEventLoop | None = None


def _floor_loop() -> asyncio.AbstractEventLoop:
    global _FLOOR_LOOP
    if _FLOOR_LOOP is None:
        _FLOOR_LOOP = asyncio.new_event_loop()
    return _FLOOR_LOOP


def asgi_awaited(app: Any, source: str, interface: str, event: Any) -> Contender:
    """The floor: the app awaited in a loop that is already running."""
    template = _template_scope(event, source)
    loop = _floor_loop()

    async def batch(args: list[Any]) -> float:
        start = time.perf_counter()
        for scope, io_ in args:
            await app(scope, io_.receive, io_.send)
        return time.perf_counter() - start

    def check(event: Any) -> Result:
        scope, io_ = _fresh_scope(template)(event)
        loop.run_until_complete(app(scope, io_.receive, io_.send))
        return io_.result()

    return Contender(
        "floor: awaited in running loop",
        _fresh_scope(template),
        lambda args: loop.run_until_complete(batch(args)),
        check,
    )


def asgi_run_until_complete(app: Any, source: str, interface: str, event: Any) -> Contender:
    """The floor for any adapter with its own loop: one ``run_until_complete`` per call."""
    template = _template_scope(event, source)
    loop = _floor_loop()

    def run_batch(args: list[Any]) -> float:
        run = loop.run_until_complete
        start = time.perf_counter()
        for scope, io_ in args:
            run(app(scope, io_.receive, io_.send))
        return time.perf_counter() - start

    def check(event: Any) -> Result:
        scope, io_ = _fresh_scope(template)(event)
        loop.run_until_complete(app(scope, io_.receive, io_.send))
        return io_.result()

    return Contender("floor: run_until_complete", _fresh_scope(template), run_batch, check)


def _template_environ(template: dict[str, Any]) -> dict[str, Any]:
    host, port = template["server"] or ("localhost", 443)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": template["method"],
        "SCRIPT_NAME": template["root_path"],
        "PATH_INFO": template["path"][len(template["root_path"]) :],
        "QUERY_STRING": template["query_string"].decode("latin-1"),
        "SERVER_NAME": host,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": (template["client"] or ("127.0.0.1", 0))[0],
        "CONTENT_LENGTH": "0",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": template["scheme"],
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in template["headers"]:
        key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        environ[key] = value.decode("latin-1")
    return environ


def wsgi_direct(app: Any, source: str, interface: str, event: Any) -> Contender:
    """The floor: the WSGI app called directly with a prepared environ."""
    template = _template_environ(_template_scope(event, source))

    def prepare(event: Any) -> Any:
        environ = dict(template)
        environ["wsgi.input"] = io.BytesIO(b"")
        return environ

    def call(environ: dict[str, Any]) -> Result:
        state: list[Any] = []

        def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            state[:] = [status, headers]
            return None

        iterable = app(environ, start_response)
        try:
            body = b"".join(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return int(state[0].split()[0]), list(state[1]), body

    def run_batch(args: list[Any]) -> float:
        start = time.perf_counter()
        for environ in args:
            call(environ)
        return time.perf_counter() - start

    return Contender("floor: called directly", prepare, run_batch, lambda e: call(prepare(e)))


#: Factories per interface, in report order.
ADAPTERS: dict[str, list[Callable[..., Contender]]] = {
    "asgi": [
        bridge,
        lambda app, source, interface: mangum(app, source, interface, "off"),
        lambda app, source, interface: mangum(app, source, interface, "auto"),
    ],
    "wsgi": [bridge, mangum, apig_wsgi, serverless_wsgi],
}
FLOORS: dict[str, list[Callable[..., Contender]]] = {
    "asgi": [asgi_awaited, asgi_run_until_complete],
    "wsgi": [wsgi_direct],
}
