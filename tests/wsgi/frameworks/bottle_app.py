from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import bottle  # type: ignore[import-untyped]

from tests.wsgi.frameworks import BINARY, STREAM_CHUNKS


def make_app() -> Any:
    app = bottle.Bottle()
    request = bottle.request

    def echo() -> dict[str, object]:
        parts = request.urlparts
        context = request.environ.get("aws.context")
        return {
            "path": request.path,
            "root": request.script_name.rstrip("/"),
            "url": f"{parts.scheme}://{parts.netloc}{app.get_url('echo')}",
            "x": request.query.decode().getall("x"),
            "request_id": getattr(context, "aws_request_id", None),
        }

    def form() -> dict[str, object]:
        return {
            "name": request.forms.getunicode("name"),
            "tags": request.forms.decode().getall("tags"),
        }

    def json_body() -> dict[str, object]:
        return {"received": request.json}

    def cookies() -> str:
        bottle.response.content_type = "text/plain"
        bottle.response.set_cookie("a", "1")
        bottle.response.set_cookie("b", "2")
        return "cookies"

    def to_echo() -> None:
        bottle.redirect(app.get_url("echo"), code=302)

    def download() -> Any:
        return bottle.HTTPResponse(
            body=BINARY,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Disposition": 'attachment; filename="data.bin"',
            },
        )

    def stream() -> Iterator[bytes]:
        bottle.response.content_type = "text/plain"
        yield from STREAM_CHUNKS

    def boom() -> None:
        raise RuntimeError("boom")

    app.route("/echo", "GET", echo, name="echo")
    app.route("/form", "POST", form)
    app.route("/json", "POST", json_body)
    app.route("/cookies", "GET", cookies)
    app.route("/redirect", "GET", to_echo)
    app.route("/download", "GET", download)
    app.route("/stream", "GET", stream)
    app.route("/boom", "GET", boom)
    return app
