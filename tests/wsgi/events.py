"""Keyword-only builders of Lambda events, one per event source, all from the
same description of an HTTP request as a client sent it.

``path`` is the path as sent (percent-encoded), ``query`` the raw query
string, ``headers`` a list of (name, value) pairs with duplicates and
``body`` the exact bytes.  Each builder shapes them the way that AWS service
delivers them.  ``ABSENT`` leaves a key out of the event altogether.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl, unquote


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()

Event = dict[str, Any]
HeaderPairs = Sequence[tuple[str, str]]

API_DOMAIN = "abc123.execute-api.eu-west-1.amazonaws.com"
URL_DOMAIN = "abc123.lambda-url.eu-west-1.on.aws"
EDGE_DOMAIN = "d111111abcdef8.cloudfront.net"
CLIENT_IP = "203.0.113.9"
DEFAULT_HEADERS: tuple[tuple[str, str], ...] = (("user-agent", "test-client/1.0"),)


def _body_text(body: bytes, binary: bool) -> tuple[str, bool]:
    if binary:
        return base64.b64encode(body).decode("ascii"), True
    return body.decode("utf-8"), False


def _multi(pairs: HeaderPairs) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def _last(pairs: HeaderPairs) -> dict[str, str]:
    return {name: values[-1] for name, values in _multi(pairs).items()}


def _joined(pairs: HeaderPairs) -> dict[str, str]:
    return {
        name: ("; " if name.lower() == "cookie" else ",").join(values)
        for name, values in _multi(pairs).items()
    }


def _query_multi(query: str) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        grouped.setdefault(key, []).append(value)
    return grouped


def _query_multi_encoded(query: str) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for part in query.split("&") if query else []:
        key, _, value = part.partition("=")
        grouped.setdefault(key, []).append(value)
    return grouped


def _put(event: Event, key: str, value: object) -> None:
    if value is not ABSENT:
        event[key] = value


def rest_event(
    *,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: HeaderPairs = DEFAULT_HEADERS,
    body: bytes = b"",
    binary: bool = False,
    stage: str = "prod",
    host: str = API_DOMAIN,
    multi_value: bool = True,
) -> Event:
    """REST API proxy integration: ``path`` without the stage, decoded query
    parameters, both header maps."""
    pairs = [("Host", host), ("X-Forwarded-Proto", "https"), *headers]
    text, is_base64 = _body_text(body, binary)
    multi_query = _query_multi(query)
    event: Event = {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": _last(pairs),
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "domainName": host,
            "identity": {"sourceIp": CLIENT_IP},
            "requestId": "rest-request-id",
        },
        "body": text or None,
        "isBase64Encoded": is_base64,
    }
    if multi_value:
        event["multiValueHeaders"] = _multi(pairs)
    return event


def http_v1_event(
    *,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: HeaderPairs = DEFAULT_HEADERS,
    body: bytes = b"",
    binary: bool = False,
    stage: str = "prod",
    host: str = API_DOMAIN,
) -> Event:
    """HTTP API, payload 1.0: the REST shape with ``version`` and the stage in ``path``."""
    event = rest_event(
        method=method,
        path=f"/{stage}{path}" if stage != "$default" else path,
        query=query,
        headers=headers,
        body=body,
        binary=binary,
        stage=stage,
        host=host,
    )
    event["version"] = "1.0"
    event["requestContext"]["path"] = event["path"]
    return event


def http_event(
    *,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: HeaderPairs = DEFAULT_HEADERS,
    body: bytes = b"",
    binary: bool = False,
    stage: str = "prod",
    host: str = API_DOMAIN,
) -> Event:
    """HTTP API, payload 2.0: decoded ``rawPath`` with the stage, cookies apart."""
    pairs = [("host", host), ("x-forwarded-proto", "https"), *headers]
    cookies = [v for n, v in pairs if n.lower() == "cookie"]
    text, is_base64 = _body_text(body, binary)
    raw_path = unquote(f"/{stage}{path}" if stage != "$default" else path)
    event: Event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": {n.lower(): v for n, v in _joined(pairs).items() if n.lower() != "cookie"},
        "requestContext": {
            "domainName": host,
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": CLIENT_IP,
                "userAgent": "test-client/1.0",
            },
            "requestId": "http-request-id",
            "routeKey": "$default",
            "stage": stage,
        },
        "isBase64Encoded": is_base64,
    }
    if cookies:
        event["cookies"] = [c.strip() for value in cookies for c in value.split(";")]
    if query:
        event["queryStringParameters"] = {k: ",".join(v) for k, v in _query_multi(query).items()}
    if text:
        event["body"] = text
    return event


def url_event(
    *,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: HeaderPairs = DEFAULT_HEADERS,
    body: bytes = b"",
    binary: bool = False,
) -> Event:
    """Function URL: the payload 2.0 shape, ``rawPath`` still encoded, no stage."""
    event = http_event(
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        binary=binary,
        stage="$default",
        host=URL_DOMAIN,
    )
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    return event


def alb_event(
    *,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: HeaderPairs = DEFAULT_HEADERS,
    body: bytes = b"",
    binary: bool = False,
    multi_value: bool = False,
    host: str = "my-lb-123.eu-west-1.elb.amazonaws.com",
) -> Event:
    """Application Load Balancer: everything as sent, still encoded."""
    pairs = [
        ("host", host),
        ("x-forwarded-for", CLIENT_IP),
        ("x-forwarded-port", "443"),
        ("x-forwarded-proto", "https"),
        *headers,
    ]
    text, is_base64 = _body_text(body, binary)
    query_multi = _query_multi_encoded(query)
    event: Event = {
        "requestContext": {
            "elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/t/1"}
        },
        "httpMethod": method,
        "path": path,
        "body": text,
        "isBase64Encoded": is_base64,
    }
    if multi_value:
        event["multiValueHeaders"] = {n.lower(): v for n, v in _multi(pairs).items()}
        event["multiValueQueryStringParameters"] = query_multi
    else:
        event["headers"] = {n.lower(): v for n, v in _last(pairs).items()}
        event["queryStringParameters"] = {k: v[-1] for k, v in query_multi.items()}
    return event


def edge_event(
    *,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: HeaderPairs = DEFAULT_HEADERS,
    body: bytes = b"",
    binary: bool = False,
    host: str = EDGE_DOMAIN,
) -> Event:
    """CloudFront Lambda@Edge origin request."""
    pairs = [("Host", host), ("CloudFront-Forwarded-Proto", "https"), *headers]
    cf_headers: dict[str, list[dict[str, str]]] = {}
    for name, value in pairs:
        cf_headers.setdefault(name.lower(), []).append({"key": name, "value": value})
    request: dict[str, Any] = {
        "clientIp": CLIENT_IP,
        "method": method,
        "uri": path,
        "querystring": query,
        "headers": cf_headers,
    }
    if body:
        text, is_base64 = _body_text(body, True) if binary else (body.decode("utf-8"), False)
        request["body"] = {
            "action": "read-only",
            "data": text,
            "encoding": "base64" if is_base64 else "text",
            "inputTruncated": False,
        }
    return {
        "Records": [
            {
                "cf": {
                    "config": {
                        "distributionDomainName": host,
                        "distributionId": "EDFDVBD6EXAMPLE",
                        "eventType": "origin-request",
                        "requestId": "edge-request-id",
                    },
                    "request": request,
                }
            }
        ]
    }


def lattice_event(
    *,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: HeaderPairs = DEFAULT_HEADERS,
    body: bytes = b"",
    binary: bool = False,
    host: str = "svc-0123.7d67968.vpc-lattice-svcs.eu-west-1.on.aws",
) -> Event:
    """VPC Lattice 1.0: ``raw_path`` with the query, comma-joined headers."""
    pairs = [("host", host), ("x-forwarded-for", CLIENT_IP), *headers]
    text, is_base64 = _body_text(body, binary)
    return {
        "raw_path": f"{path}?{query}" if query else path,
        "method": method,
        "headers": {n.lower(): v for n, v in _joined(pairs).items()},
        "query_string_parameters": {k: v[-1] for k, v in _query_multi(query).items()},
        "body": text,
        "is_base64_encoded": is_base64,
    }


def lattice_v2_event(
    *,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: HeaderPairs = DEFAULT_HEADERS,
    body: bytes = b"",
    binary: bool = False,
    host: str = "svc-0123.7d67968.vpc-lattice-svcs.eu-west-1.on.aws",
) -> Event:
    """VPC Lattice 2.0: header and query values as lists."""
    pairs = [("host", host), ("x-forwarded-for", CLIENT_IP), *headers]
    text, is_base64 = _body_text(body, binary)
    return {
        "version": "2.0",
        "path": f"{path}?{query}" if query else path,
        "method": method,
        "headers": {n.lower(): v for n, v in _multi(pairs).items()},
        "queryStringParameters": _query_multi(query),
        "body": text,
        "isBase64Encoded": is_base64,
        "requestContext": {
            "serviceNetworkArn": "arn:aws:vpc-lattice:eu-west-1:1:servicenetwork/sn-1",
            "serviceArn": "arn:aws:vpc-lattice:eu-west-1:1:service/svc-0123",
            "targetGroupArn": "arn:aws:vpc-lattice:eu-west-1:1:targetgroup/tg-1",
            "region": "eu-west-1",
            "timeEpoch": "1700000000000000",
        },
    }


def alb_multi_event(
    *,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: HeaderPairs = DEFAULT_HEADERS,
    body: bytes = b"",
    binary: bool = False,
) -> Event:
    return alb_event(
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        binary=binary,
        multi_value=True,
    )


Builder = Callable[..., Event]

#: Every source, by a test id; the value is the builder.
BUILDERS: dict[str, Builder] = {
    "rest": rest_event,
    "http-v1": http_v1_event,
    "http": http_event,
    "url": url_event,
    "alb": alb_event,
    "alb-multi": alb_multi_event,
    "edge": edge_event,
    "lattice": lattice_event,
    "lattice-v2": lattice_v2_event,
}

#: The root path each source's default event gives the application.
STAGE_ROOT: dict[str, str] = {
    "rest": "/prod",
    "http-v1": "/prod",
    "http": "/prod",
    "url": "",
    "alb": "",
    "alb-multi": "",
    "edge": "",
    "lattice": "",
    "lattice-v2": "",
}
