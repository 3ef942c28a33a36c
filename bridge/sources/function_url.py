"""Lambda function URLs.

The event and response use the HTTP API payload 2.0 shape, with one
difference that matters: ``rawPath`` arrives still percent-encoded, so it is
decoded (once) here.  Function URLs have no stages.
"""

from __future__ import annotations

from bridge.sources import http_api_v2
from bridge.sources.base import EventSource, scope_reader

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from bridge.types import LambdaEvent


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


#: Payload 2.0, read with the path decoded once.
read = http_api_v2.reader(NAME)


SOURCE = EventSource(
    name=NAME,
    matches=matches,
    to_request=scope_reader(read),
    to_response=http_api_v2.SOURCE.to_response,
    looks_for="'version': '2.0', 'rawPath' and a requestContext.domainName of *.lambda-url.*",
    read=read,
)
