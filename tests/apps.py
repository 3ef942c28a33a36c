"""Small ASGI applications the tests drive."""

from __future__ import annotations

import base64
import json
from typing import Any

from bridge.types import Message, Receive, Scope, Send


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def describe(scope: Scope, body: bytes) -> dict[str, Any]:
    return {
        "method": scope["method"],
        "scheme": scope["scheme"],
        "path": scope["path"],
        "raw_path": scope["raw_path"].decode("latin-1"),
        "root_path": scope["root_path"],
        "query_string": scope["query_string"].decode("latin-1"),
        "headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in scope["headers"]],
        "client": list(scope["client"]) if scope["client"] else None,
        "server": list(scope["server"]) if scope["server"] else None,
        "body": base64.b64encode(body).decode("ascii"),
        "state": dict(scope.get("state") or {}),
    }


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with a JSON description of the request it received.

    ``x-status``, ``x-content-type`` and repeated ``x-set-header: name=value``
    request headers shape the response; the raw request body is echoed when
    the path is ``/raw``.
    """
    if scope["type"] == "lifespan":
        await lifespan_ok(scope, receive, send)
        return
    body = await read_body(receive)
    request_headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in scope["headers"]]
    status = int(next((v for n, v in request_headers if n == "x-status"), "200"))
    content_type = next((v for n, v in request_headers if n == "x-content-type"), None)
    if scope["path"].endswith("/raw"):
        payload = body
        content_type = content_type or "application/octet-stream"
    else:
        payload = json.dumps(describe(scope, body)).encode()
        content_type = content_type or "application/json"
    headers = [(b"content-type", content_type.encode("latin-1"))]
    for name, value in request_headers:
        if name == "x-set-header":
            key, _, item = value.partition("=")
            headers.append((key.encode("latin-1"), item.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def lifespan_ok(scope: Scope, receive: Receive, send: Send) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "lifespan.startup":
            scope["state"]["started"] = True
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def respond_with(
    status: int = 200,
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
) -> Any:
    """An ASGI app that always sends this response."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan_ok(scope, receive, send)
            return
        await read_body(receive)
        await send({"type": "http.response.start", "status": status, "headers": headers or []})
        await send({"type": "http.response.body", "body": body})

    return app


def wsgi_echo_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The WSGI twin of :func:`echo_app`'s description, in the same JSON shape."""
    body = environ["wsgi.input"].read()
    script_name = environ["SCRIPT_NAME"].encode("latin-1").decode("utf-8")
    path_info = environ["PATH_INFO"].encode("latin-1").decode("utf-8")
    description = {
        "method": environ["REQUEST_METHOD"],
        "path": script_name + path_info,
        "root_path": script_name,
        "query_string": environ["QUERY_STRING"],
        "body": base64.b64encode(body).decode("ascii"),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(description).encode()]
