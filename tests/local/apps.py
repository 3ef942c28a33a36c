"""Small apps the CLI tests serve and invoke (as ``tests/local/apps.py:NAME``).

``echo`` (ASGI) and ``wsgi_echo`` (WSGI) answer the same routes the same way:

* ``/echo``            the request as JSON: method, path, query, headers, base64 body;
* ``/cookies``         two ``Set-Cookie`` headers and a repeated ``Vary``;
* ``/binary``          bytes that are not UTF-8, as ``application/octet-stream``;
* ``/size/N``          ``N`` bytes of text;
* ``/status/N``        an empty response with status ``N``;
* ``/raise``           raises ``RuntimeError("raised on purpose")``;
* ``/sleep/S``         answers after ``S`` seconds;
* anything else        404.

A ``HEAD`` request gets the ``GET`` headers and no body.

``websocket_echo`` is ``echo`` plus a WebSocket endpoint (see its docstring).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from bridge import Bridge
from bridge.websocket import connection_id, route_key, send_to

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
StartResponse = Callable[..., Any]

BINARY = bytes(range(256)) * 4
Response = tuple[int, list[tuple[str, str]], bytes]


def answer(
    method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
) -> Response:
    """The routes above, shared by the ASGI and the WSGI app."""
    text = [("content-type", "text/plain; charset=utf-8")]
    if path == "/echo":
        request = {
            "method": method,
            "path": path,
            "query": query,
            "headers": headers,
            "body": base64.b64encode(body).decode(),
        }
        return 200, [("content-type", "application/json")], json.dumps(request).encode()
    if path == "/cookies":
        cookies = [("set-cookie", "a=1; Path=/"), ("set-cookie", "b=2; HttpOnly")]
        return 200, [*text, *cookies, ("vary", "Accept"), ("vary", "Origin")], b"cookies"
    if path == "/binary":
        return 200, [("content-type", "application/octet-stream")], BINARY
    if path.startswith("/size/"):
        return 200, text, b"x" * int(path.removeprefix("/size/"))
    if path.startswith("/status/"):
        return int(path.removeprefix("/status/")), [], b""
    if path == "/raise":
        raise RuntimeError("raised on purpose")
    if path.startswith("/sleep/"):
        time.sleep(float(path.removeprefix("/sleep/")))
        return 200, text, b"slept"
    return 404, text, b"not found"


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI app."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    method = scope["method"]
    path = scope["path"]
    if path.startswith("/sleep/"):
        await asyncio.sleep(float(path.removeprefix("/sleep/")))
        path = "/sleep/0"
    status, response_headers, response_body = answer(
        method, path, scope["query_string"].decode("latin-1"), headers, body
    )
    response_headers.append(("content-length", str(len(response_body))))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode(), v.encode()) for k, v in response_headers],
        }
    )
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else response_body})


async def websocket_echo(scope: Scope, receive: Receive, send: Send) -> None:
    """``echo`` for HTTP; WebSocket connections are accepted with the first subprotocol
    offered, and each frame comes back as ``echo:`` + the frame, text or bytes alike.

    ``?reject`` closes before accepting, ``?deny`` answers 401 with the body ``no entry``,
    ``?early`` tries to send to itself during its ``$connect`` and logs whether that worked;
    the frame ``close`` closes the connection; a JSON object frame is answered with
    ``route:`` + the route key of its MESSAGE. The close code the app is told of
    is logged.
    """
    if scope["type"] != "websocket":
        await echo(scope, receive, send)
        return
    await receive()  # websocket.connect
    query = scope["query_string"].decode()
    if query.startswith("reject"):
        await send({"type": "websocket.close", "code": 1008})
        return
    if query.startswith("deny"):
        start = {"type": "websocket.http.response.start", "status": 401, "headers": []}
        await send({**start, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "websocket.http.response.body", "body": b"no entry"})
        return
    offered = scope["subprotocols"]
    if query.startswith("early") and route_key(scope) == "$connect":
        sent = await send_to(scope, connection_id(scope), "too early")
        logging.getLogger("tests.local.apps").info("sent during $connect: %s", sent)
    await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            logging.getLogger("tests.local.apps").info("disconnected with %s", message["code"])
            return
        if message.get("text") == "close":
            await send({"type": "websocket.close", "code": 4000})
        elif str(message.get("text")).startswith("{"):
            await send({"type": "websocket.send", "text": "route:" + route_key(scope)})
        elif message.get("text") is not None:
            await send({"type": "websocket.send", "text": "echo:" + message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": b"echo:" + message["bytes"]})


def wsgi_echo(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """The WSGI app."""
    headers = [
        (key[5:].replace("_", "-").lower(), value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    ]
    if environ.get("CONTENT_TYPE"):
        headers.append(("content-type", environ["CONTENT_TYPE"]))
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    method = environ["REQUEST_METHOD"]
    status, response_headers, response_body = answer(
        method, environ["PATH_INFO"], environ.get("QUERY_STRING", ""), headers, body
    )
    response_headers.append(("content-length", str(len(response_body))))
    start_response(f"{status} Status", response_headers)
    return [b"" if method == "HEAD" else response_body]


#: An existing handler: the CLI uses it as it is.
handler = Bridge(echo, lifespan="off")

#: Not an app at all.
settings = {"debug": True}
