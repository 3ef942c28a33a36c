"""Amazon VPC Lattice, event structure 2.0.

Header and query values arrive as lists (some producers send plain strings;
both are read).  The path is percent-encoded as sent.  The response holds one
value per header, as in 1.0.
"""

from __future__ import annotations

from bridge.sources import request as r
from bridge.sources import vpc_lattice_v1 as v1
from bridge.sources.base import EventSource, scope_reader

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from bridge.types import LambdaEvent


NAME = "lattice-v2"


def matches(event: LambdaEvent) -> bool:
    context = event.get("requestContext")
    return (
        event.get("version") == "2.0"
        and "method" in event
        and isinstance(context, dict)
        and ("serviceArn" in context or "targetGroupArn" in context)
    )


read = v1.reader(
    NAME,
    "path",
    ("queryStringParameters", "query_string_parameters"),
    "isBase64Encoded",
    r.read_multi_headers,
)


SOURCE = EventSource(
    name=NAME,
    matches=matches,
    to_request=scope_reader(read),
    to_response=v1.SOURCE.to_response,
    looks_for="'version': '2.0', 'method' and requestContext.serviceArn/targetGroupArn",
    read=read,
)
