"""Lambda events of every HTTP source, shaped as AWS shapes them.

``build_event`` turns one HTTP request (method, path and query as the client
sent them, headers, body bytes) into the event the named source delivers:
where AWS decodes the path or the query, which casing headers keep, how
repeated headers and cookies arrive, when the body is base64.  The tests,
``python -m bridge invoke``/``serve`` and the benchmarks all use it.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from bridge.body import BodySerializer

SOURCE_NAMES = (
    "rest",
    "http-v1",
    "http",
    "url",
    "alb",
    "alb-multi",
    "edge",
    "lattice",
    "lattice-v2",
)

_TEXT = BodySerializer()
_EPOCH_MS = 1_700_000_000_000


def build_event(
    source: str,
    *,
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    base64_body: bool | None = None,
    stage: str | None = None,
    host: str = "example.com",
    scheme: str = "https",
    port: int | None = None,
    source_ip: str = "203.0.113.7",
) -> dict[str, Any]:
    """The event ``source`` delivers for this request.

    ``path`` and ``query`` are as the client sent them (percent-encoded).
    ``stage``: the request came through the API's own URL with this stage in
    front of the path (REST and HTTP APIs); ``None`` means a custom domain or
    the ``$default`` stage.  ``base64_body``: ``None`` encodes the body the
    way API Gateway does for a binary body (not UTF-8, or a non-text type).
    """
    try:
        builder = _BUILDERS[source]
    except KeyError:
        raise ValueError(
            f"source must be one of {', '.join(SOURCE_NAMES)}; got {source!r}"
        ) from None
    header_list = list(headers)
    names = {name.lower() for name, _ in header_list}
    if "host" not in names:
        header_list.insert(0, ("Host", host if port is None else f"{host}:{port}"))
    forwarded = [
        ("X-Forwarded-For", source_ip),
        ("X-Forwarded-Port", str(port or (443 if scheme == "https" else 80))),
        ("X-Forwarded-Proto", scheme),
    ]
    header_list += [h for h in forwarded if h[0].lower() not in names]
    if base64_body is None:
        base64_body = _is_binary(header_list, body)
    request = _Request(
        method=method.upper(),
        path=path if path.startswith("/") else "/" + path,
        query=query.lstrip("?"),
        headers=header_list,
        body=body,
        base64_body=base64_body,
        stage=stage,
        host=host,
        source_ip=source_ip,
    )
    return builder(request)


@dataclass(kw_only=True)
class _Request:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    base64_body: bool
    stage: str | None
    host: str
    source_ip: str

    def body_text(self) -> str | None:
        if not self.body:
            return None
        if self.base64_body:
            return base64.b64encode(self.body).decode("ascii")
        return self.body.decode("utf-8")

    def decoded_query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    def raw_query(self) -> list[tuple[str, str]]:
        pairs = []
        for part in self.query.split("&"):
            if part:
                key, _, value = part.partition("=")
                pairs.append((key, value))
        return pairs

    def user_agent(self) -> str:
        for name, value in self.headers:
            if name.lower() == "user-agent":
                return value
        return ""


def _is_binary(headers: list[tuple[str, str]], body: bytes) -> bool:
    if not body:
        return False
    content_type = next((v for n, v in headers if n.lower() == "content-type"), "")
    if content_type and not _TEXT.is_text_type(content_type):
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _single(
    pairs: Iterable[tuple[str, str]], *, lower: bool = False, join: str | None = None
) -> dict[str, str]:
    """One value per name: the last one, or all joined with ``join``."""
    result: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower() if lower else name
        if join is not None and key in result:
            result[key] = result[key] + join + value
        else:
            result[key] = value
    return result


def _multi(pairs: Iterable[tuple[str, str]], *, lower: bool = False) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for name, value in pairs:
        result.setdefault(name.lower() if lower else name, []).append(value)
    return result


def _request_id() -> str:
    return str(uuid.uuid4())


def _rest(r: _Request, *, version: str | None = None) -> dict[str, Any]:
    stage = r.stage or "prod"
    query = r.decoded_query()
    event: dict[str, Any] = {}
    if version is not None:
        event["version"] = version
    if version is None:
        path = r.path  # REST: as sent, still encoded, without the stage
        context_path = f"/{r.stage}{r.path}" if r.stage else r.path
    else:
        path = unquote(r.path)  # HTTP API: decoded, with a named stage in front
        if r.stage:
            path = f"/{r.stage}{path}"
        context_path = path
    event.update(
        {
            "resource": "/{proxy+}",
            "path": path,
            "httpMethod": r.method,
            "headers": _single(r.headers) or None,
            "multiValueHeaders": _multi(r.headers) or None,
            "queryStringParameters": _single(query) or None,
            "multiValueQueryStringParameters": _multi(query) or None,
            "pathParameters": {"proxy": path.lstrip("/")},
            "stageVariables": None,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abcdef1234",
                "domainName": r.host,
                "domainPrefix": r.host.split(".")[0],
                "extendedRequestId": "extended-request-id",
                "httpMethod": r.method,
                "identity": {"sourceIp": r.source_ip, "userAgent": r.user_agent()},
                "path": context_path,
                "protocol": "HTTP/1.1",
                "requestId": _request_id(),
                "requestTime": "21/Nov/2026:12:00:00 +0000",
                "requestTimeEpoch": _EPOCH_MS,
                "resourceId": "abc123",
                "resourcePath": "/{proxy+}",
                "stage": stage if version is None or r.stage else "$default",
            },
            "body": r.body_text(),
            "isBase64Encoded": r.base64_body,
        }
    )
    return event


def _http_v2(r: _Request, *, function_url: bool = False) -> dict[str, Any]:
    cookies = [
        part.strip()
        for name, value in r.headers
        if name.lower() == "cookie"
        for part in value.split(";")
        if part.strip()
    ]
    headers = [(n, v) for n, v in r.headers if n.lower() != "cookie"]
    if function_url:
        raw_path = r.path  # function URLs keep the path encoded
        domain = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"
        stage = "$default"
    else:
        raw_path = unquote(r.path)  # HTTP APIs decode it
        if r.stage:
            raw_path = f"/{r.stage}{raw_path}"
        domain = r.host
        stage = r.stage or "$default"
    query = r.decoded_query()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": r.query,
    }
    if cookies:
        event["cookies"] = cookies
    event.update(
        {
            "headers": _single(headers, lower=True, join=","),
            "queryStringParameters": _single(query, join=",") or None,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": domain.split(".")[0],
                "domainName": domain,
                "domainPrefix": domain.split(".")[0],
                "http": {
                    "method": r.method,
                    "path": unquote(raw_path),
                    "protocol": "HTTP/1.1",
                    "sourceIp": r.source_ip,
                    "userAgent": r.user_agent(),
                },
                "requestId": _request_id(),
                "routeKey": "$default",
                "stage": stage,
                "time": "21/Nov/2026:12:00:00 +0000",
                "timeEpoch": _EPOCH_MS,
            },
            "body": r.body_text(),
            "isBase64Encoded": r.base64_body,
        }
    )
    return event


def _alb(r: _Request, *, multi: bool) -> dict[str, Any]:
    query = r.raw_query()  # the load balancer passes the query as sent
    event: dict[str, Any] = {
        "requestContext": {
            "elb": {
                "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                "targetgroup/bridge/0123456789abcdef"
            }
        },
        "httpMethod": r.method,
        "path": r.path,
    }
    if multi:
        event["multiValueQueryStringParameters"] = _multi(query)
        event["multiValueHeaders"] = _multi(r.headers, lower=True)
    else:
        event["queryStringParameters"] = _single(query)
        event["headers"] = _single(r.headers, lower=True)
    event["body"] = r.body_text() or ""
    event["isBase64Encoded"] = r.base64_body
    return event


def _edge(r: _Request) -> dict[str, Any]:
    headers: dict[str, list[dict[str, str]]] = {}
    for name, value in r.headers:
        if name.lower().startswith("x-forwarded-"):
            continue  # CloudFront passes the viewer's own address as clientIp
        headers.setdefault(name.lower(), []).append({"key": name, "value": value})
    request: dict[str, Any] = {
        "clientIp": r.source_ip,
        "headers": headers,
        "method": r.method,
        "querystring": r.query,
        "uri": r.path,
    }
    if r.body:
        request["body"] = {
            "inputTruncated": False,
            "action": "read-only",
            "encoding": "base64",
            "data": base64.b64encode(r.body).decode("ascii"),
        }
    return {
        "Records": [
            {
                "cf": {
                    "config": {
                        "distributionDomainName": "d111111abcdef8.cloudfront.net",
                        "distributionId": "EDFDVBD6EXAMPLE",
                        "eventType": "origin-request",
                        "requestId": _request_id(),
                    },
                    "request": request,
                }
            }
        ]
    }


def _lattice(r: _Request) -> dict[str, Any]:
    return {
        "raw_path": r.path + (f"?{r.query}" if r.query else ""),
        "method": r.method,
        "headers": _single(r.headers, lower=True, join=","),
        "query_string_parameters": _single(r.decoded_query()),
        "body": r.body_text() or "",
        "is_base64_encoded": r.base64_body,
    }


def _lattice_v2(r: _Request) -> dict[str, Any]:
    return {
        "version": "2.0",
        "path": r.path + (f"?{r.query}" if r.query else ""),
        "method": r.method,
        "headers": _multi(r.headers, lower=True),
        "queryStringParameters": _multi(r.decoded_query()),
        "body": r.body_text() or "",
        "isBase64Encoded": r.base64_body,
        "requestContext": {
            "serviceNetworkArn": "arn:aws:vpc-lattice:us-east-1:123456789012:servicenetwork/sn-0",
            "serviceArn": "arn:aws:vpc-lattice:us-east-1:123456789012:service/svc-0",
            "targetGroupArn": "arn:aws:vpc-lattice:us-east-1:123456789012:targetgroup/tg-0",
            "identity": {"sourceVpcArn": "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0"},
            "region": "us-east-1",
            "timeEpoch": str(_EPOCH_MS * 1000),
        },
    }


_BUILDERS = {
    "rest": _rest,
    "http-v1": lambda r: _rest(r, version="1.0"),
    "http": _http_v2,
    "url": lambda r: _http_v2(r, function_url=True),
    "alb": lambda r: _alb(r, multi=False),
    "alb-multi": lambda r: _alb(r, multi=True),
    "edge": _edge,
    "lattice": _lattice,
    "lattice-v2": _lattice_v2,
}


class FakeContext:
    """A Lambda context object for local runs, with a real deadline."""

    def __init__(
        self,
        *,
        function_name: str = "bridge-local",
        timeout_ms: int = 30_000,
        memory_limit_in_mb: int = 512,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = _request_id()
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
