"""The event-source protocol.

An event source is two pure functions and a predicate:

* ``matches(event)``: is this event mine?
* ``to_request(event, context, config)``: the ASGI scope and the whole body.
* ``to_response(event, status, headers, body, config)``: the Lambda response
  dict for the application's answer.  ``event`` is passed again because some
  sources answer in the shape of the request (ALB multi-value mode).

Built-in sources and ``custom_handlers`` use the same protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bridge.body import BodySerializer
from bridge.types import Headers, HTTPScope, LambdaContext, LambdaEvent, LambdaResponse


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """The options that shape requests and responses."""

    base_path: str = ""
    serializer: BodySerializer = field(default_factory=BodySerializer)


ToRequest = Callable[[LambdaEvent, "LambdaContext | None", SourceConfig], tuple[HTTPScope, bytes]]
ToResponse = Callable[[LambdaEvent, int, Headers, bytes, SourceConfig], LambdaResponse]


@dataclass(frozen=True, slots=True)
class EventSource:
    """One kind of Lambda event: how to detect it, read it and answer it."""

    name: str
    matches: Callable[[LambdaEvent], bool]
    to_request: ToRequest
    to_response: ToResponse
    #: What ``matches`` looks for, for the error raised when nothing matches.
    looks_for: str = ""
