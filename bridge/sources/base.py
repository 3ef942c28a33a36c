"""The event-source protocol (README.rst, ``custom_handlers``): :class:`EventSource`
and :class:`SourceConfig`.  ``to_response`` gets the event again, as some
sources answer in the request's shape.  The built-in sources also have
``read`` (see ``bridge.sources.request``), and their writers (marked by
:func:`bridge.response.takes_text`) take the headers as text.

Both classes are :func:`record` classes with the manners of a frozen
dataclass, each field listed once.  They are not dataclasses: importing
``dataclasses`` (with ``typing`` and ``collections``) costs every cold start
milliseconds.
"""

from __future__ import annotations

from bridge.body import BodySerializer
from bridge.checks import LAMBDA_RESPONSE_LIMIT, small_response
from bridge.sources.scope import to_scope

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar

    from typing_extensions import dataclass_transform

    from bridge.sources.request import Builder, T
    from bridge.types import Headers, HTTPScope, LambdaContext, LambdaEvent, LambdaResponse

    Context = LambdaContext | None
    ToRequest = Callable[[LambdaEvent, Context, "SourceConfig"], tuple[HTTPScope, bytes]]
    ToResponse = Callable[[LambdaEvent, int, Headers, bytes, "SourceConfig"], LambdaResponse]
    ReadRequest = Callable[[LambdaEvent, Context, "SourceConfig", Builder[Any]], Any]
else:

    def dataclass_transform(**options):  # what type checkers read, nothing at run time
        return lambda function: function


class _Record:
    """What every :func:`record` class does, from its ``_fields`` and ``_defaults``."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self).__name__
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(f"{cls}() takes {len(fields)} arguments but {len(args)} were given")
        values = dict(zip(fields, args, strict=False))
        for name, value in kwargs.items():
            if name not in fields:
                raise TypeError(f"{cls}() got an unexpected keyword argument {name!r}")
            if name in values:
                raise TypeError(f"{cls}() got multiple values for argument {name!r}")
            values[name] = value
        for name in fields:
            if name not in values and name not in self._defaults:
                raise TypeError(f"{cls}() missing required argument: {name!r}")
            object.__setattr__(self, name, values.get(name, self._defaults.get(name)))
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        values: tuple[Any, ...] = other._values()
        return self._values() == values

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
        """``copy.replace(record, name="x")`` (Python 3.13+), as for a dataclass."""
        unknown = set(changes).difference(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        return type(self)(**{**dict(zip(self._fields, self._values(), strict=True)), **changes})


@dataclass_transform(frozen_default=True)
def record(cls: type[T]) -> type[T]:
    """``cls`` as a frozen, slotted record of the fields it annotates, in
    order, with their defaults: keyword or positional construction, field
    equality, hash and repr, no assignment, pickling, ``copy.replace``.
    ``__post_init__`` sets the attributes ``cls._derived`` names (not fields)."""
    fields = tuple(cls.__annotations__)
    namespace = {k: v for k, v in vars(cls).items() if k not in ("__dict__", "__weakref__")}
    defaults = {name: namespace.pop(name) for name in fields if name in namespace}
    slots = fields + namespace.get("_derived", ())
    namespace.update(__slots__=slots, __match_args__=fields, _fields=fields, _defaults=defaults)
    made: type[T] = type(cls.__name__, (_Record,), namespace)
    return made


@record
class SourceConfig:
    """The options that shape requests and responses."""

    base_path: str
    serializer: BodySerializer

    def __init__(self, base_path: str = "", serializer: BodySerializer | None = None) -> None:
        _Record.__init__(self, base_path, BodySerializer() if serializer is None else serializer)  # type: ignore[arg-type]


@record
class EventSource:
    """One kind of Lambda event: how to detect it, read it and answer it."""

    name: str
    matches: Callable[[LambdaEvent], bool]
    to_request: ToRequest
    to_response: ToResponse
    #: What ``matches`` looks for, for the error raised when nothing matches.
    looks_for: str = ""
    #: The one reader of a built-in source (see ``bridge.sources.request``).
    read: ReadRequest | None = None
    #: The service's own limit on the response's JSON, in bytes, when it is
    #: below Lambda's (an Application Load Balancer takes 1 MB).
    response_limit: int | None = None

    #: Not a field: body and header bytes that are certainly under
    #: ``response_limit``, however they encode.
    _derived = ("small_response",)
    if TYPE_CHECKING:

        @property
        def small_response(self) -> int: ...

    def __post_init__(self) -> None:
        limit = self.response_limit or LAMBDA_RESPONSE_LIMIT
        object.__setattr__(self, "small_response", small_response(limit))


def scope_reader(read: ReadRequest) -> ToRequest:
    """``to_request`` for a source that has ``read``: the scope of what it reads."""
    return lambda event, context, config: read(event, context, config, to_scope)
