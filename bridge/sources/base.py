"""The event-source protocol.

An event source is two pure functions and a predicate:

* ``matches(event)``: is this event mine?
* ``to_request(event, context, config)``: the ASGI scope and the whole body.
* ``read(event, context, config)`` (optional, the built-in sources have it):
  the request as a :class:`~bridge.sources._common.Request`, from which
  both the ASGI scope and the WSGI environ are built.
* ``to_response(event, status, headers, body, config)``: the Lambda response
  dict for the application's answer.  ``event`` is passed again because some
  sources answer in the shape of the request (ALB multi-value mode).

Built-in sources and ``custom_handlers`` use the same protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bridge.body import BodySerializer
from bridge.types import Headers, HTTPScope, LambdaContext, LambdaEvent, LambdaResponse


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """The options that shape requests and responses."""

    base_path: str = ""
    serializer: BodySerializer = field(default_factory=BodySerializer)


if TYPE_CHECKING:
    from bridge.sources._common import Request

ToRequest = Callable[[LambdaEvent, "LambdaContext | None", SourceConfig], tuple[HTTPScope, bytes]]
ToResponse = Callable[[LambdaEvent, int, Headers, bytes, SourceConfig], LambdaResponse]
ReadRequest = Callable[[LambdaEvent, "LambdaContext | None", SourceConfig], "Request"]


@dataclass(frozen=True, slots=True)
class EventSource:
    """One kind of Lambda event: how to detect it, read it and answer it."""

    name: str
    matches: Callable[[LambdaEvent], bool]
    to_request: ToRequest
    to_response: ToResponse
    #: What ``matches`` looks for, for the error raised when nothing matches.
    looks_for: str = ""
    #: The request as text, for sources that can give it (the built-in ones).
    read: ReadRequest | None = None


def scope_reader(read: ReadRequest) -> ToRequest:
    """``to_request`` for a source that has ``read``: the scope of what it reads."""

    def to_request(
        event: LambdaEvent, context: LambdaContext | None, config: SourceConfig
    ) -> tuple[HTTPScope, bytes]:
        return read(event, context, config).to_scope()

    return to_request
