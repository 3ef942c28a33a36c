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
import socket
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from bridge.adapter import Bridge
from bridge.apps import detect_interface
from bridge.errors import ConfigurationError, UnknownEventError
from bridge.events import check_path, is_warmup
from bridge.local.events import SOURCE_NAMES, FakeContext, build_event
from bridge.local.gateway import Gateway
from bridge.local.invoker import InvocationError, Invoker
from bridge.local.loader import AppNotFound, load_app, source_root
from bridge.local.reload import Reloader, child_arguments
from bridge.local.responses import HTTPResponse, InvalidResponseError, read_response
from bridge.local.server import serve, uvicorn_available
from bridge.local.streaming import STREAMING_SOURCES, LocalStream
from bridge.local.websocket import LocalManagementAPI, WebSocketGateway, serve_websockets_locally
from bridge.sources import SourceSelector
from bridge.sources.alb import is_multi_value
from bridge.sources.request import normalize_base_path
from bridge.websocket.events import DEFAULT_ROUTE_SELECTION, ROUTE_SELECTION_PREFIX

__all__ = ["main"]

DEFAULT_TIMEOUT = 30.0
#: What ``_source_of`` calls an event that is not an HTTP request.
NON_HTTP = "non-http"
#: The sources whose URLs have a stage in front of the path.
STAGED_SOURCES = ("rest", "http-v1", "http")
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")


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
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"the function's timeout (default: {DEFAULT_TIMEOUT:g})",
    )
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="log warnings and errors only (the app's and bridge's; serve: no access log)",
    )
    common.add_argument(
        "--invoke-mode",
        choices=INVOKE_MODES,
        default=None,
        metavar="MODE",
        help="BUFFERED or RESPONSE_STREAM, the function URL's InvokeMode (REST: "
        "responseTransferMode STREAM): RESPONSE_STREAM sends the response as the app "
        f"produces it, for the sources that stream on AWS ({', '.join(STREAMING_SOURCES)}); "
        "default: a Bridge handler's own invoke_mode, else BUFFERED",
    )

    invoke = commands.add_parser(
        "invoke",
        parents=[common],
        help="run one event through the handler and print the Lambda response",
        description="Build one event (or read one with --event), run it through the handler "
        "and print the Lambda response. Exit status 1 on a 5xx or a failed invocation.",
    )
    invoke.add_argument(
        "--source",
        choices=SOURCE_NAMES,
        default=None,
        metavar="SOURCE",
        help=f"the event source to play: {', '.join(SOURCE_NAMES)} (default: http); an "
        "--event file's own source is read from it",
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
    invoke.add_argument(
        "--non-http-path",
        metavar="PATH",
        help="send an event that is not an HTTP request (SQS, S3, a schedule...) to the app "
        "as POST PATH, as Bridge(app, non_http_path=PATH) does, and print the result",
    )

    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="serve the app over HTTP, each request going through the handler as an event",
        description="Serve the app over HTTP: each request becomes an event of the chosen "
        "source, and the Lambda response becomes the HTTP response, as on AWS. Under uvicorn, "
        "WebSocket clients of an ASGI app are served too, as by an API Gateway WebSocket API.",
    )
    serve.add_argument(
        "--source",
        choices=SOURCE_NAMES,
        default="http",
        metavar="SOURCE",
        help=f"the event source to play: {', '.join(SOURCE_NAMES)} (default: http)",
    )
    serve.add_argument(
        "--reload",
        action="store_true",
        help="restart when a .py file under the app's folder (the folder above its "
        "outermost package; the current one for module:app) changes",
    )
    serve.add_argument(
        "--stage",
        type=_stage,
        metavar="STAGE",
        help="serve under /STAGE, as the API's own URL https://ID.execute-api.REGION."
        "amazonaws.com/STAGE does (sources rest, http-v1, http): root_path, url_for and "
        "redirects include it",
    )
    serve.add_argument(
        "--base-path",
        metavar="/BASE",
        help="serve under /BASE, as a custom domain's base path mapping does; the app is "
        "wrapped with Bridge(app, api_gateway_base_path=BASE)",
    )
    serve.add_argument("--inherit-socket", type=int, help=argparse.SUPPRESS)
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000, help="default: 8000; 0 picks one")
    serve.add_argument(
        "--server",
        choices=("auto", "uvicorn", "stdlib"),
        default="auto",
        help="uvicorn (pip install 'bridge-lambda[local]') or the standard library's http.server "
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
    args.argv = argv[1:]
    return args


def run() -> NoReturn:
    """``python -m bridge``: run :func:`main` (which configures logging), exit with its
    status."""
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
    if argv is None:  # the command line itself, not a caller in Python
        configure_logging(quiet=args.quiet)
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


def configure_logging(*, quiet: bool = False) -> None:
    """Send the app's logs and the access log to stderr (for ``python -m bridge`` only);
    ``quiet``: warnings and errors only."""
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)


# -- invoke


def _invoke(args: argparse.Namespace) -> int:
    if args.event is not None:
        built = (args.method, args.header, args.data, args.data_binary)
        if args.path != "/" or any(built) or args.source is not None:
            raise UsageError(
                "--event takes a whole event, whose source is read from it; drop PATH, "
                "--source, --method, --header and --data"
            )
        event = _read_event(args.event)
        source = _source_of(event, non_http=args.non_http_path is not None)
    else:
        source = args.source or "http"
        event = _build_event(args, source)
    handler = _load_handler(
        args.app, non_http_path=args.non_http_path, invoke_mode=args.invoke_mode, source=source
    )
    stream = LocalStream(_Output(http=args.http)) if _streams(handler, source) else None
    with _make_invoker(handler, args.timeout) as invoker:
        try:
            result = invoker.invoke(event, stream=stream)
        except InvocationError as exc:
            if invoker.stuck:
                _ABANDONED.append(invoker)
            if stream is not None and stream.started:
                stream.finish()
                sys.stderr.write(
                    "python -m bridge invoke: the invocation failed after the response "
                    f"began, so the body is incomplete: {exc.error_type}: {exc.message}\n"
                )
                return 1
            sys.stdout.write(json.dumps(exc.payload(), indent=2) + "\n")
            sys.stderr.write(f"python -m bridge invoke: {exc.error_type}: {exc.message}\n")
            return 1
    if stream is not None and result is None:
        stream.finish()
        if stream.error is not None:
            sys.stderr.write(
                "python -m bridge invoke: the function failed after the response began, so the "
                f"body is incomplete ({type(stream.error).__name__}; AWS ends the connection)\n"
            )
            return 1
        return 1 if stream.status >= 500 else 0
    if source == NON_HTTP:  # the invocation's result, as it is
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return 0
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


class _Output:
    """Where ``invoke`` writes a streamed response, flushed as it comes: the prelude as one
    JSON line, or with ``http`` the status line and headers; then the raw body."""

    def __init__(self, *, http: bool) -> None:
        self.http = http

    def head(self, response: HTTPResponse, prelude: dict[str, Any] | None) -> None:
        if self.http:
            head = [response.status_line(), *(f"{k}: {v}" for k, v in response.headers), "", ""]
            sys.stdout.write("\r\n".join(head))
        else:
            sys.stdout.write(json.dumps(prelude or {"statusCode": response.status}) + "\n")
        sys.stdout.flush()

    def body(self, data: bytes) -> None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()

    def end(self, failed: bool) -> None:
        sys.stdout.flush()


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


def _source_of(event: dict[str, Any], *, non_http: bool = False) -> str:
    """The source that answers for ``event``, named as ``--source`` names it
    (``NON_HTTP`` for an event that is not an HTTP request, when that is allowed)."""
    try:
        source = SourceSelector().select(event)
    except UnknownEventError as exc:
        problem = str(exc)
    else:
        if not isinstance(source, str):
            name = source.name
            return "alb-multi" if name == "alb" and is_multi_value(event) else name
        problem = f"it is a {source} event"
    if non_http or is_warmup(event):
        return NON_HTTP
    raise UsageError(
        f"the event is not one of an HTTP source ({problem}); use --non-http-path PATH to "
        "deliver it to the app"
    )


# -- serve


def _serve(args: argparse.Namespace) -> int:
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
        handler, management, refusal = _load_serving_handler(
            args.app,
            store,
            args.websocket_store,
            args.base_path,
            invoke_mode=args.invoke_mode,
            source=args.source,
        )
        return _serve_handler(args, args.source, handler, management, refusal, sock=sock)


def _serve_reloading(args: argparse.Namespace) -> int:
    """Serve from a child process that is restarted when the app's code changes."""
    try:
        family = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.create_server((args.host, args.port), family=family)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    with sock:
        return Reloader(sock, child_arguments(args.argv), [source_root(args.app)]).run()


def _base_path(text: str | None) -> str:
    """``--base-path`` as ``api_gateway_base_path`` reads it: ``"api/"`` -> ``"/api"``."""
    base_path = normalize_base_path(text)
    if text is not None and not base_path:
        raise UsageError(f"--base-path must be a path such as /api, got {text!r}")
    return base_path


def _serve_handler(
    args: argparse.Namespace,
    source: str,
    handler: Any,
    management: LocalManagementAPI | None,
    refusal: str,
    *,
    sock: socket.socket | None,
) -> int:
    prefix = f"/{args.stage}" if args.stage else args.base_path

    def ready(url: str, server_name: str) -> None:
        sys.stdout.write(
            f"Serving {args.app} as a {source!r} event source on {url}{prefix} "
            f"({server_name}). Ctrl-C stops.\n"
        )
        sys.stdout.flush()

    with _make_invoker(handler, args.timeout) as invoker:
        try:
            serve(
                Gateway(
                    invoker,
                    source,
                    stage=args.stage,
                    base_path=args.base_path,
                    streaming=_streams(handler, source),
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
            raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
        finally:
            if invoker.stuck:
                _ABANDONED.append(invoker)
    return 0


def _load_serving_handler(
    spec: str,
    store: str,
    store_given: str | None,
    base_path: str,
    *,
    invoke_mode: str | None = None,
    source: str = "http",
) -> tuple[Any, LocalManagementAPI | None, str]:
    """The handler for ``serve``, its local Management API, or why WebSockets are refused.

    An ASGI app is wrapped with a connection store and the local Management API; an
    existing Bridge of an ASGI app is used as it is, its WebSocket messages sent through
    the local Management API. A WSGI app has no WebSockets: its WebSocket clients are
    refused.
    """
    target = _load_target(spec)
    mode = _invoke_mode(spec, target, invoke_mode, source)
    if isinstance(target, Bridge) and target.config.base_path != base_path:
        raise UsageError(
            f"{spec} is a Bridge handler with api_gateway_base_path="
            f"{target.config.base_path or '/'!r}, which serve uses as it is: "
            f"--base-path must be the same, got {base_path or '/'!r} (or name the app "
            "itself, which serve wraps)"
        )
    if isinstance(target, Bridge) and store_given is not None:
        raise UsageError(
            "--websocket-store needs APP to name an ASGI app, which serve then wraps in "
            f"Bridge(app, websocket_store=URL); {spec!r} is a Bridge handler already"
        )
    try:
        is_wsgi = (
            target.interface == "wsgi"
            if isinstance(target, Bridge)
            else detect_interface(target) == "wsgi"
        )
    except ConfigurationError as exc:  # not an app at all
        raise UsageError(f"{spec!r} cannot be served: {exc}") from None
    if is_wsgi:
        if store_given is not None:
            raise UsageError(
                "--websocket-store needs APP to name an ASGI app, which serve then wraps in "
                f"Bridge(app, websocket_store=URL); {spec!r} is a WSGI app"
            )
        handler = _wrap(spec, target, api_gateway_base_path=base_path or "/", invoke_mode=mode)
        return handler, None, f"{spec} is a WSGI app, and WSGI has no WebSockets"
    management = LocalManagementAPI()
    if isinstance(target, Bridge):
        serve_websockets_locally(target, store, management)
        return target, management, ""
    handler = _wrap(
        spec,
        target,
        websocket_store=store,
        websocket_endpoint=management,
        api_gateway_base_path=base_path or "/",
        invoke_mode=mode,
    )
    return handler, management, ""


# -- shared


def _load_handler(
    spec: str,
    *,
    non_http_path: str | None = None,
    invoke_mode: str | None = None,
    source: str = "http",
) -> Any:
    """The handler for ``spec``: the Bridge it names, or a Bridge around the app it names."""
    target = _load_target(spec)
    mode = _invoke_mode(spec, target, invoke_mode, source)
    if non_http_path is None:
        return _wrap(spec, target, invoke_mode=mode)
    if isinstance(target, Bridge):
        raise UsageError(
            f"{spec!r} is a Bridge already, so --non-http-path cannot configure it: name the "
            "app instead, or drop --non-http-path and give the Bridge non_http_path=..."
        )
    try:
        check_path(non_http_path)
    except ConfigurationError as exc:
        raise UsageError(f"--non-http-path: {exc}") from None
    return _wrap(spec, target, non_http_path=non_http_path)


def _invoke_mode(spec: str, target: object, requested: str | None, source: str) -> str:
    """The invoke mode to wrap an app with: ``--invoke-mode``, which a Bridge handler's own
    must match; RESPONSE_STREAM asked for only with a source that streams on AWS."""
    if isinstance(target, Bridge) and requested not in (None, target.invoke_mode):
        raise UsageError(
            f"{spec} is a Bridge handler with invoke_mode={target.invoke_mode!r}, which is "
            f"used as it is: drop --invoke-mode, or name the app itself, which is then "
            f"wrapped in Bridge(app, invoke_mode={requested!r})"
        )
    if requested == "RESPONSE_STREAM" and source not in STREAMING_SOURCES:
        raise UsageError(
            "--invoke-mode RESPONSE_STREAM needs a source that streams on AWS: "
            f"{' or '.join(repr(name) for name in STREAMING_SOURCES)} (a function URL, API "
            f"Gateway REST); the {source!r} service answers buffered: pass --source url or "
            "--source rest"
        )
    return requested or "BUFFERED"


def _streams(handler: Any, source: str) -> bool:
    """Whether ``handler`` streams its answers to ``source``'s events."""
    return (
        isinstance(handler, Bridge)
        and handler.invoke_mode == "RESPONSE_STREAM"
        and source in STREAMING_SOURCES
    )


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


def _stage(text: str) -> str:
    """A stage name as API Gateway allows them: letters, digits, ``-`` and ``_``."""
    if not text or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in text):
        raise argparse.ArgumentTypeError(
            f"expected a stage name such as 'prod' (letters, digits, - and _), got {text!r}"
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
