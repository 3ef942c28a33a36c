"""ASGI WebSocket applications for the tests, with a journal of what they saw."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bridge.types import ASGIApp, Message, Receive, Scope, Send

Behaviour = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Journal:
    """What an application received and how its invocations ended."""

    scopes: list[Scope] = field(default_factory=list)
    received: list[Message] = field(default_factory=list)
    cancelled: int = 0
    errors: list[BaseException] = field(default_factory=list)

    def types(self) -> list[str]:
        return [str(m["type"]) for m in self.received]

    def last_scope(self) -> Scope:
        return self.scopes[-1]


def journaled(journal: Journal, behaviour: Behaviour) -> ASGIApp:
    """Wrap ``behaviour`` so every scope and received message is journaled."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        journal.scopes.append(scope)

        async def logged_receive() -> Message:
            message = await receive()
            journal.received.append(message)
            return message

        async def logged_send(message: Message) -> None:
            try:
                await send(message)
            except BaseException as exc:
                journal.errors.append(exc)
                raise

        try:
            await behaviour(scope, logged_receive, logged_send)
        except asyncio.CancelledError:
            journal.cancelled += 1
            raise

    return app


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept (first offered subprotocol), then echo every frame; ``close`` closes
    with 4000, ``bye`` returns."""
    assert (await receive())["type"] == "websocket.connect"
    offered = scope.get("subprotocols") or []
    await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text == "close":
            await send({"type": "websocket.close", "code": 4000, "reason": "asked"})
        elif text == "bye":
            return
        elif text == "boom":
            raise RuntimeError("boom")
        elif text is not None:
            await send({"type": "websocket.send", "text": f"echo:{text}"})
        else:
            await send({"type": "websocket.send", "bytes": b"echo:" + message["bytes"]})


def script(*messages: Message, then_wait: bool = True) -> Behaviour:
    """Receive ``websocket.connect``, send ``messages``, then wait for more (or return)."""

    async def behaviour(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        for message in messages:
            await send(message)
        if then_wait:
            await receive()

    return behaviour


async def http_only(scope: Scope, receive: Receive, send: Send) -> None:
    """An application written for HTTP alone."""
    if scope["type"] != "http":
        raise TypeError(f"unsupported scope type {scope['type']!r}")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
