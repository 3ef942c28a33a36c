"""The WSGI echo app, and (from ``tests.conftest``) one request through a
handler with its response read back."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any
from wsgiref.validate import validator

from bridge.types import StartResponse
from tests.conftest import Reply, call

__all__ = ["Reply", "call", "echo_app", "unwsgi"]


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
