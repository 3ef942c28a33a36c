"""A cold start pays only for what it uses.

``import bridge``, ``Bridge(wsgi_app)`` and a first WSGI response must not
load ``asyncio`` (about 45 ms), ``logging`` (several ms with ``re``,
``enum``, ``traceback`` and ``threading``), or ``typing``, ``functools``,
``urllib.parse`` and ``http`` (together about 14 ms in a fresh interpreter).
Each check runs in a fresh interpreter started with ``-S``, so that nothing
(site-packages ``.pth`` hooks, coverage, pytest) has loaded a module before
bridge could.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bridge import body
from bridge._log import get_logger
from bridge.apps import detect_interface
from bridge.local.events import SOURCE_NAMES, build_event

ROOT = Path(__file__).resolve().parent.parent

#: Never loaded by ``import bridge`` or by serving a WSGI app over HTTP
#: (``bridge.types`` is for annotations: its TypedDicts and Protocols cost
#: milliseconds; the WebSocket source is loaded by the first WebSocket event;
#: ``urllib.parse`` by the first query or path that needs quoting or
#: unquoting, and ``http`` by the first uncommon status sent to a source that
#: needs its phrase).
NOT_FOR_WSGI = (
    "asyncio",
    "logging",
    "bridge.types",
    "bridge.websocket.source",
    "typing",
    "functools",
    "collections",
    "contextlib",
    "re",
    "enum",
    "http",
    "urllib.parse",
    "random",
)


def _loaded_after(code: str) -> set[str]:
    """The names in ``sys.modules`` after running ``code`` in a fresh ``-S``
    interpreter that imports this checkout's bridge."""
    script = code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDEVMODE", None)
    env.pop("PYTHONSTARTUP", None)
    done = subprocess.run(
        [sys.executable, "-S", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_import_bridge_loads_none_of_the_costly_modules() -> None:
    loaded = _loaded_after("import bridge\nfrom bridge import Bridge")
    assert "bridge.adapter" in loaded
    assert not loaded.intersection(NOT_FOR_WSGI), sorted(loaded.intersection(NOT_FOR_WSGI))


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_a_first_wsgi_response_loads_none_of_the_costly_modules(source: str) -> None:
    event = build_event(source, path="/hello")
    code = textwrap.dedent(
        f"""
        from bridge import Bridge

        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", "a=1")])
            return [b"hello"]

        handler = Bridge(app)
        assert handler.interface == "wsgi"
        response = handler({event!r}, None)
        assert response.get("statusCode", response.get("status")) in (200, "200"), response
        """
    )
    loaded = _loaded_after(code)
    assert not loaded.intersection(NOT_FOR_WSGI), sorted(loaded.intersection(NOT_FOR_WSGI))


def test_the_runtime_loads_random_only_to_reseed_it() -> None:
    """``bridge.snapstart`` loads ``random`` only when a SnapStart restore reseeds it."""
    assert "random" not in _loaded_after("import bridge.runtime.main")
    assert "random" in _loaded_after("from bridge import snapstart\nsnapstart.reseed_random()")


def test_a_first_asgi_response_loads_no_annotation_types() -> None:
    """An ASGI app needs asyncio (and with it logging and typing), but not
    ``bridge.types``, whose TypedDicts cost milliseconds to create."""
    event = build_event("http", path="/hello")
    code = textwrap.dedent(
        f"""
        from bridge import Bridge

        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            await send({{"type": "http.response.start", "status": 200, "headers": []}})
            await send({{"type": "http.response.body", "body": b"hello"}})

        handler = Bridge(app)
        assert handler.interface == "asgi3"
        response = handler({event!r}, None)
        assert response["statusCode"] == 200, response
        """
    )
    loaded = _loaded_after(code)
    assert "asyncio" in loaded
    assert not loaded.intersection({"bridge.types", "bridge.websocket.source"})


def test_detecting_the_usual_app_shapes_does_not_import_inspect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def wsgi(environ: Any, start_response: Any) -> Any: ...

    async def asgi(scope: Any, receive: Any, send: Any) -> None: ...

    class WSGIApp:
        def __call__(self, environ: Any, start_response: Any) -> Any: ...

        def method(self, environ: Any, start_response: Any) -> Any: ...

    class ASGIApp:
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None: ...

    monkeypatch.setitem(sys.modules, "inspect", None)  # ``import inspect`` now fails
    assert detect_interface(wsgi) == "wsgi"
    assert detect_interface(asgi) == "asgi3"
    assert detect_interface(WSGIApp()) == "wsgi"
    assert detect_interface(WSGIApp().method) == "wsgi"
    assert detect_interface(ASGIApp()) == "asgi3"
    assert detect_interface(ASGIApp().__call__) == "asgi3"


# ------------------------------------------------------------- lazy loggers


def test_a_lazy_logger_is_the_named_logger(caplog: pytest.LogCaptureFixture) -> None:
    lazy = get_logger("bridge.tests.lazy")
    real = logging.getLogger("bridge.tests.lazy")
    assert lazy.name == "bridge.tests.lazy"
    real.setLevel(logging.WARNING)
    try:
        assert not lazy.isEnabledFor(logging.INFO)
        with caplog.at_level(logging.DEBUG, logger="bridge.tests.lazy"):
            lazy.warning("seen %d", 1)
            assert lazy.isEnabledFor(logging.DEBUG)
    finally:
        real.setLevel(logging.NOTSET)
    [record] = caplog.records
    assert (record.name, record.levelname, record.getMessage()) == (
        "bridge.tests.lazy",
        "WARNING",
        "seen 1",
    )
    # The record points at the caller, not at bridge/_log.py.
    assert record.funcName == "test_a_lazy_logger_is_the_named_logger"
    assert record.pathname == __file__
    assert "bridge.tests.lazy" in repr(lazy)


def test_a_lazy_logger_follows_the_bridge_logger_configuration(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lazy = get_logger("bridge.tests.child")
    with caplog.at_level(logging.ERROR, logger="bridge"):
        lazy.warning("below the parent's level")
        lazy.error("at the parent's level")
    assert [r.getMessage() for r in caplog.records] == ["at the parent's level"]


# -------------------------------------------------------- lazy base64 codec


@pytest.mark.parametrize("hide_pybase64", [False, True])
def test_the_base64_codec_is_chosen_at_first_use(
    monkeypatch: pytest.MonkeyPatch, hide_pybase64: bool
) -> None:
    if hide_pybase64:
        monkeypatch.setitem(sys.modules, "pybase64", None)  # the import now fails
    monkeypatch.setattr(body, "_b64encode", body._first_b64encode)
    monkeypatch.setattr(body, "_b64decode", body._first_b64decode)
    encoded, is_base64 = body.BodySerializer().encode(b"\xff\x00binary", [])
    assert (encoded, is_base64) == ("/wBiaW5hcnk=", True)
    assert body._b64encode is not body._first_b64encode
    assert body._b64decode is not body._first_b64decode
    assert body.decode_request_body("/wBiaW5hcnk=", True, source="t") == b"\xff\x00binary"
    has_pybase64 = not hide_pybase64 and importlib.util.find_spec("pybase64") is not None
    expected = "b64encode_as_string" if has_pybase64 else "_stdlib_b64encode"
    assert body._b64encode.__name__ == expected


@pytest.mark.parametrize("hide_pybase64", [False, True])
def test_a_first_decode_also_chooses_the_codec(
    monkeypatch: pytest.MonkeyPatch, hide_pybase64: bool
) -> None:
    if hide_pybase64:
        monkeypatch.setitem(sys.modules, "pybase64", None)
    monkeypatch.setattr(body, "_b64encode", body._first_b64encode)
    monkeypatch.setattr(body, "_b64decode", body._first_b64decode)
    assert body.decode_request_body("aGk=", True, source="t") == b"hi"
    with pytest.raises(Exception, match="not valid base64"):
        body.decode_request_body("a", True, source="t")


# ------------------------------------------------------ lazy urllib.parse


@pytest.mark.parametrize("first", ["quote", "unquote"])
def test_urllib_parse_is_loaded_by_the_first_text_that_needs_it(first: str) -> None:
    use = (
        "request._quote('a b&c') == 'a+b%26c'"
        if first == "quote"
        else "request.decode_path('/caf%C3%A9%2Fx') == '/café/x'"
    )
    loaded = _loaded_after(
        "from bridge.sources import request\n"
        "import sys\n"
        "assert request._quote('ab1') == 'ab1' and request.decode_path('/a') == '/a'\n"
        "assert 'urllib.parse' not in sys.modules\n"
        f"assert {use}\n"
        "assert request._quote('a b') == 'a+b' and request.decode_path('/a%20b') == '/a b'\n"
    )
    assert "urllib.parse" in loaded
