"""``Bridge``'s options checked: one function per option, which refuses a bad
value with :class:`~bridge.errors.ConfigurationError` (its message says what
the option takes) or returns the value kept."""

from __future__ import annotations

from bridge.errors import ConfigurationError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import ParamSpec

    from bridge.types import InvokeMode, LifespanMode

    _P = ParamSpec("_P")


def mangum_aliases(init: Callable[_P, None]) -> Callable[_P, None]:
    """Map Mangum's old ``enable_lifespan`` to ``lifespan`` (with a DeprecationWarning),
    before defaults are applied, so that giving both can be refused."""

    def __init__(*args: _P.args, **kwargs: _P.kwargs) -> None:
        if "enable_lifespan" in kwargs:
            enable = kwargs.pop("enable_lifespan")
            if "lifespan" in kwargs:
                raise ConfigurationError(
                    f"Both lifespan={kwargs['lifespan']!r} and enable_lifespan={enable!r} were "
                    "given; drop enable_lifespan (Mangum's old name) and keep lifespan."
                )
            if not isinstance(enable, bool):
                raise ConfigurationError(
                    f"enable_lifespan must be True or False, got {enable!r}; better, use "
                    "lifespan='auto' or lifespan='off'."
                )
            mode = "auto" if enable else "off"
            import warnings

            warnings.warn(
                f"enable_lifespan={enable!r} is Mangum's old option; use lifespan={mode!r}.",
                DeprecationWarning,
                stacklevel=2,  # the line that calls Bridge(...)
            )
            kwargs["lifespan"] = mode
        init(*args, **kwargs)

    __init__.__doc__ = init.__doc__
    __init__.__qualname__ = init.__qualname__
    __init__.__wrapped__ = init  # type: ignore[attr-defined]
    return __init__


#: What bridge offers for options of Mangum's past releases that it does not take.
MANGUM_OPTIONS = {
    "log_level": "bridge logs to logging.getLogger('bridge'): set that logger's level instead",
    "debug": "bridge always logs the traceback of a failing app and answers 500",
    "spec_version": "ASGI 2 and 3 apps are detected; interface='asgi' or 'wsgi' forces a kind",
    "dsn": "use websocket_store='dynamodb://TABLE?region=REGION' (or redis://, postgresql://)",
    "api_gateway_endpoint_url": "use websocket_endpoint='https://ID.execute-api.REGION."
    "amazonaws.com/STAGE' (by default it comes from each event)",
    "api_gateway_region_name": "the region is part of websocket_endpoint, taken from each "
    "event by default",
}


def no_unknown(unknown: dict[str, object], init: Callable[..., None]) -> None:
    """Refuse keywords that ``init`` (``Bridge.__init__``) does not take, naming the
    closest option, or the remedy for an option of Mangum's past releases."""
    if not unknown:
        return
    import difflib
    import inspect

    known = [
        name
        for name, parameter in inspect.signature(init).parameters.items()
        if parameter.kind is parameter.KEYWORD_ONLY
    ]
    hints = []
    for name in sorted(unknown):
        if name in MANGUM_OPTIONS:
            hints.append(f"{name!r} (a Mangum option) is not supported: {MANGUM_OPTIONS[name]}")
            continue
        close = difflib.get_close_matches(
            name.lower(), [*known, "enable_lifespan"], n=1, cutoff=0.6
        )
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        hints.append(f"unexpected keyword argument {name!r}{hint}")
    raise ConfigurationError(
        f"Bridge(app, ...): {'; '.join(hints)}. Its options are: {', '.join(known)}."
    )


def lifespan(mode: LifespanMode) -> LifespanMode:
    if mode not in ("auto", "on", "off"):
        raise ConfigurationError(f"lifespan must be 'auto', 'on' or 'off', got {mode!r}.")
    return mode


def timeout_margin_ms(margin: int | None) -> int | None:
    if margin is not None and (
        not isinstance(margin, int) or isinstance(margin, bool) or margin < 0
    ):
        raise ConfigurationError(
            "timeout_margin_ms must be a number of milliseconds (0 or more) or None, "
            f"got {margin!r}."
        )
    return margin


def invoke_mode(mode: InvokeMode) -> InvokeMode:
    if mode not in ("BUFFERED", "RESPONSE_STREAM"):
        raise ConfigurationError(
            f"invoke_mode must be 'BUFFERED' or 'RESPONSE_STREAM' (the function URL's "
            f"InvokeMode setting), got {mode!r}."
        )
    return mode


def exclude_headers(names: Iterable[str] | None) -> frozenset[str]:
    if names is None:
        return frozenset()
    if isinstance(names, (str, bytes)):
        raise ConfigurationError(
            f"exclude_headers must be a list of header names, got the single string {names!r}; "
            "wrap it in a list."
        )
    result = set()
    for name in names:
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"exclude_headers entries must be header names, got {name!r}.")
        result.add(name.strip().lower())
    return frozenset(result)


def error_statuses(statuses: Iterable[int] | None) -> frozenset[int]:
    if statuses is None:
        return frozenset()
    if isinstance(statuses, (str, bytes, int)):
        raise ConfigurationError(
            f"error_statuses must be a set of HTTP status codes such as {{500, 502, 503, 504}}, "
            f"got {statuses!r}; wrap a single status in a set."
        )
    result = set()
    for status in statuses:
        if type(status) is not int or not 100 <= status <= 599:
            raise ConfigurationError(
                "error_statuses entries must be HTTP status codes (integers from 100 to 599), "
                f"got {status!r}."
            )
        result.add(status)
    return frozenset(result)


def asgi_only(interface: str, lifespan: LifespanMode, websocket_store: object) -> None:
    """The options a WSGI application cannot have."""
    if interface != "wsgi":
        return
    if websocket_store is not None:
        raise ConfigurationError(
            "websocket_store was given, but the application is served as WSGI, which has "
            "no WebSockets. Serve an ASGI application (interface='asgi' if detection "
            "got it wrong)."
        )
    if lifespan == "on":
        raise ConfigurationError(
            "lifespan='on' needs an ASGI application, but this one is served as WSGI. "
            "Use lifespan='auto' or 'off', or interface='asgi' if it is ASGI."
        )
