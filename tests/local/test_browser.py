"""``python -m bridge serve`` in front of a real browser (headless Chromium).

Chromium comes from the system's packages (``chromium`` in
``.ci/apt-packages.txt``); locally the module is skipped when it is absent,
in CI (``CI`` set) its absence fails the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

from .running import ROOT, Server, serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("headless Chromium is not installed", allow_module_level=True)


@pytest.fixture(scope="module", params=["uvicorn", "stdlib"])
def fastapi_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    with serving(
        f"{ROOT / 'examples' / 'fastapi_app.py'}:app", "--server", request.param
    ) as running:
        yield running


def dump_dom(url: str) -> str:
    """The page as Chromium rendered it."""
    assert CHROMIUM is not None, "chromium must be installed in CI (.ci/apt-packages.txt)"
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout.decode()


def test_a_browser_gets_the_page(fastapi_server: Server) -> None:
    dom = dump_dom(f"{fastapi_server.url}/?name=Browser")
    assert '{"message":"Hello, Browser!"}' in dom


def test_the_browsers_request_reaches_the_log(fastapi_server: Server) -> None:
    dump_dom(f"{fastapi_server.url}/?name=Logged")
    assert '"GET /?name=Logged HTTP/1.1" 200' in fastapi_server.log()
