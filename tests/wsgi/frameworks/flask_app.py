from __future__ import annotations

import io
from collections.abc import Iterator

from flask import Flask, Response, redirect, request, send_file, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from tests.wsgi.frameworks import BINARY, STREAM_CHUNKS


def make_app() -> Flask:
    app = Flask("bridge_tests")

    @app.get("/echo")
    def echo() -> dict[str, object]:
        context = request.environ.get("aws.context")
        return {
            "path": request.path,
            "root": request.script_root,
            "url": url_for("echo", _external=True),
            "x": request.args.getlist("x"),
            "request_id": getattr(context, "aws_request_id", None),
        }

    @app.post("/form")
    def form() -> dict[str, object]:
        return {"name": request.form["name"], "tags": request.form.getlist("tags")}

    @app.post("/json")
    def json_body() -> dict[str, object]:
        return {"received": request.get_json()}

    @app.get("/cookies")
    def cookies() -> Response:
        response = Response("cookies", mimetype="text/plain")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    @app.get("/redirect")
    def to_echo() -> WerkzeugResponse:
        return redirect(url_for("echo"))

    @app.get("/download")
    def download() -> Response:
        return send_file(
            io.BytesIO(BINARY),
            mimetype="application/octet-stream",
            as_attachment=True,
            download_name="data.bin",
        )

    @app.get("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[bytes]:
            yield from STREAM_CHUNKS

        return Response(chunks(), mimetype="text/plain")

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    return app
