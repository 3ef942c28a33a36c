"""The event-source protocol.

An event source is two pure functions and a predicate:

* ``matches(event)``: is this event mine?
* ``to_request(event, context, config)``: the ASGI scope and the whole body.
* ``read(event, context, config, build)`` (optional, the built-in sources
  have it): the request's fields, checked once and handed to ``build``, which
  makes the ASGI scope or the WSGI environ (:mod:`bridge.sources.request`).
* ``to_response(event, status, headers, body, config)``: the Lambda response
  dict for the application's answer.  ``event`` is passed again because some
  sources answer in the shape of the request (ALB multi-value mode).
* ``text_response(event, status, headers, body, config)`` (optional, most
  built-in sources have it): ``to_response`` for headers that are text
  already, lower-case names and latin-1 values, as a WSGI application's are.

Built-in sources and ``custom_handlers`` use the same protocol.

:class:`SourceConfig` and :class:`EventSource` behave like frozen, slotted
dataclasses (keyword or positional construction, field equality and hash,
a field-by-field repr, no assignment) but are written out by hand:
``dataclasses`` imports ``inspect``, ``copy`` and ``re``, several
milliseconds of every cold start for two small records.
"""

from __future__ import annotations

from bridge.body import BodySerializer
from bridge.checks import LAMBDA_RESPONSE_LIMIT, small_response
from bridge.sources.request import to_scope

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)


class _Record:
    """Value semantics for a slotted class whose fields, in constructor
    order, are ``_fields``."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")

    def __reduce__(self) -> tuple[Any, ...]:
        # copy and pickle rebuild through __init__, since __setattr__ refuses.
        return (type(self), self._values())

    def __replace__(self, **changes: Any) -> Any:
        """A copy with some fields changed: ``copy.replace(source, name="x")``
        on Python 3.13+, as for a dataclass (``dataclasses.replace`` itself
        needs a dataclass)."""
        unknown = set(changes).difference(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        values = {name: getattr(self, name) for name in self._fields}
        return type(self)(**{**values, **changes})


class SourceConfig(_Record):
    """The options that shape requests and responses."""

    __slots__ = ("base_path", "serializer")
    _fields = ("base_path", "serializer")
    __match_args__ = ("base_path", "serializer")

    base_path: str
    serializer: BodySerializer

    def __init__(self, base_path: str = "", serializer: BodySerializer | None = None) -> None:
        object.__setattr__(self, "base_path", base_path)
        object.__setattr__(
            self, "serializer", BodySerializer() if serializer is None else serializer
        )


if TYPE_CHECKING:  # annotations only: bridge.types costs milliseconds at import
    from collections.abc import Callable
    from typing import Any, ClassVar

    from bridge.sources.request import Builder
    from bridge.types import (
        Headers,
        HTTPScope,
        LambdaContext,
        LambdaEvent,
        LambdaResponse,
        TextHeaders,
    )

    ToRequest = Callable[[LambdaEvent, LambdaContext | None, SourceConfig], tuple[HTTPScope, bytes]]
    ToResponse = Callable[[LambdaEvent, int, Headers, bytes, SourceConfig], LambdaResponse]
    ToTextResponse = Callable[[LambdaEvent, int, TextHeaders, bytes, SourceConfig], LambdaResponse]
    ReadRequest = Callable[[LambdaEvent, LambdaContext | None, SourceConfig, Builder[Any]], Any]


class EventSource(_Record):
    """One kind of Lambda event: how to detect it, read it and answer it."""

    __slots__ = (
        "looks_for",
        "matches",
        "name",
        "read",
        "response_limit",
        "small_response",
        "text_response",
        "to_request",
        "to_response",
    )
    _fields = (
        "name",
        "matches",
        "to_request",
        "to_response",
        "looks_for",
        "read",
        "response_limit",
        "text_response",
    )
    __match_args__ = (
        "name",
        "matches",
        "to_request",
        "to_response",
        "looks_for",
        "read",
        "response_limit",
        "text_response",
    )

    name: str
    matches: Callable[[LambdaEvent], bool]
    to_request: ToRequest
    to_response: ToResponse
    #: What ``matches`` looks for, for the error raised when nothing matches.
    looks_for: str
    #: The request as text, for sources that can give it (the built-in ones).
    read: ReadRequest | None
    #: The service's own limit on the response's JSON, in bytes, when it is
    #: below Lambda's (an Application Load Balancer takes 1 MB).
    response_limit: int | None
    #: ``to_response`` for text headers, for sources that have it.
    text_response: ToTextResponse | None
    #: Body and header bytes that are certainly under ``response_limit``.
    small_response: int

    def __init__(  # noqa: PLR0917 - as positional as the dataclass it replaces
        self,
        name: str,
        matches: Callable[[LambdaEvent], bool],
        to_request: ToRequest,
        to_response: ToResponse,
        looks_for: str = "",
        read: ReadRequest | None = None,
        response_limit: int | None = None,
        text_response: ToTextResponse | None = None,
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "matches", matches)
        object.__setattr__(self, "to_request", to_request)
        object.__setattr__(self, "to_response", to_response)
        object.__setattr__(self, "looks_for", looks_for)
        object.__setattr__(self, "read", read)
        object.__setattr__(self, "response_limit", response_limit)
        object.__setattr__(self, "text_response", text_response)
        # Not a field: what response_limit implies.  A response with at most
        # this many body and header bytes is under the limit, however it encodes.
        object.__setattr__(
            self, "small_response", small_response(response_limit or LAMBDA_RESPONSE_LIMIT)
        )


def scope_reader(read: ReadRequest) -> ToRequest:
    """``to_request`` for a source that has ``read``: the scope of what it reads."""
    def to_request(
        event: LambdaEvent, context: LambdaContext | None, config: SourceConfig
    ) -> tuple[HTTPScope, bytes]:
        return read(event, context, config, to_scope)

    return to_request
