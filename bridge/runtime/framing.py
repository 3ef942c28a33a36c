"""Streamed responses to the Runtime API, as pure functions (sent by
:mod:`bridge.runtime.stream`).

A streamed HTTP answer is one ``POST /invocation/{id}/response`` whose body
is sent with ``Transfer-Encoding: chunked`` as it is produced.  For HTTP
integrations (function URLs, API Gateway REST) the body is a JSON *prelude*
(``statusCode``, ``headers``, ``cookies``), 8 NUL bytes, then the raw
response body.  An error after the first byte cannot change the status any
more: it goes in the trailers ``Lambda-Runtime-Function-Error-Type`` and
``Lambda-Runtime-Function-Error-Body`` (the error's JSON, base64), declared
in advance with a ``Trailer`` header.

:func:`stream_request` is the request's head, :func:`prelude` its first
bytes; :func:`chunk` frames each piece of body and :func:`last_chunk` ends
the stream, with or without an error.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from bridge.runtime.api import ERROR_TYPE_HEADER, invocation_path
from bridge.runtime.http import Request

__all__ = [
    "ERROR_BODY_TRAILER",
    "HTTP_INTEGRATION_CONTENT_TYPE",
    "SEPARATOR",
    "chunk",
    "last_chunk",
    "prelude",
    "stream_request",
]

ERROR_BODY_TRAILER = "Lambda-Runtime-Function-Error-Body"
HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
#: Between the prelude and the body.
SEPARATOR = b"\0" * 8


def stream_request(request_id: str, content_type: str = HTTP_INTEGRATION_CONTENT_TYPE) -> Request:
    """The head of a streamed ``/response`` (the body follows in chunks)."""
    return Request(
        "POST",
        f"{invocation_path(request_id)}/response",
        (
            ("Lambda-Runtime-Function-Response-Mode", "streaming"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Type", content_type),
            ("Trailer", f"{ERROR_TYPE_HEADER}, {ERROR_BODY_TRAILER}"),
        ),
    )


def prelude(status: int, headers: list[tuple[str, str]], cookies: list[str] | None = None) -> bytes:
    """The prelude and separator that start an HTTP integration's stream.

    ``headers`` as the app sent them (text, any case): repeated names are
    joined with ``", "``, and ``Set-Cookie`` values go to ``cookies``, as
    function URLs expect.  An empty body still needs this.
    """
    joined: dict[str, str] = {}
    all_cookies = list(cookies or ())
    for name, value in headers:
        key = name.lower()
        if key == "set-cookie":
            all_cookies.append(value)
        else:
            joined[key] = f"{joined[key]}, {value}" if key in joined else value
    document: dict[str, Any] = {"statusCode": status, "headers": joined}
    if all_cookies:
        document["cookies"] = all_cookies
    return json.dumps(document, separators=(",", ":")).encode() + SEPARATOR


def chunk(data: bytes) -> bytes:
    """``data`` framed as one chunk; nothing for empty data (an empty chunk
    would end the stream)."""
    if not data:
        return b""
    return b"%x\r\n%b\r\n" % (len(data), data)


def last_chunk(error: dict[str, Any] | None = None) -> bytes:
    """The end of the stream; with ``error`` (Lambda's error shape), the
    trailers that fail the invocation after its first byte."""
    if error is None:
        return b"0\r\n\r\n"
    error_type = " ".join(str(error.get("errorType") or "Unknown").split())
    encoded = base64.b64encode(json.dumps(error, default=str).encode()).decode()
    trailers = f"{ERROR_TYPE_HEADER}: {error_type}\r\n{ERROR_BODY_TRAILER}: {encoded}\r\n"
    return b"0\r\n" + trailers.encode("ascii", "replace") + b"\r\n"
