"""``python -m bridge invoke``: one event through the handler, the Lambda response printed.

The event is built from the command line (``--source``, PATH, ``--method``, ``--header``,
``--data``) or read whole with ``--event``, its source then read from it. The result is printed
as JSON, or with ``--http`` as the service's HTTP response; a streamed response is printed as
it comes. Exit status 1 on a 5xx or a failed invocation.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bridge.adapter import Bridge
from bridge.errors import ConfigurationError, UnknownEventError
from bridge.events import check_path, is_warmup
from bridge.local.events import build_event
from bridge.local.handler import UsageError, invoke_mode_for, load_target, running, streams, wrap
from bridge.local.invoker import InvocationError
from bridge.local.responses import HTTPResponse, InvalidResponseError, read_response
from bridge.local.streaming import LocalStream
from bridge.sources import SourceSelector
from bridge.sources.alb import is_multi_value

__all__ = ["NON_HTTP", "invoke_command"]

#: What ``_source_of`` calls an event that is not an HTTP request.
NON_HTTP = "non-http"


def invoke_command(args: argparse.Namespace) -> int:
    """Run ``invoke``; its exit status."""
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
    handler = _load_handler(args, source)
    stream = LocalStream(_Output(http=args.http)) if streams(handler, source) else None
    with running(handler, args.timeout) as invoker:
        try:
            result = invoker.invoke(event, stream=stream)
        except InvocationError as exc:
            if stream is not None and stream.started:
                stream.finish()
                sys.stderr.write(
                    "python -m bridge invoke: the invocation failed after the response "
                    f"began, so the body is incomplete: {exc.error_type}: {exc.message}\n"
                )
                return 1
            _print_json(exc.payload())
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
        _print_json(result)
        return 0
    try:
        response = read_response(source, result)
    except InvalidResponseError as exc:
        _print_json(result)
        sys.stderr.write(f"python -m bridge invoke: the {source} service would answer 502: {exc}\n")
        return 1
    if args.http:
        output = _Output(http=True)
        output.head(response, None)
        output.body(response.body)
    else:
        _print_json(result)
    return 1 if response.status >= 500 else 0


def _load_handler(args: argparse.Namespace, source: str) -> Any:
    """The handler for APP: the Bridge it names, or a Bridge around the app it names."""
    spec, non_http_path = args.app, args.non_http_path
    target = load_target(spec)
    mode = invoke_mode_for(spec, target, args.invoke_mode, source)
    if non_http_path is None:
        return wrap(spec, target, invoke_mode=mode)
    if isinstance(target, Bridge):
        raise UsageError(
            f"{spec!r} is a Bridge already, so --non-http-path cannot configure it: name the "
            "app instead, or drop --non-http-path and give the Bridge non_http_path=..."
        )
    try:
        check_path(non_http_path)
    except ConfigurationError as exc:
        raise UsageError(f"--non-http-path: {exc}") from None
    return wrap(spec, target, non_http_path=non_http_path)


class _Output:
    """Where ``invoke`` writes a response, flushed as it comes (a streamed one, or a whole
    one with ``--http``): the prelude as one JSON line, or with ``http`` the status line and
    headers; then the raw body."""

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


def _source_of(event: dict[str, Any], *, non_http: bool) -> str:
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


def _print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
