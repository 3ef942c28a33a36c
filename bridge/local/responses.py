"""Turn a Lambda response back into HTTP, the way the AWS service in front of the function does.

One reader per response format, chosen by event source:

========================  ==================================================================
source                    what the service reads
========================  ==================================================================
``rest``, ``http-v1``     ``statusCode``, ``headers`` merged with ``multiValueHeaders``
                          (a pair present in both is sent once), ``body``, ``isBase64Encoded``
``http``, ``url``         ``statusCode``, ``headers`` (one line each, commas kept), ``cookies``
                          (one ``Set-Cookie`` each), ``body``, ``isBase64Encoded``; a result
                          without ``statusCode`` is sent as a 200 JSON body
``alb``                   ``statusCode``, ``statusDescription``, ``headers``, ``body``,
                          ``isBase64Encoded``
``alb-multi``             the same with ``multiValueHeaders`` instead of ``headers``
``edge``                  ``status``, ``statusDescription``, ``headers`` as
                          ``{name: [{"key": ..., "value": ...}]}``, ``body``, ``bodyEncoding``
``lattice``,              ``statusCode``, ``statusDescription``, ``headers`` (a value may be a
``lattice-v2``            list), ``body``, ``isBase64Encoded``
========================  ==================================================================

A response the service would reject raises :class:`InvalidResponseError`; AWS then answers 502.
Used by ``python -m bridge serve``, ``invoke --http`` and the tests.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

from bridge.errors import BridgeError

__all__ = [
    "READERS",
    "HTTPResponse",
    "InvalidResponseError",
    "decode_response",
    "read_response",
    "relayed_headers",
]

# The server sets these from the body it sends; the function's values are not passed on.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


@dataclass(frozen=True)
class HTTPResponse:
    """An HTTP response as the client receives it."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    reason: str = ""

    @property
    def phrase(self) -> str:
        """The reason phrase: the one the function gave, else the standard one."""
        if self.reason:
            return self.reason
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    def status_line(self) -> str:
        return f"HTTP/1.1 {self.status} {self.phrase}".rstrip()


class InvalidResponseError(BridgeError, ValueError):
    """The function's result is not a response the AWS service can turn into HTTP."""


def read_response(source: str, result: Any) -> HTTPResponse:
    """Turn the function's ``result`` into HTTP as ``source``'s service would."""
    try:
        reader = READERS[source]
    except KeyError:
        raise ValueError(f"unknown event source {source!r}; one of {', '.join(READERS)}") from None
    return reader(result)


def decode_response(source: str, result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """``(status, [(name, value), ...], body)``: :func:`read_response` as a tuple."""
    response = read_response(source, result)
    return response.status, response.headers, response.body


def relayed_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The function's ``headers`` as the service sends them on: less hop-by-hop ones, and
    with a Date unless the function sent one (Werkzeug's ``send_file`` does)."""
    kept = [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP]
    if not any(k.lower() == "date" for k, _ in kept):
        kept.insert(0, ("date", formatdate(usegmt=True)))
    return kept


def _payload_v1(result: Any) -> HTTPResponse:
    response = _mapping(result)
    pairs = _multi_value_headers(response, "multiValueHeaders")
    seen = {(name.lower(), value) for name, value in pairs}
    for name, value in _single_value_headers(response, "headers"):
        if (name.lower(), value) not in seen:
            pairs.append((name, value))
    return HTTPResponse(_status(response, "statusCode"), pairs, _body(response))


def _payload_v2(result: Any) -> HTTPResponse:
    if not isinstance(result, Mapping) or "statusCode" not in result:
        # Payload format 2.0 infers a response from any JSON value without a statusCode.
        text = json.dumps(result)
        return HTTPResponse(200, [("content-type", "application/json")], text.encode())
    pairs = _single_value_headers(result, "headers")
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise InvalidResponseError(f"'cookies' must be a list of strings, got {cookies!r}")
    pairs.extend(("set-cookie", cookie) for cookie in cookies)
    return HTTPResponse(_status(result, "statusCode"), pairs, _body(result))


def _alb(multi_value: bool) -> Callable[[Any], HTTPResponse]:
    def read(result: Any) -> HTTPResponse:
        response = _mapping(result)
        if multi_value:
            pairs = _multi_value_headers(response, "multiValueHeaders")
        else:
            pairs = _single_value_headers(response, "headers")
        return HTTPResponse(
            _status(response, "statusCode"), pairs, _body(response), _description(response)
        )

    return read


def _edge(result: Any) -> HTTPResponse:
    response = _mapping(result)
    headers = response.get("headers") or {}
    if not isinstance(headers, Mapping):
        raise InvalidResponseError(f"'headers' must be an object, got {headers!r}")
    pairs: list[tuple[str, str]] = []
    for name, entries in headers.items():
        if not isinstance(entries, list):
            raise InvalidResponseError(f"header {name!r} must be a list of {{key, value}} objects")
        for entry in entries:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("value"), str):
                raise InvalidResponseError(f"header {name!r} has an entry without a string value")
            pairs.append((str(entry.get("key") or name), entry["value"]))
    encoding = response.get("bodyEncoding", "text")
    if encoding not in ("text", "base64"):
        raise InvalidResponseError(f"'bodyEncoding' must be 'text' or 'base64', got {encoding!r}")
    body = _decode_body(response.get("body"), encoding == "base64")
    return HTTPResponse(_status(response, "status"), pairs, body, _description(response))


def _lattice(result: Any) -> HTTPResponse:
    response = _mapping(result)
    headers = response.get("headers") or {}
    if not isinstance(headers, Mapping):
        raise InvalidResponseError(f"'headers' must be an object, got {headers!r}")
    pairs: list[tuple[str, str]] = []
    for name, value in headers.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            raise InvalidResponseError(f"header {name!r} must be a string or a list of strings")
        pairs.extend((str(name), v) for v in values)
    return HTTPResponse(
        _status(response, "statusCode"), pairs, _body(response), _description(response)
    )


READERS: dict[str, Callable[[Any], HTTPResponse]] = {
    "rest": _payload_v1,
    "http-v1": _payload_v1,
    "http": _payload_v2,
    "url": _payload_v2,
    "alb": _alb(multi_value=False),
    "alb-multi": _alb(multi_value=True),
    "edge": _edge,
    "lattice": _lattice,
    "lattice-v2": _lattice,
}


def _mapping(result: Any) -> Mapping[str, Any]:
    if not isinstance(result, Mapping):
        raise InvalidResponseError(f"the result must be a JSON object, got {type(result).__name__}")
    return result


def _status(response: Mapping[str, Any], key: str) -> int:
    if key not in response:
        raise InvalidResponseError(f"the result has no {key!r}")
    raw = response[key]
    try:
        status = int(raw)
    except (TypeError, ValueError):
        raise InvalidResponseError(f"{key!r} must be a number, got {raw!r}") from None
    if isinstance(raw, bool) or not 100 <= status <= 599:
        raise InvalidResponseError(f"{key!r} must be an HTTP status code, got {raw!r}")
    return status


def _description(response: Mapping[str, Any]) -> str:
    # "200 OK" -> "OK": the service keeps the function's reason phrase.
    description = response.get("statusDescription")
    if not isinstance(description, str):
        return ""
    code, _, phrase = description.partition(" ")
    return phrase if code.isdigit() else description


def _single_value_headers(response: Mapping[str, Any], key: str) -> list[tuple[str, str]]:
    headers = response.get(key) or {}
    if not isinstance(headers, Mapping):
        raise InvalidResponseError(f"{key!r} must be an object, got {headers!r}")
    pairs: list[tuple[str, str]] = []
    for name, value in headers.items():
        if isinstance(value, (list, dict)) or value is None:
            raise InvalidResponseError(f"{key!r}: header {name!r} must be a string, got {value!r}")
        pairs.append((str(name), _text(value)))
    return pairs


def _multi_value_headers(response: Mapping[str, Any], key: str) -> list[tuple[str, str]]:
    headers = response.get(key) or {}
    if not isinstance(headers, Mapping):
        raise InvalidResponseError(f"{key!r} must be an object, got {headers!r}")
    pairs: list[tuple[str, str]] = []
    for name, values in headers.items():
        if not isinstance(values, list):
            raise InvalidResponseError(f"{key!r}: header {name!r} must be a list, got {values!r}")
        pairs.extend((str(name), _text(value)) for value in values)
    return pairs


def _text(value: Any) -> str:
    # The services accept numbers and booleans as header values and send their JSON text.
    return value if isinstance(value, str) else json.dumps(value)


def _body(response: Mapping[str, Any]) -> bytes:
    return _decode_body(response.get("body"), response.get("isBase64Encoded") is True)


def _decode_body(body: Any, is_base64: bool) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, str):
        raise InvalidResponseError(f"'body' must be a string, got {type(body).__name__}")
    if not is_base64:
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise InvalidResponseError(f"'body' is marked base64 but is not: {exc}") from None
