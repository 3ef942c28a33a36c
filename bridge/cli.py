"""The command line: ``python -m bridge invoke APP`` and ``python -m bridge serve APP``.

``APP`` is ``module:attribute`` or ``path/to/file.py:attribute``, naming an ASGI or WSGI app or
a :class:`~bridge.Bridge` handler. Exit status: 0 on success, 1 when the invocation failed or
answered 5xx (or the app failed to load), 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from bridge.adapter import Bridge
from bridge.apps import detect_interface
from bridge.errors import ConfigurationError, UnknownEventError
from bridge.local.events import SOURCE_NAMES, FakeContext, build_event
from bridge.local.invoker import InvocationError, Invoker
from bridge.local.loader import AppNotFound, load_app
from bridge.local.responses import InvalidResponseError, read_response
from bridge.local.server import Gateway, serve, uvicorn_available
from bridge.local.websocket import LocalManagementAPI, WebSocketGateway
from bridge.sources import SourceSelector
from bridge.sources.alb import is_multi_value
from bridge.websocket.events import DEFAULT_ROUTE_SELECTION, ROUTE_SELECTION_PREFIX

__all__ = ["main"]

DEFAULT_TIMEOUT = 30.0


class UsageError(Exception):
    """Bad input: reported in one line, exit status 2."""


class AppFailed(Exception):
    """The app's own code failed while it was loaded: reported with its traceback, status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser, and the parser of each command by name."""
    parser = _Parser(
        prog="python -m bridge",
        description="Run a WSGI or ASGI app locally as it runs on AWS Lambda.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    common = _Parser(add_help=False)
    common.add_argument("app", metavar="APP", help="module:attribute or path/to/file.py:attribute")
    common.add_argument(
        "--source",
        choices=SOURCE_NAMES,
        default=None,
        metavar="SOURCE",
        help=f"the event source to play: {', '.join(SOURCE_NAMES)} (default: http, or the "
        "one an --event file comes from)",
    )
    common.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"the function's timeout (default: {DEFAULT_TIMEOUT:g})",
    )

    invoke = commands.add_parser(
        "invoke",
        parents=[common],
        help="run one event through the handler and print the Lambda response",
        description="Build one event (or read one with --event), run it through the handler "
        "and print the Lambda response. Exit status 1 on a 5xx or a failed invocation.",
    )
    invoke.add_argument("path", nargs="?", default="/", metavar="PATH", help="path?query")
    invoke.add_argument("-X", "--method", help="the HTTP method (default: GET, POST with data)")
    invoke.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header (repeatable)",
    )
    data = invoke.add_mutually_exclusive_group()
    data.add_argument(
        "-d",
        "--data",
        metavar="DATA",
        help="a text body, or @FILE (newlines dropped, like curl)",
    )
    data.add_argument("--data-binary", metavar="DATA", help="a body sent as is, or @FILE")
    invoke.add_argument(
        "--event", metavar="FILE", help="a whole event as JSON ('-' reads standard input)"
    )
    invoke.add_argument(
        "--http",
        action="store_true",
        help="print the response as HTTP (status line, headers, body) instead of JSON",
    )

    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="serve the app over HTTP, each request going through the handler as an event",
        description="Serve the app over HTTP: each request becomes an event of the chosen "
        "source, and the Lambda response becomes the HTTP response, as on AWS. Under uvicorn, "
        "WebSocket clients of an ASGI app are served too, as by an API Gateway WebSocket API.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000, help="default: 8000; 0 picks one")
    serve.add_argument(
        "--server",
        choices=("auto", "uvicorn", "stdlib"),
        default="auto",
        help="uvicorn (pip install 'bridge[local]') or the standard library's http.server "
        "(default: uvicorn when installed)",
    )
    serve.add_argument(
        "--websocket-store",
        metavar="URL",
        help="where WebSocket connections are kept (default: a temporary SQLite file); "
        "ASGI apps only, with uvicorn",
    )
    serve.add_argument(
        "--websocket-route",
        metavar="ROUTE",
        action="append",
        default=[],
        type=_custom_route,
        help="a custom route of the WebSocket API (repeat for more): a frame whose "
        "selected value is ROUTE is a MESSAGE on that route, any other on $default",
    )
    serve.add_argument(
        "--websocket-route-selection",
        metavar="EXPRESSION",
        type=_route_selection,
        default=DEFAULT_ROUTE_SELECTION,
        help=f"the route selection expression (default: {DEFAULT_ROUTE_SELECTION})",
    )
    return parser, {"invoke": invoke, "serve": serve}


def _parse(argv: list[str]) -> argparse.Namespace:
    """Options and arguments in any order: ``invoke APP --source rest /path`` works too."""
    parser, commands = build_parser()
    command = commands.get(argv[0]) if argv else None
    if command is None:
        return parser.parse_args(argv)  # help, or the error naming the commands
    args: argparse.Namespace = command.parse_intermixed_args(argv[1:])
    args.command = argv[0]
    return args


def run() -> NoReturn:
    """``python -m bridge``: configure logging, run :func:`main`, exit with its status."""
    configure_logging()
    status = main()
    if _ABANDONED:
        # A timed-out invocation is still running on its thread. Lambda would discard the
        # whole environment; so does this process, without waiting for it or its loop.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


#: Invokers left with a timed-out invocation still running.
_ABANDONED: list[Invoker] = []


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(list(sys.argv[1:] if argv is None else argv))
    try:
        if args.command == "invoke":
            return _invoke(args)
        return _serve(args)
    except UsageError as exc:
        sys.stderr.write(f"python -m bridge {args.command}: error: {exc}\n")
        return 2
    except AppFailed as exc:
        sys.stderr.write(f"python -m bridge {args.command}: {exc}\n")
        return 1


def configure_logging() -> None:
    """Send the app's logs and the access log to stderr (for ``python -m bridge`` only)."""
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)


# -- invoke


def _invoke(args: argparse.Namespace) -> int:
    if args.event is not None:
        built = (args.method, args.header, args.data, args.data_binary)
        if args.path != "/" or any(built):
            raise UsageError(
                "--event takes a whole event; drop PATH, --method, --header and --data"
            )
        event = _read_event(args.event)
        source = args.source or _source_of(event)
    else:
        source = args.source or "http"
        event = _build_event(args, source)
    handler = _load_handler(args.app)
    with _make_invoker(handler, args.timeout) as invoker:
        try:
            result = invoker.invoke(event)
        except InvocationError as exc:
            if invoker.stuck:
                _ABANDONED.append(invoker)
            sys.stdout.write(json.dumps(exc.payload(), indent=2) + "\n")
            sys.stderr.write(f"python -m bridge invoke: {exc.error_type}: {exc.message}\n")
            return 1
    try:
        response = read_response(source, result)
    except InvalidResponseError as exc:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        sys.stderr.write(f"python -m bridge invoke: the {source} service would answer 502: {exc}\n")
        return 1
    if args.http:
        head = [response.status_line(), *(f"{k}: {v}" for k, v in response.headers), "", ""]
        sys.stdout.write("\r\n".join(head))
        sys.stdout.flush()
        sys.stdout.buffer.write(response.body)
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 1 if response.status >= 500 else 0


def _build_event(args: argparse.Namespace, source: str) -> dict[str, Any]:
    headers = [_parse_header(h) for h in args.header]
    body = b""
    if args.data is not None:
        body = _read_data(args.data, binary=False)
    elif args.data_binary is not None:
        body = _read_data(args.data_binary, binary=True)
    has_data = args.data is not None or args.data_binary is not None
    if has_data and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))  # as curl does
    method = (args.method or ("POST" if has_data else "GET")).upper()
    path, _, query = args.path.partition("?")
    if not path.startswith("/"):
        raise UsageError(f"PATH must start with '/', got {args.path!r}")
    return build_event(source, method=method, path=path, query=query, headers=headers, body=body)


def _parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or name != name.strip():
        raise UsageError(f"--header must look like 'Name: value', got {text!r}")
    return name, value.strip()


def _read_data(value: str, *, binary: bool) -> bytes:
    if not value.startswith("@"):
        return value.encode()
    data = _read_file(value[1:], "data")
    return data if binary else data.replace(b"\r", b"").replace(b"\n", b"")


def _read_file(name: str, what: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the {what} file {name!r}: {exc.strerror}") from None


def _read_event(name: str) -> dict[str, Any]:
    raw = _read_file(name, "event")
    try:
        event = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"the event file {name!r} is not JSON: {exc}") from None
    if not isinstance(event, dict):
        raise UsageError(
            f"the event file {name!r} holds a JSON {type(event).__name__}, not an object"
        )
    return event


def _source_of(event: dict[str, Any]) -> str:
    """The source that answers for ``event``, named as ``--source`` names it."""
    try:
        name = SourceSelector().select(event).name
    except UnknownEventError as exc:
        raise UsageError(f"cannot tell the event's source ({exc}); pass --source") from None
    return "alb-multi" if name == "alb" and is_multi_value(event) else name


# -- serve


def _serve(args: argparse.Namespace) -> int:
    if args.server == "uvicorn" and not uvicorn_available():
        raise UsageError("--server uvicorn needs uvicorn: pip install 'bridge[local]'")
    source = args.source or "http"
    with tempfile.TemporaryDirectory(prefix="bridge-serve-") as folder:
        store = args.websocket_store or f"sqlite:///{folder}/websocket-connections.db"
        handler, management, refusal = _load_serving_handler(args.app, store, args.websocket_store)
        return _serve_handler(args, source, handler, management, refusal)


def _serve_handler(
    args: argparse.Namespace,
    source: str,
    handler: Any,
    management: LocalManagementAPI | None,
    refusal: str,
) -> int:
    def ready(url: str, server_name: str) -> None:
        sys.stdout.write(
            f"Serving {args.app} as a {source!r} event source on {url} ({server_name}). "
            "Ctrl-C stops.\n"
        )
        sys.stdout.flush()

    with _make_invoker(handler, args.timeout) as invoker:
        try:
            serve(
                Gateway(invoker, source),
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
            )
        except OSError as exc:
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
        finally:
            if invoker.stuck:
                _ABANDONED.append(invoker)
    return 0


def _load_serving_handler(
    spec: str, store: str, store_given: str | None
) -> tuple[Any, LocalManagementAPI | None, str]:
    """The handler for ``serve``, its local Management API, or why WebSockets are refused.

    An ASGI app gets a connection store and the local Management API; an existing Bridge
    is used as it is, and a WSGI app has no WebSockets: their WebSocket clients are refused.
    """
    target = _load_target(spec)
    try:
        wsgi = isinstance(target, Bridge) or detect_interface(target) == "wsgi"
    except ConfigurationError as exc:  # not an app at all
        raise UsageError(f"{spec!r} cannot be served: {exc}") from None
    if wsgi:
        if store_given is not None:
            raise UsageError(
                "--websocket-store needs APP to name an ASGI app, which serve then wraps in "
                f"Bridge(app, websocket_store=URL); {spec!r} is "
                + ("a Bridge handler already" if isinstance(target, Bridge) else "a WSGI app")
            )
        refusal = (
            f"{spec} is a Bridge handler, which serve uses as it is, without a local "
            "Management API; to serve WebSocket clients, name the ASGI app instead "
            "(module:app) and serve wraps it with a connection store"
            if isinstance(target, Bridge)
            else f"{spec} is a WSGI app, and WSGI has no WebSockets"
        )
        return _wrap(spec, target), None, refusal
    management = LocalManagementAPI()
    handler = _wrap(spec, target, websocket_store=store, websocket_endpoint=management)
    return handler, management, ""


# -- shared


def _load_handler(spec: str) -> Any:
    """The handler for ``spec``: the Bridge it names, or a Bridge around the app it names."""
    return _wrap(spec, _load_target(spec))


def _load_target(spec: str) -> object:
    """The object ``spec`` names: a Bridge, or something that can be an app."""
    try:
        target = load_app(spec)
    except AppNotFound as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:
        raise AppFailed(_failure(f"importing {spec!r} failed", exc)) from None
    if not isinstance(target, Bridge) and not callable(target):
        raise UsageError(f"{spec!r} is a {type(target).__name__}, not an ASGI or WSGI app")
    return target


def _wrap(spec: str, target: object, **options: Any) -> Any:
    """``target`` itself when it is a Bridge, else ``Bridge(target, **options)``."""
    if isinstance(target, Bridge):
        return target
    try:
        return Bridge(target, **options)
    except Exception as exc:
        raise AppFailed(_failure(f"starting {spec!r} failed (Lambda's init phase)", exc)) from None


def _failure(what: str, exc: BaseException) -> str:
    return f"{what}:\n{''.join(traceback.format_exception(exc)).rstrip()}"


def _make_invoker(handler: Any, timeout: float) -> Invoker:
    def make_context(request_id: str, timeout_ms: int) -> object:
        context = FakeContext(timeout_ms=timeout_ms)
        context.aws_request_id = request_id
        return context

    return Invoker(handler, timeout=timeout, make_context=make_context)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text!r}")
    return value


def _custom_route(text: str) -> str:
    """A custom route key: not empty, and not one of the ``$`` routes API Gateway reserves."""
    if not text or text.startswith("$"):
        raise argparse.ArgumentTypeError(
            f"expected a custom route key such as 'sendmessage' ($connect, $disconnect and "
            f"$default are API Gateway's own), got {text!r}"
        )
    return text


def _route_selection(text: str) -> str:
    """A route selection expression ``serve`` can follow: ``$request.body.FIELD``."""
    fields = text.removeprefix(ROUTE_SELECTION_PREFIX).split(".")
    if not text.startswith(ROUTE_SELECTION_PREFIX) or not all(fields):
        raise argparse.ArgumentTypeError(
            f"expected $request.body.FIELD (a field of the frame's JSON, such as "
            f"{DEFAULT_ROUTE_SELECTION}), got {text!r}"
        )
    return text


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0-65535, got {text!r}")
    return value
