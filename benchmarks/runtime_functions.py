"""The Lambda handlers the runtime benchmark (``runtime.py``) starts, by
Lambda's ``module.attr`` handler setting: ``runtime_functions.ATTR``.

``ATTR`` is ``<wrapper>_<app>``, built on first access, so that a process
imports only its own framework and adapter:

* ``app_<app>``: the bare app, for ``python -m bridge.runtime`` (which wraps
  it in ``Bridge(app)`` itself);
* ``bridge_<app>``, ``mangum_<app>`` (``lifespan="off"``),
  ``mangumauto_<app>`` (Mangum's default), ``mangumwsgi_<app>`` (Mangum over
  ``a2wsgi``), ``apigwsgi_<app>``: a ``handler(event, context)`` for
  ``python -m awslambdaric``.

``<app>`` is an ``apps.APPS`` name with ``_`` for ``-``: ``trivial_asgi``,
``fastapi_async``, ``flask``...

``streaming_asgi`` and ``streaming_wsgi`` send :data:`CHUNKS` chunks
:data:`GAP_S` apart, each the ``time.perf_counter()`` of its sending, for
the streaming measure (``BRIDGE_INVOKE_MODE=RESPONSE_STREAM``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import apps

# As in the in-process benchmark: Mangum logs every lifespan-less startup.
logging.getLogger("mangum").setLevel(logging.ERROR)
logging.getLogger("mangum.lifespan").setLevel(logging.ERROR)

_built: dict[str, Any] = {}

CHUNKS = 5
GAP_S = 0.005


def mark() -> bytes:
    """A chunk: the time it is sent.  ``perf_counter`` is CLOCK_MONOTONIC on
    Linux, one clock for every process of the machine."""
    return b"<%.9f>" % time.perf_counter()


async def streaming_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    for n in range(CHUNKS):
        if n:
            await asyncio.sleep(GAP_S)
        await send({"type": "http.response.body", "body": mark(), "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def streaming_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    for n in range(CHUNKS):
        if n:
            time.sleep(GAP_S)
        yield mark()


def _wrap(wrapper: str, app: Any) -> Any:
    if wrapper == "app":
        return app
    if wrapper == "bridge":
        from bridge import Bridge

        return Bridge(app)
    if wrapper in ("mangum", "mangumauto"):
        from mangum import Mangum

        return Mangum(app, lifespan="off" if wrapper == "mangum" else "auto")
    if wrapper == "mangumwsgi":
        from a2wsgi import WSGIMiddleware
        from mangum import Mangum

        return Mangum(WSGIMiddleware(app), lifespan="off")  # type: ignore[arg-type]
    if wrapper == "apigwsgi":
        from apig_wsgi import make_lambda_handler

        return make_lambda_handler(app, binary_support=True)
    raise AttributeError(f"no wrapper {wrapper!r}")


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    if name not in _built:
        wrapper, _, app_name = name.partition("_")
        try:
            _, factory = apps.APPS[app_name.replace("_", "-")]
        except KeyError:
            raise AttributeError(f"no app {app_name!r} in apps.APPS") from None
        _built[name] = _wrap(wrapper, factory())
    return _built[name]
