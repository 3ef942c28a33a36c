"""``python -m bridge serve``: the options checked, the handler made, then served over HTTP.

An ASGI app is wrapped with a connection store and a local Management API, so that its
WebSocket clients are served too; a WSGI app's are refused. The HTTP servers are in
:mod:`bridge.local.server`; with ``--reload`` this process only watches the app's code and
serves from a child process it restarts (:mod:`bridge.local.reload`).
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
from typing import Any

from bridge.adapter import Bridge
from bridge.apps import detect_interface
from bridge.errors import ConfigurationError
from bridge.local.gateway import Gateway
from bridge.local.handler import UsageError, invoke_mode_for, load_target, running, streams, wrap
from bridge.local.loader import source_root
from bridge.local.reload import Reloader, child_arguments
from bridge.local.server import listen, serve, uvicorn_available
from bridge.local.websocket import LocalManagementAPI, WebSocketGateway, serve_websockets_locally
from bridge.sources.request import normalize_base_path

__all__ = ["STAGED_SOURCES", "serve_command"]

#: The sources whose URLs have a stage in front of the path.
STAGED_SOURCES = ("rest", "http-v1", "http")


def serve_command(args: argparse.Namespace) -> int:
    """Run ``serve`` until it is stopped; its exit status."""
    if args.server == "uvicorn" and not uvicorn_available():
        raise UsageError("--server uvicorn needs uvicorn: pip install 'bridge-lambda[local]'")
    if args.stage is not None and args.source not in STAGED_SOURCES:
        raise UsageError(
            f"--stage needs a source whose URLs have stages ({', '.join(STAGED_SOURCES)}); "
            f"{args.source!r} has none: use --base-path for a path prefix"
        )
    args.base_path = _base_path(args.base_path)
    if args.stage is not None and args.base_path:
        raise UsageError(
            "--stage and --base-path: a custom domain's base path mapping hides the stage "
            "(requests to it carry no /STAGE); pass one of them"
        )
    if args.reload:
        return _serve_reloading(args)
    sock = None
    if args.inherit_socket is not None:  # a child of --reload
        sock = socket.socket(fileno=args.inherit_socket)
    with tempfile.TemporaryDirectory(prefix="bridge-serve-") as folder:
        store = args.websocket_store or f"sqlite:///{folder}/websocket-connections.db"
        handler, management, refusal = _load_serving_handler(args, store)
        return _serve_handler(args, handler, management, refusal, sock=sock)


def _serve_reloading(args: argparse.Namespace) -> int:
    """Serve from a child process that is restarted when the app's code changes."""
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        raise _cannot_listen(args, exc) from None
    with sock:
        return Reloader(sock, child_arguments(args.argv), [source_root(args.app)]).run()


def _cannot_listen(args: argparse.Namespace, exc: OSError) -> UsageError:
    return UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}")


def _base_path(text: str | None) -> str:
    """``--base-path`` as ``api_gateway_base_path`` reads it: ``"api/"`` -> ``"/api"``."""
    base_path = normalize_base_path(text)
    if text is not None and not base_path:
        raise UsageError(f"--base-path must be a path such as /api, got {text!r}")
    return base_path


def _serve_handler(
    args: argparse.Namespace,
    handler: Any,
    management: LocalManagementAPI | None,
    refusal: str,
    *,
    sock: socket.socket | None,
) -> int:
    prefix = f"/{args.stage}" if args.stage else args.base_path

    def ready(url: str, server_name: str) -> None:
        sys.stdout.write(
            f"Serving {args.app} as a {args.source!r} event source on {url}{prefix} "
            f"({server_name}). Ctrl-C stops.\n"
        )
        sys.stdout.flush()

    with running(handler, args.timeout) as invoker:
        try:
            serve(
                Gateway(
                    invoker,
                    args.source,
                    stage=args.stage,
                    base_path=args.base_path,
                    streaming=streams(handler, args.source),
                ),
                host=args.host,
                port=args.port,
                server=args.server,
                ready=ready,
                websockets=WebSocketGateway(
                    invoker,
                    management,
                    refusal=refusal,
                    routes=args.websocket_route,
                    route_selection=args.websocket_route_selection,
                ),
                sock=sock,
            )
        except OSError as exc:
            raise _cannot_listen(args, exc) from None
    return 0


def _load_serving_handler(
    args: argparse.Namespace, store: str
) -> tuple[Any, LocalManagementAPI | None, str]:
    """The handler for ``serve``, its local Management API, or why WebSockets are refused.

    An ASGI app is wrapped with a connection store (``--websocket-store``, else ``store``)
    and the local Management API; an existing Bridge of an ASGI app is used as it is, its
    WebSocket messages sent through the local Management API. A WSGI app has no WebSockets:
    its WebSocket clients are refused.
    """
    spec, base_path, store_given = args.app, args.base_path, args.websocket_store
    target = load_target(spec)
    mode = invoke_mode_for(spec, target, args.invoke_mode, args.source)
    if isinstance(target, Bridge) and target.config.base_path != base_path:
        raise UsageError(
            f"{spec} is a Bridge handler with api_gateway_base_path="
            f"{target.config.base_path or '/'!r}, which serve uses as it is: "
            f"--base-path must be the same, got {base_path or '/'!r} (or name the app "
            "itself, which serve wraps)"
        )
    try:
        is_wsgi = (
            target.interface == "wsgi"
            if isinstance(target, Bridge)
            else detect_interface(target) == "wsgi"
        )
    except ConfigurationError as exc:  # not an app at all
        raise UsageError(f"{spec!r} cannot be served: {exc}") from None
    if store_given is not None and (is_wsgi or isinstance(target, Bridge)):
        kind = "a Bridge handler already" if isinstance(target, Bridge) else "a WSGI app"
        raise UsageError(
            "--websocket-store needs APP to name an ASGI app, which serve then wraps in "
            f"Bridge(app, websocket_store=URL); {spec!r} is {kind}"
        )
    if is_wsgi:
        handler = wrap(spec, target, api_gateway_base_path=base_path or "/", invoke_mode=mode)
        return handler, None, f"{spec} is a WSGI app, and WSGI has no WebSockets"
    management = LocalManagementAPI()
    if isinstance(target, Bridge):
        serve_websockets_locally(target, store, management)
        return target, management, ""
    handler = wrap(
        spec,
        target,
        websocket_store=store,
        websocket_endpoint=management,
        api_gateway_base_path=base_path or "/",
        invoke_mode=mode,
    )
    return handler, management, ""
