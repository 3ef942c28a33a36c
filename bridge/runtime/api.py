"""The Lambda Runtime API (version 2018-06-01), sans-IO.

Functions that build each :class:`~bridge.runtime.http.Request` a runtime
sends, and that read the :class:`~bridge.runtime.http.Response` it gets:

=========================================  ==============================================
``GET  /runtime/invocation/next``          :func:`next_request`, :func:`read_invocation`
``POST /runtime/invocation/{id}/response`` :func:`response_request`
``POST /runtime/invocation/{id}/error``    :func:`error_request`
``POST /runtime/init/error``               :func:`init_error_request`
``GET  /runtime/restore/next``             :func:`restore_next_request` (SnapStart)
``POST /runtime/restore/error``            :func:`restore_error_request` (SnapStart)
=========================================  ==============================================

Errors use Lambda's JSON shape (:func:`error_body`) and the
``Lambda-Runtime-Function-Error-Type`` header.  :func:`check_accepted`
turns a refusal into a :class:`RuntimeAPIError`.
"""

from __future__ import annotations

import json
import traceback
from typing import Any, NamedTuple

from bridge.runtime.http import Request, Response

__all__ = [
    "ERROR_TYPE_HEADER",
    "Invocation",
    "RuntimeAPIError",
    "check_accepted",
    "decode_event",
    "error_body",
    "error_request",
    "exception_error",
    "init_error_request",
    "invocation_path",
    "next_request",
    "parse_address",
    "read_invocation",
    "response_request",
    "restore_error_request",
    "restore_next_request",
]

PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"

#: The ``Lambda-Runtime-*`` headers of a ``/next`` answer (lower-case, as read).
REQUEST_ID = "lambda-runtime-aws-request-id"
DEADLINE_MS = "lambda-runtime-deadline-ms"
FUNCTION_ARN = "lambda-runtime-invoked-function-arn"
TRACE_ID = "lambda-runtime-trace-id"
CLIENT_CONTEXT = "lambda-runtime-client-context"
COGNITO_IDENTITY = "lambda-runtime-cognito-identity"
TENANT_ID = "lambda-runtime-aws-tenant-id"


class RuntimeAPIError(Exception):
    """The Runtime API refused a request or answered something unusable."""

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class Invocation(NamedTuple):
    """One invocation, as ``/next`` hands it out: the event's bytes and the
    ``Lambda-Runtime-*`` headers (``None`` when absent)."""

    request_id: str
    #: When the invocation times out, in milliseconds since the epoch.
    deadline_ms: int
    invoked_function_arn: str | None
    trace_id: str | None
    #: JSON texts, parsed by the context object.
    client_context: str | None
    cognito_identity: str | None
    tenant_id: str | None
    content_type: str
    body: bytes


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` (``AWS_LAMBDA_RUNTIME_API``) as a pair; ``[::1]:9001`` works too."""
    host, colon, port = address.strip().rpartition(":")
    if not colon or not host or not port.isdigit():
        raise ValueError(
            f"AWS_LAMBDA_RUNTIME_API must be 'host:port' (e.g. '127.0.0.1:9001'), got {address!r}"
        )
    return host.strip("[]"), int(port)


_NEXT = Request("GET", f"{PREFIX}/invocation/next")
_RESTORE_NEXT = Request("GET", f"{PREFIX}/restore/next")


def next_request() -> Request:
    return _NEXT


def restore_next_request() -> Request:
    return _RESTORE_NEXT


def read_invocation(response: Response) -> Invocation:
    """The invocation a ``/next`` response carries."""
    if response.status != 200:
        raise RuntimeAPIError(
            f"GET /invocation/next answered {response.status} {response.reason}: "
            f"{response.body[:200]!r}",
            status=response.status,
        )
    headers = response.headers
    request_id = headers.get(REQUEST_ID, "")
    if not request_id:
        raise RuntimeAPIError(
            "GET /invocation/next answered without a Lambda-Runtime-Aws-Request-Id header"
        )
    deadline = headers.get(DEADLINE_MS, "")
    if not deadline.isdigit():
        raise RuntimeAPIError(
            f"expected Lambda-Runtime-Deadline-Ms to be milliseconds since the epoch, "
            f"got {deadline[:40]!r} (invocation {request_id})"
        )
    return Invocation(
        request_id=request_id,
        deadline_ms=int(deadline),
        invoked_function_arn=headers.get(FUNCTION_ARN),
        trace_id=headers.get(TRACE_ID),
        client_context=headers.get(CLIENT_CONTEXT),
        cognito_identity=headers.get(COGNITO_IDENTITY),
        tenant_id=headers.get(TENANT_ID),
        content_type=headers.get("content-type", "application/json"),
        body=response.body,
    )


#: How events are decoded when they are UTF-8 (see :func:`decode_event`).
_DECODE = json.JSONDecoder().decode


def decode_event(body: bytes) -> Any:
    """The event an invocation's body carries: ``json.loads(body)``.

    The Runtime API hands out UTF-8 JSON objects; for those, the encoding
    ``json.loads`` would detect is known from the first two bytes, so the
    body is decoded as it would (``surrogatepass``) and handed to the
    decoder directly.  Anything else (a BOM, UTF-16 or UTF-32, not an
    object) goes to ``json.loads`` itself.  Raises ``ValueError`` when the
    body is not JSON.
    """
    if body[:1] == b"{" and body[1:2] != b"\x00":
        return _DECODE(body.decode("utf-8", "surrogatepass"))
    return json.loads(body)


def response_request(
    request_id: str, body: bytes, content_type: str = "application/json"
) -> Request:
    """The buffered result of invocation ``request_id``."""
    return Request(
        "POST",
        f"{invocation_path(request_id)}/response",
        (("Content-Type", content_type),),
        body,
    )


def error_request(request_id: str, error: dict[str, Any]) -> Request:
    """Invocation ``request_id`` failed with ``error`` (see :func:`error_body`)."""
    return _error(f"{invocation_path(request_id)}/error", error)


def init_error_request(error: dict[str, Any]) -> Request:
    """The function could not start (import failure, lifespan startup failure)."""
    return _error(f"{PREFIX}/init/error", error)


def restore_error_request(error: dict[str, Any]) -> Request:
    """The function failed after a SnapStart restore (an after-restore hook)."""
    return _error(f"{PREFIX}/restore/error", error)


def error_body(
    error_type: str, message: str, stack_trace: list[str] | None = None
) -> dict[str, Any]:
    """Lambda's JSON error shape."""
    return {"errorMessage": message, "errorType": error_type, "stackTrace": stack_trace or []}


def exception_error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    """The error shape of ``exc``: its message, its class name (or
    ``error_type``) and its traceback, one entry a frame as Lambda shows them."""
    frames = traceback.format_list(traceback.extract_tb(exc.__traceback__))
    return error_body(error_type or type(exc).__name__, str(exc), frames)


def check_accepted(response: Response, what: str) -> None:
    """Raise :class:`RuntimeAPIError` unless ``response`` accepts ``what``
    (``/response``, ``/error``, ``/init/error`` answer 202)."""
    if response.status != 202:
        raise RuntimeAPIError(
            f"The Runtime API refused {what}: {response.status} {response.reason} "
            f"{response.body[:200]!r}",
            status=response.status,
        )


#: The characters ``urllib.parse.quote`` never changes.
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"


def invocation_path(request_id: str) -> str:
    """``/2018-06-01/runtime/invocation/{id}``, the id quoted as ``quote(id, safe="")``
    does: it comes from the Runtime API, and is quoted all the same so that it
    can only ever name one path segment.  An id of unreserved characters only
    (a UUID, as Lambda's are) is its own quoting; ``urllib.parse`` is then
    not needed (nor imported, at start)."""
    if request_id.strip(_UNRESERVED):
        from urllib.parse import quote

        request_id = quote(request_id, safe="")
    return f"{PREFIX}/invocation/{request_id}"


def _error(target: str, error: dict[str, Any]) -> Request:
    error_type = str(error.get("errorType") or "Unknown")
    # A header value holds one line of ASCII; the body keeps the full type.
    header = " ".join(error_type.split()).encode("ascii", "replace").decode()
    body = json.dumps(error, ensure_ascii=False, default=str).encode()
    return Request(
        "POST",
        target,
        (("Content-Type", "application/json"), (ERROR_TYPE_HEADER, header)),
        body,
    )
