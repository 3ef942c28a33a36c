"""Hypothesis strategies for HTTP requests and responses that AWS can carry.

A :class:`Request` is what a client sends (method, percent-encoded path and
query, header lines, body bytes) plus how it reaches Lambda (base64 flag,
stage); ``event(source)`` turns it into the event that source delivers, run
through JSON as Lambda does.  A :class:`Response` is what an application
answers.  Both stay inside what the services accept: header names are
tokens, header values have no control characters, paths and queries are
valid UTF-8 once decoded.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from bridge.local.events import build_event

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

#: Request header names the event builders or the sources treat specially;
#: the properties about them are tested on their own.
RESERVED_REQUEST_HEADERS = frozenset(
    {
        "host",
        "cookie",
        "content-length",
        "x-forwarded-for",
        "x-forwarded-port",
        "x-forwarded-proto",
        "cloudfront-forwarded-proto",
    }
)

#: Characters a path segment or a query key/value may hold once decoded: the
#: ones that need escaping (``/ % + & = ? #`` and space) and some non-ASCII.
_TRICKY = " /%+&=?#;,:@!$'()*~\"<>[]{}|\\^`"
_UNICODE = "éüßλπЖ中文日本語🙂\uff41\u00a0\u2028"
_SEGMENT_ALPHABET = string.ascii_letters + string.digits + "-._" + _TRICKY + _UNICODE
#: Decoded pieces that look like escapes or separators: decoding twice, or
#: not at all, shows up as a difference.
_PIECES = ("%2F", "%25", "%20", "%41", "%", "+", " ", "/", "%C3%A9", "?", "#", "&", "=")


def decoded_text(max_pieces: int = 4, *, min_size: int = 0) -> st.SearchStrategy[str]:
    """Text for a path segment or a query key or value, once decoded."""
    piece = st.sampled_from(_PIECES) | st.text(_SEGMENT_ALPHABET, min_size=1, max_size=4)
    return st.lists(piece, min_size=min_size, max_size=max_pieces).map("".join)


@st.composite
def header_names(draw: st.DrawFn) -> str:
    """A header name (an HTTP token of letters, digits and inner dashes), any casing."""
    parts = draw(
        st.lists(
            st.text(string.ascii_letters + string.digits, min_size=1, max_size=8),
            min_size=1,
            max_size=3,
        )
    )
    name = "-".join(parts)
    if name.lower() in RESERVED_REQUEST_HEADERS:
        name = "X-" + name
    return name


#: Header value characters: visible ASCII, spaces, commas, quotes, Latin-1
#: and wider Unicode (which the services pass on as UTF-8).
_VALUE_ALPHABET = string.printable[:-5] + "éñ¿\u00ff" + "λ中🙂"


def header_values() -> st.SearchStrategy[str]:
    return st.text(_VALUE_ALPHABET, max_size=40).map(str.strip)


@st.composite
def header_lists(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Header lines, some names repeated (in other casings too)."""
    pool = draw(st.lists(header_names(), min_size=1, max_size=5, unique_by=str.lower))
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        name = draw(st.sampled_from(pool))
        if draw(st.booleans()):
            name = draw(st.sampled_from([name.lower(), name.upper(), name.title()]))
        lines.append((name, draw(header_values())))
    return lines


@st.composite
def paths(draw: st.DrawFn) -> tuple[str, str]:
    """``(encoded, decoded)``: a path as the client sends it and as the app must see it.

    The decoded path may hold a literal ``%`` (``%2541`` decodes to ``%41``),
    for every source: an HTTP API event carries the decoded path, and an app
    that decodes it again sees another path.
    """
    text = decoded_text(min_size=1)
    segments = draw(st.lists(text.filter(lambda s: s not in (".", "..")), max_size=4))
    trailing = bool(segments) and draw(st.booleans())
    encoded_segments = []
    for segment in segments:
        safe = draw(st.sampled_from(["", "!$&'()*+,;=:@~"]))
        encoded_segments.append(quote(segment, safe=safe))
    suffix = "/" if trailing else ""
    return (
        "/" + "/".join(encoded_segments) + suffix,
        "/" + "/".join(segments) + suffix,
    )


def _raw_unicode(text: str) -> str:
    """``text`` percent-encoded but for its non-ASCII characters, left as they
    are: a client that sends UTF-8 in the URL as it is (load balancers and
    CloudFront pass such a query on undecoded)."""
    return "".join(char if not char.isascii() else quote(char, safe="") for char in text)


@st.composite
def queries(draw: st.DrawFn) -> str:
    """A query string: repeated keys, blank values, bare keys, ``+`` and
    ``%20``, and values whose non-ASCII characters are sent unencoded."""
    text = decoded_text(3)
    keys = draw(st.lists(text, min_size=1, max_size=4))
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        key = quote(draw(st.sampled_from(keys)), safe="")
        value = draw(text)
        space = draw(st.sampled_from(["+", "%20"]))
        if draw(st.integers(0, 2)) == 0:
            encoded = _raw_unicode(value + draw(st.text(_UNICODE, min_size=1, max_size=2)))
        else:
            encoded = quote(value, safe="")
        encoded = encoded.replace("%20", space)
        form = draw(st.sampled_from(["pair", "pair", "blank", "bare"]))
        if form == "pair":
            parts.append(f"{key}={encoded}")
        elif form == "blank":
            parts.append(f"{key}=")
        elif key:
            parts.append(key)
    return "&".join(parts)


def large_bodies() -> st.SearchStrategy[bytes]:
    """One to three MiB of random bytes (generated from a seed: Hypothesis
    itself draws only a few KiB per example)."""
    return st.builds(
        lambda size, seed: random.Random(seed).randbytes(size),
        st.integers(1 << 20, 3 << 20),
        st.integers(0, 2**32 - 1),
    )


def bodies(*, large: bool = False) -> st.SearchStrategy[bytes]:
    """Body bytes: empty to a few hundred bytes of binary or UTF-8 text, or
    (``large``) a few MiB."""
    if large:
        return large_bodies()
    return st.binary(max_size=300) | st.text(max_size=200).map(str.encode)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    decoded_path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    base64_body: bool
    stage: str | None

    def __repr__(self) -> str:
        body = self.body if len(self.body) <= 64 else f"<{len(self.body)} bytes>"
        return (
            f"Request(method={self.method!r}, path={self.path!r}, query={self.query!r}, "
            f"headers={self.headers!r}, body={body!r}, base64_body={self.base64_body!r}, "
            f"stage={self.stage!r})"
        )

    def event(self, source: str) -> dict[str, Any]:
        """The event ``source`` delivers, through JSON as Lambda passes it."""
        event = build_event(
            source,
            method=self.method,
            path=self.path,
            query=self.query,
            headers=self.headers,
            body=self.body,
            base64_body=self.base64_body,
            stage=self.stage,
        )
        result: dict[str, Any] = json.loads(json.dumps(event))
        return result


@st.composite
def requests(draw: st.DrawFn, *, base_path: str = "", large: bool = False) -> Request:
    encoded, decoded = draw(paths())
    if base_path and draw(st.booleans()):
        encoded, decoded = base_path + encoded, base_path + decoded
    body = draw(bodies(large=large))
    base64_body = not _is_utf8(body) or draw(st.booleans())
    return Request(
        method=draw(st.sampled_from(METHODS)),
        path=encoded,
        decoded_path=decoded,
        query=draw(queries()),
        headers=draw(header_lists()),
        body=body,
        base64_body=base64_body,
        stage=draw(st.none() | st.sampled_from(["prod", "v1", "Stage_2", "dev-x"])),
    )


# ---------------------------------------------------------------- responses

#: Response header value bytes: visible ASCII, space and Latin-1, no controls.
_RESPONSE_VALUE_BYTES = bytes(range(0x20, 0x7F)) + bytes(range(0xA0, 0x100))

CONTENT_TYPES = (
    None,
    b"text/plain; charset=utf-8",
    b"text/html",
    b"application/json",
    b"application/vnd.api+json",
    b"image/png",
    b"application/octet-stream",
)


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def response_header_values() -> st.SearchStrategy[bytes]:
    return st.lists(st.sampled_from(_RESPONSE_VALUE_BYTES), max_size=40).map(bytes).map(bytes.strip)


@st.composite
def responses(draw: st.DrawFn, body: bytes | None = None) -> Response:
    """A response: any status, repeated headers and cookies, an encoding."""
    pool = draw(st.lists(header_names(), min_size=1, max_size=4, unique_by=str.lower))
    pool.append("Set-Cookie")
    headers: list[tuple[bytes, bytes]] = []
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    if content_type is not None:
        headers.append((b"Content-Type", content_type))
    if draw(st.integers(0, 7)) == 0:
        headers.append((b"Content-Encoding", draw(st.sampled_from([b"gzip", b"identity"]))))
    for _ in range(draw(st.integers(0, 8))):
        name = draw(st.sampled_from(pool))
        if draw(st.booleans()):
            name = name.lower()
        headers.append((name.encode("ascii"), draw(response_header_values())))
    if body is None:
        body = draw(st.binary(max_size=300) | st.text(max_size=100).map(str.encode))
    return Response(status=draw(st.integers(200, 599)), headers=headers, body=body)


# ---------------------------------------------------------------- request context

#: Values for a header naming the scheme (X-Forwarded-Proto,
#: CloudFront-Forwarded-Proto): the two valid ones in any case, lists of
#: them, and what hostile clients send.
SCHEME_VALUES = (
    "http",
    "https",
    "HTTP",
    "Https",
    " https ",
    "http, https",
    "https, http",
    "https,",
    "javascript://",
    "ftp",
    "ws",
    "",
    "HTTP\u0130",
    "http\u017f",
)


def scheme_values() -> st.SearchStrategy[str]:
    return st.sampled_from(SCHEME_VALUES) | header_values()


def _principal_text() -> st.SearchStrategy[str]:
    return st.text(string.ascii_letters + string.digits + ":/-_@.|" + "éλ中🙂", min_size=1)


@st.composite
def authorizers(draw: st.DrawFn) -> tuple[object, str | None]:
    """``(requestContext.authorizer, the principal an app must see)``: the
    shapes of REST, payload 1.0 and 2.0 authorizers (Lambda, Cognito/JWT,
    IAM), their empty variants, several at once, and values that are not
    objects.  The principal is the first of ``principalId``, the JWT ``sub``
    claim, ``iam.userArn`` and ``lambda.principalId`` that is a non-empty
    string."""
    principal = _principal_text()
    empty = st.sampled_from(["", None, 7, ["x"], {"k": "v"}, "\ud800"])
    candidates: list[tuple[str, Any]] = []
    authorizer: dict[str, Any] = {}
    if draw(st.booleans()):
        value = draw(principal | empty)
        authorizer["principalId"] = value
        candidates.append(("principalId", value))
    shape = draw(st.sampled_from(["claims", "jwt", "none"]))
    if shape != "none":
        value = draw(principal | empty)
        claims = {"sub": value, "aud": draw(principal)}
        if shape == "claims":
            authorizer["claims"] = claims
        else:
            authorizer["jwt"] = {"claims": claims, "scopes": ["s1"]}
        candidates.append(("sub", value))
    if draw(st.booleans()):
        value = draw(principal | empty)
        authorizer["iam"] = {"accessKey": "AKIA", "userArn": value, "userId": "AIDA"}
        candidates.append(("iam", value))
    if draw(st.booleans()):
        context: dict[str, Any] = {"tenantId": draw(principal)}
        if draw(st.booleans()):
            value = draw(principal | empty)
            context["principalId"] = value
            candidates.append(("lambda", value))
        authorizer["lambda"] = context
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([None, "x", [1], 5, {}])), None
    expected = next(
        (
            value
            for _, value in candidates
            if isinstance(value, str) and value and value != "\ud800"
        ),
        None,
    )
    return authorizer, expected
