"""Events that are not HTTP requests: queues, topics, buckets, streams, schedules.

With ``Bridge(app, non_http_path="/events")`` an event that no HTTP source
(and no WebSocket) matches reaches the application as ``POST /events`` on
host ``lambda``, the event as its JSON body, with ``aws.event`` and
``aws.context`` as for HTTP events.  The answer becomes the invocation's
result (:func:`invocation_result`).  :func:`event_source` tells an
application which service sent an event.  The README's "Events that are not
HTTP requests" says more.
"""

from __future__ import annotations

from bridge.body import is_compressed
from bridge.errors import ApplicationError, ConfigurationError
from bridge.response import takes_text
from bridge.sources import is_warmup
from bridge.sources.base import EventSource, scope_reader
from bridge.sources.request import decode_path

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from typing import Any

    from bridge.sources.base import SourceConfig
    from bridge.sources.request import Builder, T
    from bridge.types import LambdaContext, LambdaEvent, TextHeaders

__all__ = [
    "HOST",
    "NAME",
    "check_path",
    "event_source",
    "events_source",
    "invocation_result",
    "is_warmup",
    "status_error",
]

NAME = "events"
#: The host of the request an event becomes (Django: add it to ALLOWED_HOSTS).
HOST = "lambda"
#: How much of an error answer's body the exception message shows.
BODY_SHOWN = 500


def event_source(event: object) -> str | None:
    """The service that sent ``event``: ``"sqs"``, ``"sns"``, ``"s3"``...
    (``Records[0].eventSource`` without ``aws:``), ``"eventbridge"`` (a
    ``detail-type`` and a ``source``), ``"logs"`` (``awslogs.data``),
    ``"kafka"``, ``"mq"``... (a top-level ``eventSource``); else ``None``."""
    if not isinstance(event, dict):
        return None
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        record = records[0]
        # SNS spells it EventSource; every other service eventSource.
        name = _service(record.get("eventSource") or record.get("EventSource"))
        if name is not None:
            return name
    if "detail-type" in event and "source" in event:
        return "eventbridge"
    logs = event.get("awslogs")
    if isinstance(logs, dict) and "data" in logs:
        return "logs"
    return _service(event.get("eventSource"))


def _service(value: object) -> str | None:
    """``"aws:sqs"`` -> ``"sqs"``; None when ``value`` names no AWS service."""
    if isinstance(value, str) and value.startswith("aws:") and len(value) > 4:
        return value[4:]
    return None


def check_path(value: object) -> str:
    """``non_http_path`` as given, once checked: an absolute path without a
    query, fragment or whitespace."""
    if (
        not isinstance(value, str)
        or not value.startswith("/")
        or not value.isascii()
        or not value.isprintable()
        or any(c in value for c in " ?#")
    ):
        raise ConfigurationError(
            "non_http_path must be the path that receives non-HTTP events, such as "
            f"'/events' (starting with '/', printable ASCII, no query); got {value!r}. "
            "Pass None to leave non-HTTP events unhandled."
        )
    return value


def events_source(path: str) -> EventSource:
    """The source that sends every event to ``POST path`` and answers with
    :func:`invocation_result` (``path`` checked by :func:`check_path`)."""
    decoded = decode_path(path)

    def read(
        event: LambdaEvent, context: LambdaContext | None, config: SourceConfig, build: Builder[T]
    ) -> T:
        import json

        # Compact, ASCII only: any string JSON can carry (a lone surrogate too) gets through.
        body = json.dumps(event, separators=(",", ":")).encode("ascii")
        headers = {
            "host": HOST,
            "content-type": "application/json",
            "content-length": str(len(body)),
        }
        return build(
            NAME, event, context, "POST", "https", decoded, path, "", "", headers, None, None,
            (HOST, 443), body, "1.1", None,
        )  # fmt: skip

    def to_response(
        event: LambdaEvent, status: int, headers: TextHeaders, body: bytes, config: SourceConfig
    ) -> Any:
        return invocation_result(status, headers, body, path, config)

    return EventSource(
        name=NAME,
        matches=lambda event: True,
        to_request=scope_reader(read),
        to_response=takes_text(to_response),
        looks_for="any event no other source matches (non_http_path)",
        read=read,
    )


def invocation_result(
    status: int, headers: TextHeaders, body: bytes, path: str, config: SourceConfig
) -> Any:
    """The invocation's result for the application's answer to ``POST path``.

    2xx: an empty body is ``None``; a JSON body (``application/json`` or
    ``+json``, not content-encoded) the parsed value; any other body the
    string the HTTP sources would send.  Any other status raises
    :class:`~bridge.errors.ApplicationError`: the invocation fails.
    """
    if not 200 <= status < 300:
        why = "a non-2xx answer to a non-HTTP event fails the invocation"
        raise status_error(status, f"POST {path}", body, why)
    if not body:
        return None
    content_type = ""
    encoded = False
    for name, value in headers:
        if name == "content-type":
            content_type = value
        elif name == "content-encoding" and is_compressed(value):
            encoded = True
    mime = content_type.partition(";")[0].strip().lower()
    if not encoded and (mime == "application/json" or mime.endswith("+json")):
        import json

        try:
            return json.loads(body)
        except ValueError as exc:
            why = f"its content-type is {mime} but the body is not JSON ({exc})"
            raise status_error(status, f"POST {path}", body, why) from None
    return config.serializer.encode(body, headers)[0]


def status_error(status: int, request: str, body: bytes, why: str) -> ApplicationError:
    """The error for an answer that fails the invocation: its status, the
    request, and the start of its body (never logged: it becomes the
    function error Lambda records)."""
    if not body:
        shown = "empty"
    else:
        shown = repr(body[:BODY_SHOWN].decode("utf-8", "replace"))
        if len(body) > BODY_SHOWN:
            shown += f"... ({len(body)} bytes in all)"
    return ApplicationError(
        f"The application answered {request} with status {status}: {why}. Body: {shown}.",
        status=status,
        request=request,
        body=body[:BODY_SHOWN],
    )
