"""The last checks on an application's response before it leaves bridge.

* Response headers, checked where the app's answer enters bridge: a name is
  an HTTP token (RFC 9110, 5.6.2) and a value holds no CR, LF or NUL (5.5:
  such values can split a response).
* Lambda refuses a response whose JSON is over 6,291,556 bytes, and the
  caller then sees an opaque error; bridge answers with its own instead.  The
  exact measurement is only made when a cheap bound (six JSON bytes per body
  and header byte, the worst an escape costs) says the response might be
  too large.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from typing import Any


#: Lambda's limit on a synchronous invocation's response, in bytes of JSON.
LAMBDA_RESPONSE_LIMIT = 6_291_556

#: Python 3.12 and later runtimes send non-ASCII characters as UTF-8;
#: earlier ones escape them (``\\u00e9``, six bytes).
_ENSURE_ASCII = sys.version_info < (3, 12)

#: Bytes of JSON per header besides its name and value (quotes, separators,
#: CloudFront's ``{"key": ..., "value": ...}``), and per response.
PER_HEADER = 64
FIXED = 1024

#: The bytes no header value may hold.
CR, LF, NUL = 13, 10, 0

TOKEN_CHARS = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def is_token(name: bytes) -> bool:
    """Whether ``name`` is one or more token characters."""
    return bool(name) and not name.translate(None, TOKEN_CHARS)


def is_field_value(value: bytes) -> bool:
    return not (CR in value or LF in value or NUL in value)


def small_response(limit: int) -> int:
    """The most body and header bytes a response can have and be certain to
    stay under ``limit`` (:func:`might_be_too_large` with a one-byte name per
    header); negative when none can."""
    return (limit - FIXED) // (18 + PER_HEADER)


def might_be_too_large(body_size: int, header_size: int, header_count: int, limit: int) -> bool:
    return 6 * (body_size + 2 * header_size) + PER_HEADER * header_count + FIXED > limit


def name_for_log(name: str) -> str:
    """A header name (a token) as log lines show it: quoted, at most 60 characters."""
    return repr(name if len(name) <= 60 else name[:60] + "...")


def kind_of(value: object) -> str:
    """What an application handed over, for a log line: its type, and its
    size when it has one, never its content (it may be a cookie or a body)."""
    if value is None:
        return "None"
    kind = type(value).__name__
    if isinstance(value, str):
        size = len(value), "character"
    elif isinstance(value, (bytes, bytearray, memoryview)):
        kind, size = f"{kind} object", (len(value), "byte")
    elif isinstance(value, (list, tuple, dict)):
        size = len(value), "item"
    else:
        return f"an {kind}" if kind[:1].lower() in "aeiou" else f"a {kind}"
    return f"a {kind} of {size[0]} {size[1]}{'' if size[0] == 1 else 's'}"


def encoded_size(response: Any) -> int | None:
    """The response's size as the runtime will send it, or None when it is
    not JSON (a custom source's business).  A base64 body, or one that JSON
    needs no escape for, is counted rather than encoded: no copy of a
    multi-megabyte body just to measure it."""
    import json

    body = response.get("body") if type(response) is dict else None
    if (
        type(body) is str
        and body
        and (
            response.get("isBase64Encoded") is True
            or response.get("bodyEncoding") == "base64"
            or (body.isascii() and body.isprintable() and '"' not in body and "\\" not in body)
        )
    ):
        rest_size = encoded_size({**response, "body": ""})
        return None if rest_size is None else rest_size + len(body)
    try:
        text = json.dumps(response, ensure_ascii=_ENSURE_ASCII)
    except (TypeError, ValueError):
        return None
    return len(text) if _ENSURE_ASCII else len(text.encode("utf-8", "surrogatepass"))
