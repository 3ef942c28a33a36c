"""Flask specifics: external URLs behind a base path, files from disk with
ranges, HEAD, and streaming with the request context."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from flask import Flask, Response, request, send_file, stream_with_context, url_for

from tests.wsgi.conftest import Serve
from tests.wsgi.frameworks import BINARY
from tests.wsgi.frameworks.flask_app import make_app
from tests.wsgi.helpers import call

API = "abc123.execute-api.eu-west-1.amazonaws.com"


def test_url_for_external_behind_a_custom_domain_base_path(serve: Serve) -> None:
    handler = serve(make_app(), api_gateway_base_path="/api")

    reply = call(handler, "http", path="/api/echo", host="api.example.com")

    assert reply.json()["url"] == "https://api.example.com/api/echo"
    assert reply.json()["root"] == "/api"


def test_redirect_location_keeps_the_stage(serve: Serve) -> None:
    reply = call(serve(make_app()), "rest", path="/redirect", stage="prod")

    assert reply.status == 302
    assert reply.header("location") == "/prod/echo"


def test_send_file_from_disk_with_a_range(serve: Serve, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(BINARY)
    app = Flask("files")

    @app.get("/file")
    def file() -> Response:
        return send_file(data, mimetype="application/octet-stream")

    handler = serve(app)
    whole = call(handler, "rest", path="/file")
    part = call(handler, "rest", path="/file", headers=[("Range", "bytes=10-19")])

    assert (whole.status, whole.binary, whole.body) == (200, True, BINARY)
    assert (part.status, part.body) == (206, BINARY[10:20])
    assert part.header("content-range") == f"bytes 10-19/{len(BINARY)}"


def test_head_has_no_body_but_the_length(serve: Serve) -> None:
    reply = call(serve(make_app()), "rest", method="HEAD", path="/download")

    assert (reply.status, reply.body) == (200, b"")
    assert reply.header("content-length") == str(len(BINARY))


def test_stream_with_context(serve: Serve) -> None:
    app = Flask("streaming")

    @app.get("/count")
    def count() -> Response:
        def numbers() -> Iterator[str]:
            for n in range(int(request.args["to"])):
                yield f"{n},"
            yield url_for("count", _external=True)

        return Response(stream_with_context(numbers()), mimetype="text/plain")

    reply = call(serve(app), "rest", path="/count", query="to=3", stage="prod", host=API)

    assert (reply.status, reply.body) == (200, f"0,1,2,https://{API}/prod/count".encode())
