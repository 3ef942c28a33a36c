"""Application Load Balancer targets, with multi-value headers off or on.

The load balancer passes the path and query parameters exactly as the client
sent them, still percent-encoded: the path is decoded once and the query
string is joined back without re-encoding.  The response mirrors the
request's mode: ``multiValueHeaders`` when the request had them, otherwise
``headers``.  The client address is the right-most ``X-Forwarded-For``
entry, the one the load balancer appended.
"""

from __future__ import annotations

from bridge.body import decode_request_body
from bridge.sources import _common as c
from bridge.sources.base import EventSource, SourceConfig, scope_reader

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from bridge.types import Headers, LambdaContext, LambdaEvent, LambdaResponse, TextHeaders


NAME = "alb"


def matches(event: LambdaEvent) -> bool:
    context = event.get("requestContext")
    return isinstance(context, dict) and "elb" in context


def is_multi_value(event: LambdaEvent) -> bool:
    return event.get("multiValueHeaders") is not None


def read(event: LambdaEvent, context: LambdaContext | None, config: SourceConfig) -> c.Request:
    method = c.method(event.get("httpMethod"), "httpMethod", NAME)
    raw = c.absolute_path(event.get("path"), "path", NAME)
    path = c.decode_path(raw)
    root_path = config.base_path if c.prefix_on_boundary(path, config.base_path) else ""

    headers: c.TextHeaders
    if is_multi_value(event):
        headers = c.read_multi_headers(c.mapping(event, "multiValueHeaders", NAME), NAME)
    else:
        headers = c.read_single_headers(c.mapping(event, "headers", NAME), NAME)
    # Whichever the event has, whatever the header mode: the multi-value
    # parameters when present, as they hold every value.
    query = c.mapping(event, "multiValueQueryStringParameters", NAME) or c.mapping(
        event, "queryStringParameters", NAME
    )

    last = c.last_values(headers)
    forwarded_for = last.get("x-forwarded-for")
    scheme, server = c.scheme_and_server(last, default_scheme="http")
    return c.Request(
        NAME,  # source
        event,
        context,
        method,
        scheme,
        path,
        raw,  # raw_path
        root_path,
        c.join_query(query, NAME) if query else "",  # query
        headers,
        c.client(c.rightmost(forwarded_for)) if forwarded_for else None,  # client
        server,
        decode_request_body(event.get("body"), event.get("isBase64Encoded"), source=NAME),  # body
    )


def to_response(
    event: LambdaEvent, status: int, headers: Headers, body: bytes, config: SourceConfig
) -> LambdaResponse:
    return text_response(event, status, c.text_headers(headers), body, config)


def text_response(
    event: LambdaEvent, status: int, headers: TextHeaders, body: bytes, config: SourceConfig
) -> LambdaResponse:
    text, is_base64 = config.serializer.encode_text(headers, body)
    response: LambdaResponse = {"statusCode": status, "statusDescription": c.status_phrase(status)}
    if is_multi_value(event):
        response["multiValueHeaders"] = c.multi_value_headers(headers)
    else:
        response["headers"] = c.single_value_headers(headers, NAME)
    response["body"] = text
    response["isBase64Encoded"] = is_base64
    return response


SOURCE = EventSource(
    name=NAME,
    matches=matches,
    to_request=scope_reader(read),
    to_response=to_response,
    text_response=text_response,
    looks_for="requestContext.elb",
    read=read,
    # "The maximum size of the response JSON that the Lambda function can
    # send is 1 MB" (Elastic Load Balancing guide); over it the load balancer
    # answers 502.
    response_limit=1_048_576,
)
