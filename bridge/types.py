"""Types shared across bridge: Lambda objects, response headers, ASGI scopes
and messages, and WSGI callables."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, Literal, Protocol, TypedDict

LambdaEvent = dict[str, Any]
LambdaResponse = dict[str, Any]

#: Raw header list as ASGI carries it: order and duplicates kept.
Headers = list[tuple[bytes, bytes]]
#: Response headers as text, as every response sink takes them once checked:
#: lower-case names, values latin-1 str; order and duplicates kept.
TextHeaders = list[tuple[str, str]]

InterfaceMode = Literal["auto", "asgi", "wsgi"]
LifespanMode = Literal["auto", "on", "off"]
InvokeMode = Literal["BUFFERED", "RESPONSE_STREAM"]


class LambdaContext(Protocol):
    """The part of the Lambda context object bridge reads."""

    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int: ...


class ResponseStream(Protocol):
    """Where a streamed answer goes (``bridge.response.StreamSink`` writes
    to it): ``bridge.runtime``'s streamed ``/response``, or the local server's."""

    async def start(self, status: int, headers: TextHeaders) -> None:
        """Send the status and headers (text, lower-case names): the first bytes."""

    async def write(self, data: bytes) -> None:
        """Send body bytes (never empty)."""

    async def end(self, error: BaseException | None) -> None:
        """End the stream; ``error``: it failed after its first byte."""


class ASGIVersions(TypedDict):
    spec_version: str
    version: Literal["2.0", "3.0"]


class _HTTPScopeRequired(TypedDict):
    type: Literal["http"]
    asgi: ASGIVersions
    http_version: str
    method: str
    scheme: str
    path: str
    raw_path: bytes
    query_string: bytes
    root_path: str
    headers: Headers
    client: tuple[str, int] | None
    server: tuple[str, int | None] | None


_HTTPScopeOptional = TypedDict(
    "_HTTPScopeOptional",
    {
        "state": dict[str, Any],
        "extensions": dict[str, dict[object, object]],
        "aws.event": dict[str, Any],
        "aws.context": Any,
        "aws.authorizer": dict[str, Any] | None,
    },
    total=False,
)


class HTTPScope(_HTTPScopeRequired, _HTTPScopeOptional):
    """An ASGI HTTP connection scope, plus ``aws.event``, ``aws.context`` and
    ``aws.authorizer``."""


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[object]]

StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
