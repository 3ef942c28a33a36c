"""The same small application in Flask, FastAPI and Django, for ``test_sam_local.py``.

Every path not named below echoes the request as JSON::

    {"method": ..., "path": <the decoded path>, "query": <the raw query string>,
     "args": [[name, value], ...], "cookies": {name: value}}

``POST /json``     ``{"received": <the posted JSON>}``
``POST /binary``   the request body, as ``application/octet-stream``
``GET /cookies``   text, two ``Set-Cookie`` headers (``a=1``; ``b=2`` HttpOnly)
``GET /redirect``  a 302 to ``/echo/target?x=1``
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.responses import Response as FastAPIResponse
from flask import Flask, Response, redirect, request

REDIRECT_TO = "/echo/target?x=1"


def flask_app() -> Flask:
    app = Flask("bridge_sam_e2e")

    @app.post("/json")
    def json_body() -> dict[str, object]:
        return {"received": request.get_json()}

    @app.post("/binary")
    def binary() -> Response:
        return Response(request.get_data(), content_type="application/octet-stream")

    @app.get("/cookies")
    def cookies() -> Response:
        response = Response("cookies", content_type="text/plain")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2", httponly=True)
        return response

    @app.get("/redirect")
    def to_target() -> Any:
        return redirect(REDIRECT_TO)

    @app.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    @app.route("/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def echo(rest: str) -> dict[str, object]:
        return {
            "method": request.method,
            "path": request.path,
            "query": request.query_string.decode("latin-1"),
            "args": [[name, value] for name, value in request.args.items(multi=True)],
            "cookies": dict(request.cookies),
        }

    return app


def fastapi_app() -> FastAPI:
    # The views' annotations are read by FastAPI at run time: names from this module's globals.
    app = FastAPI()

    @app.post("/json")
    async def json_body(request: Request) -> JSONResponse:
        return JSONResponse({"received": await request.json()})

    @app.post("/binary")
    async def binary(request: Request) -> FastAPIResponse:
        return FastAPIResponse(await request.body(), media_type="application/octet-stream")

    @app.get("/cookies")
    async def cookies() -> PlainTextResponse:
        response = PlainTextResponse("cookies")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2", httponly=True)
        return response

    @app.get("/redirect")
    async def to_target() -> RedirectResponse:
        return RedirectResponse(REDIRECT_TO, status_code=302)

    @app.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def echo(request: Request, rest: str) -> JSONResponse:
        return JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "query": request.scope["query_string"].decode("latin-1"),
                "args": [[name, value] for name, value in request.query_params.multi_items()],
                "cookies": dict(request.cookies),
            }
        )

    return app


def _django_echo(request: Any) -> Any:
    from django.http import JsonResponse  # type: ignore[import-untyped]

    return JsonResponse(
        {
            "method": request.method,
            "path": request.path_info,
            "query": request.META.get("QUERY_STRING", ""),
            "args": [[name, value] for name, values in request.GET.lists() for value in values],
            "cookies": dict(request.COOKIES),
        }
    )


def _django_json(request: Any) -> Any:
    import json

    from django.http import JsonResponse

    return JsonResponse({"received": json.loads(request.body)})


def _django_binary(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse(request.body, content_type="application/octet-stream")


def _django_cookies(request: Any) -> Any:
    from django.http import HttpResponse

    response = HttpResponse("cookies", content_type="text/plain")
    response.set_cookie("a", "1")
    response.set_cookie("b", "2", httponly=True)
    return response


def _django_redirect(request: Any) -> Any:
    from django.http import HttpResponseRedirect

    return HttpResponseRedirect(REDIRECT_TO)


def _csrf_exempt(view: Callable[..., Any]) -> Callable[..., Any]:
    from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]

    return csrf_exempt(view)  # type: ignore[no-any-return]


def _urlpatterns() -> list[Any]:
    from django.urls import path, re_path  # type: ignore[import-untyped]

    return [
        path("json", _csrf_exempt(_django_json)),
        path("binary", _csrf_exempt(_django_binary)),
        path("cookies", _django_cookies),
        path("redirect", _django_redirect),
        re_path(r"^.*$", _csrf_exempt(_django_echo)),
    ]


#: Read by Django as this module's URL configuration (``ROOT_URLCONF``).
urlpatterns: list[Any] = []


@contextmanager
def django_app() -> Iterator[Any]:
    """A Django WSGI application with this module's URLs, for the duration of the block.

    The settings come from the Django test project (``tests/wsgi/frameworks``), which configures
    Django once for the process; ours are an ``override_settings`` on top, undone on exit.
    """
    from django.core.wsgi import get_wsgi_application  # type: ignore[import-untyped]
    from django.test.utils import override_settings  # type: ignore[import-untyped]

    from tests.wsgi.frameworks.django_app import django_settings

    urlpatterns[:] = _urlpatterns()
    with django_settings(), override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=[]):
        yield get_wsgi_application()
