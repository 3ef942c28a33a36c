"""The command line: ``python -m bridge invoke APP`` and ``python -m bridge serve APP``.

``APP`` is ``module:attribute`` or ``path/to/file.py:attribute``, naming an ASGI or WSGI app or
a :class:`~bridge.Bridge` handler. This module parses the arguments, runs the command
(:mod:`bridge.local.invoke`, :mod:`bridge.local.serve`) and reports its errors. Exit status: 0
on success, 1 when the invocation failed or answered 5xx (or the app failed to load), 2 on bad
input.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from bridge.local.events import SOURCE_NAMES
from bridge.local.handler import ABANDONED, AppFailed, UsageError
from bridge.local.streaming import STREAMING_SOURCES
from bridge.websocket.events import DEFAULT_ROUTE_SELECTION, ROUTE_SELECTION_PREFIX

__all__ = ["main"]

DEFAULT_TIMEOUT = 30.0
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")


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
    if ABANDONED:
        # A timed-out invocation is still running on its thread. Lambda would discard the
        # whole environment; so does this process, without waiting for it or its loop.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(list(sys.argv[1:] if argv is None else argv))
    if argv is None:  # the command line itself, not a caller in Python
        configure_logging(quiet=args.quiet)
    try:
        # A command's modules are imported when it runs: invoke needs no HTTP server.
        if args.command == "invoke":
            from bridge.local.invoke import invoke_command

            return invoke_command(args)
        from bridge.local.serve import serve_command

        return serve_command(args)
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
