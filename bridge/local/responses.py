"""Lambda response dicts turned back into HTTP, the way each AWS service does.

The inverse of the event-source response builders: base64 undone,
``multiValueHeaders`` and ``cookies`` expanded, CloudFront's header lists
flattened.  Used by ``python -m bridge serve``/``invoke --http`` and the tests.
"""

from __future__ import annotations

import base64
from typing import Any

from bridge.errors import BridgeError


class InvalidResponseError(BridgeError):
    """A Lambda response dict that the AWS service would reject."""


def decode_response(source: str, response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """``(status, [(name, value), ...], body)`` from a handler's response for ``source``."""
    if not isinstance(response, dict):
        raise InvalidResponseError(
            f"Expected the handler to return a dict, got {type(response).__name__}."
        )
    if source == "edge":
        return _edge(response)
    status = response.get("statusCode")
    if not isinstance(status, int):
        raise InvalidResponseError(f"Expected an integer 'statusCode', got {status!r}.")
    headers: list[tuple[str, str]] = []
    multi = response.get("multiValueHeaders") or {}
    single = response.get("headers") or {}
    for name, value in single.items():
        if name.lower() not in {k.lower() for k in multi}:
            headers.append((name, str(value)))
    for name, values in multi.items():
        headers.extend((name, str(v)) for v in values)
    headers.extend(("set-cookie", cookie) for cookie in response.get("cookies") or ())
    return status, headers, _body(response.get("body"), bool(response.get("isBase64Encoded")))


def _edge(response: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    try:
        status = int(response["status"])
    except (KeyError, TypeError, ValueError):
        raise InvalidResponseError(
            f"Expected 'status' as a numeric string, got {response.get('status')!r}."
        ) from None
    headers = [
        (entry.get("key", name), entry["value"])
        for name, entries in (response.get("headers") or {}).items()
        for entry in entries
    ]
    return status, headers, _body(response.get("body"), response.get("bodyEncoding") == "base64")


def _body(body: object, is_base64: bool) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, str):
        raise InvalidResponseError(f"Expected 'body' to be a string, got {type(body).__name__}.")
    return base64.b64decode(body) if is_base64 else body.encode("utf-8")
