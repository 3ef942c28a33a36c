"""Reading Lambda responses back, a Lambda context, and the WSGI echo app."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from wsgiref.validate import validator

from bridge.types import LambdaResponse, StartResponse


@dataclass
class FakeContext:
    aws_request_id: str = "request-id-1"
    function_name: str = "test-function"
    remaining: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining


@dataclass
class Reply:
    """A Lambda response of any source, in one shape."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    binary: bool = False

    def header(self, name: str) -> str | None:
        values = [v for n, v in self.headers if n == name]
        return values[-1] if values else None

    def all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n == name]

    def json(self) -> Any:
        return json.loads(self.body)


def read_reply(response: LambdaResponse) -> Reply:
    """Undo a source's response shape: status, lower-case header pairs, body bytes."""
    if "bodyEncoding" in response:  # Lambda@Edge
        pairs = [
            (name, entry["value"])
            for name, entries in response["headers"].items()
            for entry in entries
        ]
        binary = response["bodyEncoding"] == "base64"
        status = int(response["status"])
    else:
        pairs = [(n.lower(), v) for n, v in response.get("headers", {}).items()]
        for name, values in response.get("multiValueHeaders", {}).items():
            pairs.extend((name.lower(), v) for v in values)
        pairs.extend(("set-cookie", c) for c in response.get("cookies", []))
        binary = response["isBase64Encoded"]
        status = response["statusCode"]
    text = response["body"]
    body = base64.b64decode(text) if binary else text.encode("utf-8")
    return Reply(status=status, headers=pairs, body=body, binary=binary)


def _echo(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    payload = {
        "method": environ["REQUEST_METHOD"],
        "script_name": environ["SCRIPT_NAME"],
        "path_info": environ["PATH_INFO"],
        "query_string": environ["QUERY_STRING"],
        "content_type": environ.get("CONTENT_TYPE"),
        "content_length": environ.get("CONTENT_LENGTH"),
        "body": base64.b64encode(body).decode("ascii"),
        "headers": {k: v for k, v in environ.items() if k.startswith("HTTP_")},
        "remote_addr": environ.get("REMOTE_ADDR"),
        "server_name": environ["SERVER_NAME"],
        "server_port": environ["SERVER_PORT"],
        "server_protocol": environ["SERVER_PROTOCOL"],
        "url_scheme": environ["wsgi.url_scheme"],
        "multithread": environ["wsgi.multithread"],
        "request_id": getattr(environ.get("aws.context"), "aws_request_id", None),
        "event_keys": sorted(environ["aws.event"]) if "aws.event" in environ else None,
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(payload, sort_keys=True).encode("utf-8")]


#: A WSGI app that answers with what it saw, checked by wsgiref's validator.
echo_app = validator(_echo)


def unwsgi(text: str) -> str:
    """A PEP 3333 "bytes-as-str" string read back as the UTF-8 it carries."""
    return text.encode("latin-1").decode("utf-8")
