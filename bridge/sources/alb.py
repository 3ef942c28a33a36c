"""Application Load Balancer targets, with multi-value headers off or on.

The load balancer passes the path and query parameters exactly as the client
sent them, still percent-encoded: the path is decoded once and the query
string is joined back without re-encoding.  The response mirrors the
request's header mode (:func:`single_value_headers` for the single one).  The
client address is the right-most ``X-Forwarded-For`` entry, the one the load
balancer appended.
"""

from __future__ import annotations

from bridge._log import get_logger
from bridge.body import decode_request_body
from bridge.response import multi_value_headers, status_phrase, takes_text
from bridge.sources import request as r
from bridge.sources.base import EventSource, SourceConfig, scope_reader

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from typing import Any

    from bridge.sources.request import Builder, RequestHeaders, T
    from bridge.types import LambdaContext, LambdaEvent, LambdaResponse, TextHeaders


NAME = "alb"


def matches(event: LambdaEvent) -> bool:
    context = event.get("requestContext")
    return isinstance(context, dict) and "elb" in context


def is_multi_value(event: LambdaEvent) -> bool:
    return event.get("multiValueHeaders") is not None


def read(
    event: LambdaEvent, context: LambdaContext | None, config: SourceConfig, build: Builder[T]
) -> T:
    # Each field is taken as it is when it has the usual type and is plain
    # ASCII; anything else goes to the helper that checks it and explains.
    method = event.get("httpMethod")
    if type(method) is not str or not method or not method.isascii():
        method = r.method(method, "httpMethod", NAME)
    raw = event.get("path")
    if type(raw) is not str or raw[:1] != "/" or not raw.isascii():
        raw = r.absolute_path(raw, "path", NAME)

    # The headers as the event has them (the builder checks them) when the
    # X-Forwarded-For the load balancer appended is under its lower-case
    # name, as the load balancer sends it; else the checked helpers.
    headers: RequestHeaders
    forwarded_for: str | None
    multi = is_multi_value(event)
    key = "multiValueHeaders" if multi else "headers"
    found: Any = event.get(key)
    value = found.get("x-forwarded-for") if type(found) is dict else None
    if multi and type(value) is list and value and type(value[-1]) is str:
        headers, forwarded_for = r.MultiValueHeaders(found), value[-1]
    elif not multi and type(value) is str:
        headers, forwarded_for = found, value
    else:
        values = r.mapping(event, key, NAME)
        headers = (
            r.read_multi_headers(values, NAME) if multi else r.read_single_headers(values, NAME)
        )
        forwarded_for = r.last_values(headers).get("x-forwarded-for")
    # Whichever the event has, whatever the header mode: the multi-value
    # parameters when present, as they hold every value.
    params = r.mapping(event, "multiValueQueryStringParameters", NAME) or r.mapping(
        event, "queryStringParameters", NAME
    )
    query = r.join_query(params, NAME) if params else ""
    body = decode_request_body(event.get("body"), event.get("isBase64Encoded"), source=NAME)
    client = r.client(r.rightmost(forwarded_for)) if forwarded_for else None
    # The scheme (http unless X-Forwarded-Proto says) and server: the builder's, from the headers.
    return r.build_proxied(
        build, NAME, event, context, config, method, raw, query, headers, body, client, ("http", "")
    )


def to_response(
    event: LambdaEvent, status: int, headers: TextHeaders, body: bytes, config: SourceConfig
) -> LambdaResponse:
    response: LambdaResponse = {"statusCode": status, "statusDescription": status_phrase(status)}
    if is_multi_value(event):
        response["multiValueHeaders"] = multi_value_headers(headers)
    else:
        response["headers"] = single_value_headers(headers)
    response["body"], response["isBase64Encoded"] = config.serializer.encode(body, headers)
    return response


def single_value_headers(headers: TextHeaders) -> dict[str, str]:
    """Headers for single-value mode, one value per name: repeated headers
    comma-joined, but each Set-Cookie (which cannot be joined, RFC 9110, 5.3)
    under a casing of its own, which the load balancer passes on as a header
    line of its own (as Mangum and serverless-wsgi send them), and a WARNING
    that recommends multi-value mode."""
    single: dict[str, str] = {}
    for key, values in multi_value_headers(headers).items():
        if len(values) == 1:
            single[key] = values[0]
        elif key != "set-cookie":
            single[key] = ",".join(values)
        else:
            names = casings(key, len(values))
            single.update(zip(names, values[: len(names)], strict=True))
            left_out = len(values) - len(names)
            get_logger("bridge.sources").warning(
                "%s responses carry one value per header: %d Set-Cookie headers were sent under "
                "differently-cased names (set-cookie, Set-cookie, ...), which the load balancer "
                "passes on as separate headers%s. Turn on multi-value headers for the target "
                "group to send them as a list.",
                NAME,
                len(values),
                f"; the last {left_out} were left out (a name has only so many casings)"
                if left_out
                else "",
            )
    return single


def casings(name: str, count: int) -> list[str]:
    """The first ``count`` casings of ``name`` (lower-case), the first letter
    varying fastest: ``set-cookie``, ``Set-cookie``, ``sEt-cookie``, ... (fewer
    when the name has fewer: ``2 ** letters``)."""
    letters = [index for index, char in enumerate(name) if char.isalpha()]
    result: list[str] = []
    for number in range(min(count, 2 ** len(letters))):
        chars = list(name)
        for bit, index in enumerate(letters):
            if number >> bit & 1:
                chars[index] = chars[index].upper()
        result.append("".join(chars))
    return result


SOURCE = EventSource(
    name=NAME,
    matches=matches,
    to_request=scope_reader(read),
    to_response=takes_text(to_response),
    looks_for="requestContext.elb",
    read=read,
    # "The maximum size of the response JSON that the Lambda function can
    # send is 1 MB" (Elastic Load Balancing guide); over it the load balancer
    # answers 502.
    response_limit=1_048_576,
)
