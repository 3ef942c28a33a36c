"""Lambda function URLs.

The event and response use the HTTP API payload 2.0 shape, with one
difference that matters: ``rawPath`` arrives still percent-encoded, so it is
decoded (once) here.  Function URLs have no stages.
"""

from __future__ import annotations

from bridge.sources import http_api_v2
from bridge.sources.base import EventSource, SourceConfig, scope_reader

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from typing import TypeVar

    from bridge.sources.request import Builder
    from bridge.types import LambdaContext, LambdaEvent

    T = TypeVar("T")


NAME = "url"


def matches(event: LambdaEvent) -> bool:
    context = event.get("requestContext")
    return (
        event.get("version") == "2.0"
        and "rawPath" in event
        and isinstance(context, dict)
        and "http" in context
        and http_api_v2.is_function_url(context)
    )


def read(
    event: LambdaEvent, context: LambdaContext | None, config: SourceConfig, build: Builder[T]
) -> T:
    return http_api_v2.read(event, context, config, build, NAME)


SOURCE = EventSource(
    name=NAME,
    matches=matches,
    to_request=scope_reader(read),
    to_response=http_api_v2.SOURCE.to_response,
    looks_for="'version': '2.0', 'rawPath' and a requestContext.domainName of *.lambda-url.*",
    read=read,
)
