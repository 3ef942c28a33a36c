"""The one body serializer: request bodies in, response bodies out, for every
event source and both application interfaces.

A response body goes back to AWS as text only when it is safe to: no
``Content-Encoding``, a textual content type, and valid UTF-8.  Everything
else is base64.
"""

from __future__ import annotations

import binascii
import sys

from bridge._cache import remember
from bridge.errors import ConfigurationError, MalformedEventError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from bridge.types import TextHeaders


def _load_codec() -> None:
    """Bind ``_b64encode`` and ``_b64decode`` to pybase64 when it is
    installed, else to the standard library: at the first body that needs
    base64, since importing pybase64 costs a millisecond that a cold start
    answered with text never needs."""
    global _b64encode, _b64decode
    try:
        import pybase64
    except ImportError:
        _b64encode = _stdlib_b64encode
        _b64decode = _stdlib_b64decode
    else:

        def decode(data: str) -> bytes:
            return pybase64.b64decode(data, validate=True)

        _b64encode, _b64decode = pybase64.b64encode_as_string, decode


def _stdlib_b64encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def _stdlib_b64decode(data: str) -> bytes:
    if sys.version_info >= (3, 11):
        return binascii.a2b_base64(data, strict_mode=True)
    import base64

    return base64.b64decode(data, validate=True)


def _first_b64encode(data: bytes) -> str:
    _load_codec()
    return _b64encode(data)


def _first_b64decode(data: str) -> bytes:
    _load_codec()
    return _b64decode(data)


_b64encode: Callable[[bytes], str] = _first_b64encode
_b64decode: Callable[[str], bytes] = _first_b64decode


#: Content types sent as text besides ``text/*``, ``*+json`` and ``*+xml``.
DEFAULT_TEXT_MIME_TYPES: frozenset[str] = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/ecmascript",
        "application/xml",
        "application/x-www-form-urlencoded",
        "application/graphql",
        "application/x-ndjson",
        "application/yaml",
    }
)


class BodySerializer:
    """Decides text or base64 for a response body, and decodes request bodies.

    ``text_mime_types`` adds to :data:`DEFAULT_TEXT_MIME_TYPES`; an entry that
    ends with ``/`` (``"font/"``) matches every subtype.
    """

    __slots__ = ("_exact", "_prefixes", "_seen")

    def __init__(self, text_mime_types: Iterable[str] | None = None) -> None:
        if isinstance(text_mime_types, (str, bytes)):
            raise ConfigurationError(
                "text_mime_types must be a list of content types such as ['application/vnd.x'], "
                f"got the single string {text_mime_types!r}; wrap it in a list."
            )
        extra = []
        for item in text_mime_types or ():
            if not isinstance(item, str) or not item:
                raise ConfigurationError(
                    f"text_mime_types entries must be non-empty strings, got {item!r}."
                )
            extra.append(item.strip().lower())
        self._exact = DEFAULT_TEXT_MIME_TYPES | {t for t in extra if not t.endswith("/")}
        self._prefixes = ("text/", *sorted(t for t in extra if t.endswith("/")))
        #: Content-Type values already decided (an app sends few distinct ones).
        self._seen: dict[str, bool] = {}

    def is_text_type(self, content_type: str) -> bool:
        mime = content_type.partition(";")[0].strip().lower()
        return (
            mime.startswith(self._prefixes)
            or mime.endswith(("+json", "+xml"))
            or mime in self._exact
        )

    def encode(self, body: bytes, headers: TextHeaders) -> tuple[str, bool]:
        """``(body, is_base64)`` for a response with these text headers: text
        when no Content-Encoding is set, the (last) Content-Type is textual and
        the body is UTF-8; base64 otherwise."""
        if not body:
            return "", False
        content_type = ""
        for name, value in headers:
            if name == "content-encoding" and is_compressed(value):
                return _b64encode(body), True
            if name == "content-type":
                content_type = value
        text = self._seen.get(content_type)
        if text is None:
            text = remember(self._seen, content_type, self.is_text_type(content_type), 256)
        if text:
            try:
                return body.decode("utf-8"), False
            except UnicodeDecodeError:
                pass
        return _b64encode(body), True


def is_compressed(content_encoding: str) -> bool:
    """Whether a Content-Encoding value says the body is encoded (so not text)."""
    return content_encoding.strip().lower() not in ("", "identity")


def decode_request_body(body: object, is_base64: object, *, source: str) -> bytes:
    """The exact request body bytes from an event's body fields."""
    if body is None or body == "":
        return b""
    if not isinstance(body, str):
        raise MalformedEventError(
            f"{source} event: expected 'body' to be a string or null, got {type(body).__name__}."
        )
    if is_base64:
        try:
            return _b64decode(body)
        except (binascii.Error, ValueError) as exc:
            raise MalformedEventError(
                f"{source} event: the body is flagged as base64 but is not valid base64 ({exc})."
            ) from None
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedEventError(
            f"{source} event: the text body cannot be encoded as UTF-8 ({exc.reason} at "
            f"position {exc.start})."
        ) from None
