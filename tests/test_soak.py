"""Ten thousand invocations in a row leave nothing behind: no pending tasks,
no new threads, no growing memory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bridge import Bridge
from bridge.asgi.loop import get_runner
from bridge.local.events import SOURCE_NAMES, FakeContext, build_event
from tests.apps import echo_app

INVOCATIONS = 10_000
#: Allowed growth in allocated memory blocks over the whole run: a leak of
#: one object per invocation would be 10,000.
BLOCK_SLACK = 1_000


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Keep bridge's log records (the rejected events) from the test report,
    which would hold every one of them in memory."""
    logger = logging.getLogger("bridge")
    logger.propagate = False
    logger.addHandler(handler := logging.NullHandler())
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def events() -> list[tuple[dict[str, Any], bool]]:
    """A mix of requests (every source, bodies, errors) and whether to give
    the invocation a deadline."""
    mixed = []
    for index, source in enumerate(SOURCE_NAMES):
        mixed.append((build_event(source), True))
        mixed.append((build_event(source, method="POST", path="/raw", body=b"x" * 2000), False))
        mixed.append((build_event(source, headers=[("X-Status", "503")]), True))
        bad = build_event(source)
        if source == "edge":
            bad["Records"][0]["cf"]["request"]["method"] = 5
        else:
            bad["httpMethod" if "httpMethod" in bad else "method"] = 5
            bad.get("requestContext", {}).get("http", {})["method"] = 5
        mixed.append((bad, index % 2 == 0))
    return mixed


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers like the ASGI echo app's status control, body echoed."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    status = environ.get("HTTP_X_STATUS", "200")
    start_response(f"{status} Whatever", [("Content-Type", "application/octet-stream")])
    return [body]


@pytest.mark.parametrize("interface", ["asgi", "wsgi"])
def test_ten_thousand_invocations_leave_nothing_behind(interface: str) -> None:
    if interface == "asgi":
        handler = Bridge(echo_app, lifespan="on")
    else:
        handler = Bridge(wsgi_app, interface="wsgi")
    requests = itertools.cycle(events())
    contexts = {True: FakeContext(timeout_ms=900_000), False: None}
    loop = get_runner().loop
    debug = loop.get_debug()
    loop.set_debug(False)  # PYTHONDEVMODE's asyncio debug mode costs 3x; not what is measured
    statuses = set()
    with quiet():
        for event, deadline in itertools.islice(requests, 500):  # warm up
            handler(event, contexts[deadline])
        gc.collect()
        tasks_before = len(asyncio.all_tasks(loop))
        threads_before = threading.active_count()
        blocks_before = sys.getallocatedblocks()
        for event, deadline in itertools.islice(requests, INVOCATIONS):
            response = handler(event, contexts[deadline])
            statuses.add(int(response.get("statusCode") or response["status"]))
        gc.collect()
        blocks_after = sys.getallocatedblocks()
    loop.set_debug(debug)
    try:
        assert statuses == {200, 400, 503}
        lifespan_tasks = 1 if interface == "asgi" else 0
        assert len(asyncio.all_tasks(loop)) == tasks_before == lifespan_tasks
        assert threading.active_count() == threads_before
        assert blocks_after - blocks_before < BLOCK_SLACK
    finally:
        handler.close()
    assert not asyncio.all_tasks(loop)
