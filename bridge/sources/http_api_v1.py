"""API Gateway HTTP API with payload format 1.0.

The request and response shapes are those of the REST API proxy integration;
the event carries ``"version": "1.0"``.  Unlike a REST API's, ``path`` arrives
already percent-decoded (as ``rawPath`` does in payload 2.0), so it is not
decoded again.  A named stage appears at the front of ``path`` itself, and
becomes ``root_path``.
"""

from __future__ import annotations

from bridge.sources import rest
from bridge.sources.base import EventSource, SourceConfig, scope_reader

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from bridge.sources.request import Builder, T
    from bridge.types import LambdaContext, LambdaEvent


NAME = "http-v1"


def matches(event: LambdaEvent) -> bool:
    context = event.get("requestContext")
    return (
        "httpMethod" in event
        and "version" in event
        and "rawPath" not in event
        and isinstance(context, dict)
    )


def read(
    event: LambdaEvent, context: LambdaContext | None, config: SourceConfig, build: Builder[T]
) -> T:
    return rest.read(event, context, config, build, NAME)


SOURCE = EventSource(
    name=NAME,
    matches=matches,
    to_request=scope_reader(read),
    to_response=rest.SOURCE.to_response,
    looks_for="'httpMethod', 'version' and 'requestContext'",
    read=read,
)
