"""The last checks on an application's response before it leaves bridge.

* The one rule for response headers, applied where the app's answer enters
  bridge (``bridge.asgi.http``, ``bridge.wsgi.response``): a name is an HTTP
  token (RFC 9110, 5.1: letters, digits and ``!#$%&'*+-.^_`|~``) and a value
  holds no CR, LF or NUL (5.5: such values are invalid and can split a
  response).  :func:`is_token` and :func:`is_field_value` decide; a header
  that breaks the rule is never passed on.
* Lambda refuses a response whose JSON is over 6,291,556 bytes, and the
  caller then sees an opaque error.  bridge measures the response first and
  answers with its own error instead.  The measurement is exact but is only
  made when a cheap bound (six JSON bytes per body and header byte, the
  worst an escape can cost) says the response might be too large: bodies
  under about 1 MB cost nothing.
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

#: Bytes of JSON per header besides its name and value: quotes, separators,
#: CloudFront's ``{"key": ..., "value": ...}``.
PER_HEADER = 64
FIXED = 1024

#: The bytes no header may hold, as ints (``13 in data`` is a plain byte
#: search; see benchmarks/README.md).
CR, LF, NUL = 13, 10, 0

#: The characters of an HTTP token (RFC 9110, 5.6.2).
TOKEN_CHARS = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def is_token(name: bytes) -> bool:
    """Whether ``name`` is a valid header name: one or more token characters
    (deleting them all leaves nothing)."""
    return bool(name) and not name.translate(None, TOKEN_CHARS)


def is_field_value(value: bytes) -> bool:
    """Whether ``value`` is a header value bridge passes on: no CR, LF or NUL."""
    return not (CR in value or LF in value or NUL in value)


def small_response(limit: int = LAMBDA_RESPONSE_LIMIT) -> int:
    """The most body and header bytes a response can have and be certain to
    stay under ``limit``, however they encode: every header has a name of a
    byte or more, so ``n`` such bytes are at most ``6n + 12n + PER_HEADER * n
    + FIXED`` bytes once encoded (see :func:`might_be_too_large`)."""
    return (limit - FIXED) // (18 + PER_HEADER)  # negative below FIXED: none is


def might_be_too_large(
    body_size: int, header_size: int, header_count: int, limit: int = LAMBDA_RESPONSE_LIMIT
) -> bool:
    """Whether a response with this many body and header bytes could be over
    ``limit`` once encoded (a bound: six JSON bytes per byte)."""
    return 6 * (body_size + 2 * header_size) + PER_HEADER * header_count + FIXED > limit


def name_for_log(name: str) -> str:
    """A header name (a token) as log lines show it: quoted, at most 60 characters."""
    return repr(name if len(name) <= 60 else name[:60] + "...")


def encoded_size(response: Any) -> int | None:
    """The response's size as the runtime will send it, or None when it is
    not JSON (a custom source's business).

    A base64 body (flagged as AWS flags it) or one of plain printable ASCII
    without quotes or backslashes is counted, not encoded: its JSON is itself
    in quotes.  Encoding a multi-megabyte body just to measure it would cost
    another copy of it and a few milliseconds.

    ``json`` is imported here, not at the top: this only runs for a response
    that might be over the limit, and most cold starts have none.
    """
    import json

    body = response.get("body") if type(response) is dict else None
    if type(body) is str and body and (_is_base64(response) or _needs_no_escapes(body)):
        rest = dict(response)
        rest["body"] = ""
        rest_size = encoded_size(rest)
        return None if rest_size is None else rest_size + len(body)
    try:
        text = json.dumps(response, ensure_ascii=_ENSURE_ASCII)
    except (TypeError, ValueError):
        return None
    return len(text) if _ENSURE_ASCII else len(text.encode("utf-8", "surrogatepass"))


def _is_base64(response: dict[str, Any]) -> bool:
    """Whether the response says its body is base64 (whose alphabet JSON
    never escapes), in either of the shapes AWS uses."""
    return response.get("isBase64Encoded") is True or response.get("bodyEncoding") == "base64"


def _needs_no_escapes(text: str) -> bool:
    """Whether JSON writes ``text`` as it is (between its quotes): printable
    ASCII (no control characters) with no ``"`` or ``\\``."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text
