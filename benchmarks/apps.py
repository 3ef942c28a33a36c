"""The applications every contender serves: each answers ``GET /hello`` with
``200 text/plain`` ``hello`` (the ``-blob`` and ``-echo`` variants answer the
large-body cases).  Frameworks are imported only when their app is asked for,
so that a missing framework costs only its own rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

BODY = b"hello"
CONTENT_TYPE = "text/plain; charset=utf-8"

ASGIApp = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# ------------------------------------------------------------- trivial apps


async def trivial_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return  # lifespan: not supported, like most hand-written apps
    await receive()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", CONTENT_TYPE.encode())],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


def trivial_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", CONTENT_TYPE)])
    return [BODY]


# --------------------------------------------------------- large-body apps


def blob_asgi(blob: bytes) -> ASGIApp:
    """Answers every request with ``blob`` as ``application/octet-stream``."""
    headers = [(b"content-type", b"application/octet-stream")]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": blob})

    return app


def blob_wsgi(blob: bytes) -> WSGIApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [blob]

    return app


async def echo_length_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole request body and answers with its length and first byte."""
    if scope["type"] != "http":
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    answer = f"{len(body)} {body[:1].hex()}".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", CONTENT_TYPE.encode())],
        }
    )
    await send({"type": "http.response.body", "body": answer})


def echo_length_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    start_response("200 OK", [("Content-Type", CONTENT_TYPE)])
    return [f"{len(body)} {body[:1].hex()}".encode()]


# --------------------------------------------------------------- frameworks


def fastapi_app(sync: bool) -> ASGIApp:
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    if sync:

        @app.get("/hello", response_class=PlainTextResponse)
        def hello_sync() -> str:
            return "hello"

    else:

        @app.get("/hello", response_class=PlainTextResponse)
        async def hello() -> str:
            return "hello"

    return app


def flask_app() -> WSGIApp:
    from flask import Flask, Response

    app = Flask("bench")

    @app.get("/hello")
    def hello() -> Response:
        return Response(BODY, content_type=CONTENT_TYPE)

    return app


def django_app() -> WSGIApp:
    """A minimal Django project configured in-process: one URL, no middleware."""
    import django  # type: ignore[import-untyped]
    from django.conf import settings  # type: ignore[import-untyped]

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="bench-only-not-secret",
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF=__name__,
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
            USE_TZ=True,
            DEFAULT_CHARSET="utf-8",
        )
        django.setup()
    from django.core.wsgi import get_wsgi_application  # type: ignore[import-untyped]

    app: WSGIApp = get_wsgi_application()
    return app


def _django_hello(request: Any) -> Any:
    from django.http import HttpResponse  # type: ignore[import-untyped]

    return HttpResponse(BODY, content_type=CONTENT_TYPE)


def __getattr__(name: str) -> Any:
    # Django's URL resolver reads ``urlpatterns`` from ROOT_URLCONF (this module)
    # lazily, so Django is imported only when its app is built.
    if name == "urlpatterns":
        from django.urls import path  # type: ignore[import-untyped]

        return [path("hello", _django_hello)]
    raise AttributeError(name)


#: name -> (interface, factory)
APPS: dict[str, tuple[str, Callable[[], Any]]] = {
    "trivial-asgi": ("asgi", lambda: trivial_asgi),
    "fastapi-async": ("asgi", lambda: fastapi_app(sync=False)),
    "fastapi-sync": ("asgi", lambda: fastapi_app(sync=True)),
    "trivial-wsgi": ("wsgi", lambda: trivial_wsgi),
    "flask": ("wsgi", flask_app),
    "django": ("wsgi", django_app),
}
