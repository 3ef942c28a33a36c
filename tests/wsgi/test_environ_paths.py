"""The two ways to an environ give the same one.

For the built-in event sources the WSGI environ is built straight from the
text the source read (``request_environ``); from an ASGI scope (custom
sources, ``WSGIMiddleware``) it is built by ``build_environ``.  Whatever the
request, both must agree, key by key, and fail on the same events.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.errors import MalformedEventError
from bridge.local.events import SOURCE_NAMES, build_event
from bridge.sources import SourceConfig, SourceSelector
from bridge.wsgi import build_environ, request_environ
from tests.strategies import requests

CONFIGS = {
    "plain": SourceConfig(),
    "base path": SourceConfig(base_path="/api"),
}


def comparable(environ: dict[str, Any]) -> dict[str, Any]:
    """The environ with ``wsgi.input`` read out (each is a new stream)."""
    result = dict(environ)
    result["wsgi.input"] = environ["wsgi.input"].read()
    return result


def both_environs(event: dict[str, Any], config: SourceConfig) -> tuple[Any, Any]:
    source = SourceSelector().select(event)
    assert source.read is not None
    try:
        direct: Any = comparable(request_environ(source.read(event, None, config)))
    except MalformedEventError as exc:
        direct = ("rejected", str(exc))
    try:
        scope, body = source.to_request(event, None, config)
        via_scope: Any = comparable(build_environ(scope, body, multithread=False))
    except MalformedEventError as exc:
        via_scope = ("rejected", str(exc))
    return direct, via_scope


@given(data=st.data())
@pytest.mark.parametrize("config_name", sorted(CONFIGS))
@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_the_direct_environ_is_the_scope_environ(
    source: str, config_name: str, data: st.DataObject
) -> None:
    config = CONFIGS[config_name]
    request = data.draw(requests(base_path=config.base_path))
    direct, via_scope = both_environs(request.event(source), config)
    assert direct == via_scope


@pytest.mark.parametrize("source", SOURCE_NAMES)
@pytest.mark.parametrize(
    "headers",
    [
        [("Host", "Example.COM:8443"), ("X-Forwarded-Proto", "http")],  # mixed-case names
        [("x-a", "ü"), ("x-b", "€")],  # values beyond ASCII and beyond latin-1
        [("Cookie", "a=ü; b=名")],  # HTTP API 2.0 and function URLs: a cookies array
        [("x-a", "1"), ("X-A", "2")],  # the same name twice
        [("content-length", "99"), ("x_under", "dropped"), ("content-type", "text/plain")],
        [],
    ],
)
def test_unusual_headers_give_the_same_environ_both_ways(
    source: str, headers: list[tuple[str, str]]
) -> None:
    event = build_event(source, path="/caf%C3%A9", query="q=%C3%A9&x", headers=headers)
    direct, via_scope = both_environs(event, SourceConfig())
    assert direct == via_scope
    assert isinstance(direct, dict)


@pytest.mark.parametrize("source", ["http", "rest", "alb", "lattice"])
def test_bad_header_values_are_rejected_both_ways(source: str) -> None:
    event = build_event(source, headers=[("x-a", "1")])
    key = "multiValueHeaders" if "multiValueHeaders" in event else "headers"
    for value in (["\ud800"] if key == "multiValueHeaders" else "\ud800", 7):
        event[key] = {"x-a": value}
        direct, via_scope = both_environs(event, SourceConfig())
        assert direct == via_scope
        assert isinstance(direct, tuple)
