"""A process that served requests ends quietly: no exception from bridge's
clean-up at interpreter exit, on any supported Python."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import asyncio
    from bridge import Bridge
    from bridge.local.events import build_event

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            return
        await receive()
        # The loop's default executor (Quart and asyncio.to_thread use it).
        await asyncio.get_running_loop().run_in_executor(None, sum, [1, 2])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    print(Bridge(app)(build_event("http"))["statusCode"])
    """
)


def test_exit_after_using_the_default_executor_is_quiet(tmp_path: Path) -> None:
    script = tmp_path / "uses_executor.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    done = subprocess.run(
        [sys.executable, "-X", "dev", str(script)],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, b"200")
    assert b"Exception ignored" not in done.stderr
    assert b"Traceback" not in done.stderr
