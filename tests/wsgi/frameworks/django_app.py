"""A Django project in one module: settings applied with ``override_settings``
(so they do not leak), URLs, sync and async views, an async-only middleware
that makes Django adapt the chain with ``async_to_sync``, and one that can
run either way."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import django  # type: ignore[import-untyped]
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings  # type: ignore[import-untyped]
from django.http import (  # type: ignore[import-untyped]
    FileResponse,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect  # type: ignore[import-untyped]
from django.test.utils import override_settings  # type: ignore[import-untyped]
from django.urls import path, reverse  # type: ignore[import-untyped]
from django.utils.decorators import sync_and_async_middleware  # type: ignore[import-untyped]

from tests.wsgi.frameworks import BINARY, STREAM_CHUNKS


class AsyncOnlyMiddleware:
    """Marks every response; async-only, so a WSGI Django must adapt it."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: Any) -> Any:
        asyncio.get_running_loop()  # raises unless running in a loop
        response = await self.get_response(request)
        response["X-Async-Middleware"] = "yes"
        return response


def _both_modes_middleware(get_response: Any) -> Any:
    """Async-capable and sync-capable: Django picks the mode of the handler."""
    if iscoroutinefunction(get_response):

        async def async_middleware(request: Any) -> Any:
            response = await get_response(request)
            response["X-Middleware-Mode"] = "async"
            return response

        return async_middleware

    def middleware(request: Any) -> Any:
        response = get_response(request)
        response["X-Middleware-Mode"] = "sync"
        return response

    return middleware


both_modes_middleware = sync_and_async_middleware(_both_modes_middleware)


def echo(request: Any) -> Any:
    context = request.META.get("aws.context")
    return JsonResponse(
        {
            "path": request.path_info,
            "root": request.META["SCRIPT_NAME"],
            "url": request.build_absolute_uri(reverse("echo")),
            "x": request.GET.getlist("x"),
            "request_id": getattr(context, "aws_request_id", None),
        }
    )


def form(request: Any) -> Any:
    return JsonResponse({"name": request.POST["name"], "tags": request.POST.getlist("tags")})


def json_body(request: Any) -> Any:
    return JsonResponse({"received": json.loads(request.body)})


def cookies(request: Any) -> Any:
    response = HttpResponse("cookies", content_type="text/plain")
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response


def to_echo(request: Any) -> Any:
    return redirect("echo")


def download(request: Any) -> Any:
    return FileResponse(io.BytesIO(BINARY), as_attachment=True, filename="data.bin")


def stream(request: Any) -> Any:
    def chunks() -> Iterator[bytes]:
        yield from STREAM_CHUNKS

    return StreamingHttpResponse(chunks(), content_type="text/plain")


def boom(request: Any) -> Any:
    raise RuntimeError("boom")


async def async_view(request: Any) -> Any:
    await asyncio.sleep(0)
    return JsonResponse({"async": True, "item": reverse("item", args=[7])})


def item(request: Any, pk: int) -> Any:
    return JsonResponse(
        {"pk": pk, "absolute": request.build_absolute_uri(), "reverse": reverse("item", args=[pk])}
    )


urlpatterns = [
    path("echo", echo, name="echo"),
    path("form", form),
    path("json", json_body),
    path("cookies", cookies),
    path("redirect", to_echo),
    path("download", download),
    path("stream", stream),
    path("boom", boom),
    path("async", async_view),
    path("items/<int:pk>/", item, name="item"),
]

SETTINGS: dict[str, Any] = {
    "DEBUG": False,
    "ALLOWED_HOSTS": ["*"],
    "ROOT_URLCONF": __name__,
    "MIDDLEWARE": [f"{__name__}.AsyncOnlyMiddleware", f"{__name__}.both_modes_middleware"],
    "INSTALLED_APPS": [],
    "TEMPLATES": [],
}


@contextmanager
def django_settings() -> Iterator[None]:
    """This project's settings, for the duration of the block."""
    if not settings.configured:
        settings.configure(SECRET_KEY="tests-only", USE_TZ=True, LOGGING_CONFIG=None)
        django.setup(set_prefix=False)
    with override_settings(**SETTINGS):
        yield


def make_app() -> Any:
    from django.core.wsgi import get_wsgi_application  # type: ignore[import-untyped]

    return get_wsgi_application()
