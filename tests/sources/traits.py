"""What each built-in event source does with a request and a response, as AWS
documents and delivers it: the one table the tests read their expectations
from, written independently of the source modules.

The names are those of ``bridge.local.events.SOURCE_NAMES`` (``alb-multi``:
an ALB target group with multi-value headers on).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

#: Lambda's limit on a response, in bytes of JSON.
LAMBDA_LIMIT = 6_291_556
#: An Application Load Balancer's limit on a Lambda response, in bytes of JSON.
ALB_LIMIT = 1_048_576

#: How the event carries a request header sent more than once: every line,
#: grouped by name (the order across differently-cased names is lost);
#: every line in order; joined with commas by the service; or the last line
#: only.
RequestHeaders = Literal["grouped", "ordered", "joined", "last"]
#: How the response carries several Set-Cookie headers: all of them (as a
#: ``cookies`` list or as multi-value headers); all of them, but only under
#: differently-cased names (ALB single-value mode: bridge logs a warning); or
#: the last one only (bridge logs a warning).
SetCookies = Literal["all", "by casing", "last"]

#: The keys each service accepts in a Lambda response.
API_GATEWAY_V1_KEYS = frozenset(
    {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
)
API_GATEWAY_V2_KEYS = frozenset({"statusCode", "headers", "cookies", "body", "isBase64Encoded"})
ALB_KEYS = frozenset(
    {"statusCode", "statusDescription", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
)
EDGE_KEYS = frozenset({"status", "statusDescription", "headers", "body", "bodyEncoding"})
LATTICE_KEYS = frozenset({"statusCode", "statusDescription", "headers", "body", "isBase64Encoded"})


class Traits(NamedTuple):
    #: How a repeated request header arrives.
    request_headers: RequestHeaders
    #: The request path starts with the API's stage (``/prod/...``).
    staged: bool
    #: The path arrives still percent-encoded, as the client spelled it.
    encoded_path: bool
    #: The query string arrives exactly as the client sent it.
    raw_query: bool
    #: The event can carry an API Gateway authorizer's context.
    authorizer: bool
    #: The keys the service accepts in a response.
    response_keys: frozenset[str]
    #: The response carries every value of a repeated header.
    multi_value_response: bool
    #: How the response carries several Set-Cookie headers.
    set_cookies: SetCookies
    #: The response's limit in bytes of JSON: Lambda's, or the service's when
    #: lower; None for Lambda@Edge, which limits headers and body instead.
    response_limit: int | None
    #: Under ``invoke_mode="RESPONSE_STREAM"``, the response is streamed.
    streams: bool


TRAITS: dict[str, Traits] = {
    "rest": Traits(
        request_headers="grouped",
        staged=True,
        encoded_path=True,
        raw_query=False,
        authorizer=True,
        response_keys=API_GATEWAY_V1_KEYS,
        multi_value_response=True,
        set_cookies="all",
        response_limit=LAMBDA_LIMIT,
        streams=True,
    ),
    "http-v1": Traits(
        request_headers="grouped",
        staged=True,
        encoded_path=False,
        raw_query=False,
        authorizer=True,
        response_keys=API_GATEWAY_V1_KEYS,
        multi_value_response=True,
        set_cookies="all",
        response_limit=LAMBDA_LIMIT,
        streams=False,
    ),
    "http": Traits(
        request_headers="joined",
        staged=True,
        encoded_path=False,
        raw_query=True,
        authorizer=True,
        response_keys=API_GATEWAY_V2_KEYS,
        multi_value_response=False,
        set_cookies="all",
        response_limit=LAMBDA_LIMIT,
        streams=False,
    ),
    "url": Traits(
        request_headers="joined",
        staged=False,
        encoded_path=True,
        raw_query=True,
        authorizer=True,
        response_keys=API_GATEWAY_V2_KEYS,
        multi_value_response=False,
        set_cookies="all",
        response_limit=LAMBDA_LIMIT,
        streams=True,
    ),
    "alb": Traits(
        request_headers="last",
        staged=False,
        encoded_path=True,
        raw_query=False,
        authorizer=False,
        response_keys=ALB_KEYS,
        multi_value_response=False,
        set_cookies="by casing",
        response_limit=ALB_LIMIT,
        streams=False,
    ),
    "alb-multi": Traits(
        request_headers="ordered",
        staged=False,
        encoded_path=True,
        raw_query=False,
        authorizer=False,
        response_keys=ALB_KEYS,
        multi_value_response=True,
        set_cookies="all",
        response_limit=ALB_LIMIT,
        streams=False,
    ),
    "edge": Traits(
        request_headers="ordered",
        staged=False,
        encoded_path=True,
        raw_query=True,
        authorizer=False,
        response_keys=EDGE_KEYS,
        multi_value_response=True,
        set_cookies="all",
        response_limit=None,
        streams=False,
    ),
    "lattice": Traits(
        request_headers="joined",
        staged=False,
        encoded_path=True,
        raw_query=True,
        authorizer=False,
        response_keys=LATTICE_KEYS,
        multi_value_response=False,
        set_cookies="last",
        response_limit=LAMBDA_LIMIT,
        streams=False,
    ),
    "lattice-v2": Traits(
        request_headers="ordered",
        staged=False,
        encoded_path=True,
        raw_query=True,
        authorizer=False,
        response_keys=LATTICE_KEYS,
        multi_value_response=False,
        set_cookies="last",
        response_limit=LAMBDA_LIMIT,
        streams=False,
    ),
}


def sources_where(**wanted: object) -> frozenset[str]:
    """The names of the sources whose traits have the ``wanted`` values, e.g.
    ``sources_where(staged=True)``."""
    for trait in wanted:
        if trait not in Traits._fields:
            raise TypeError(f"no source trait {trait!r}; the traits are {Traits._fields}")
    return frozenset(
        name
        for name, traits in TRAITS.items()
        if all(getattr(traits, trait) == value for trait, value in wanted.items())
    )
