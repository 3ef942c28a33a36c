"""Event sources, and the one ordered decision that picks the source of an event.

:meth:`SourceSelector.select` decides, in this order (first match wins):

1. With neither ``custom_handlers`` nor ``source=``: the first built-in HTTP
   source of step 3 whose keys the event has, unless it is a REST or HTTP API
   1.0 event that also carries a WebSocket ``requestContext.eventType`` (step
   2 decides).
2. ``websocket`` - ``requestContext.eventType`` and ``connectionId``
   (API Gateway WebSocket, see :func:`bridge.websocket.source.matches`).
3. ``source=NAME`` (or an ``EventSource``): that source alone, if it matches.
   Otherwise each of ``custom_handlers`` in turn, then the built-in sources
   in :data:`BUILTIN_SOURCES` order (each one's ``looks_for`` names its keys;
   README.rst lists them).
4. ``warmup`` - serverless-plugin-warmup's ping (``source``), answered ``{}``.
5. The ``non_http_path`` source, for any other event (not for an HTTP event
   of a built-in source that ``source=`` refused).
6. Nothing: :class:`~bridge.errors.UnknownEventError`, naming the keys looked
   for and how to choose a source explicitly.
"""

from __future__ import annotations

from bridge.errors import ConfigurationError, UnknownEventError
from bridge.sources import (
    alb,
    cloudfront_edge,
    function_url,
    http_api_v1,
    http_api_v2,
    rest,
    vpc_lattice_v1,
    vpc_lattice_v2,
)
from bridge.sources.base import EventSource, SourceConfig

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

    from bridge.types import Headers, HTTPScope, LambdaContext, LambdaEvent, LambdaResponse


__all__ = [
    "BUILTIN_SOURCES",
    "WARMUP",
    "WEBSOCKET",
    "EventSource",
    "SourceConfig",
    "SourceSelector",
    "as_event_source",
    "builtin_source",
]

BUILTIN_SOURCES: tuple[EventSource, ...] = (
    cloudfront_edge.SOURCE,
    alb.SOURCE,
    function_url.SOURCE,
    http_api_v2.SOURCE,
    vpc_lattice_v2.SOURCE,
    vpc_lattice_v1.SOURCE,
    http_api_v1.SOURCE,
    rest.SOURCE,
)
SOURCES_BY_NAME = {source.name: source for source in BUILTIN_SOURCES}


def builtin_source(event: LambdaEvent) -> EventSource | None:
    """The first built-in source whose ``matches`` accepts ``event``, in the
    order above: the same answer as trying each in turn, decided in one pass
    over the keys that tell them apart."""
    if "Records" in event and cloudfront_edge.matches(event):
        return cloudfront_edge.SOURCE
    context = event.get("requestContext")
    if isinstance(context, dict):
        if "elb" in context:
            return alb.SOURCE
        if event.get("version") == "2.0":
            if "rawPath" in event and "http" in context:
                domain = context.get("domainName")  # is_function_url(), written out
                if isinstance(domain, str) and ".lambda-url." in domain:
                    return function_url.SOURCE
                return http_api_v2.SOURCE
            if "method" in event and ("serviceArn" in context or "targetGroupArn" in context):
                return vpc_lattice_v2.SOURCE
    if "raw_path" in event and "method" in event:
        return vpc_lattice_v1.SOURCE
    if "httpMethod" in event:
        if "version" in event:
            if "rawPath" not in event and isinstance(context, dict):
                return http_api_v1.SOURCE
        elif isinstance(context, dict) or (context is None and "path" in event):
            return rest.SOURCE
    return None


#: What :meth:`SourceSelector.select` gives for an API Gateway WebSocket event.
WEBSOCKET = "websocket"
#: What it gives for serverless-plugin-warmup's ping.
WARMUP = "warmup"


class SourceSelector:
    """Picks the event source for each event, in the order above."""

    __slots__ = ("builtin_first", "events", "sources")

    def __init__(
        self,
        custom: Iterable[object] = (),
        only: str | EventSource | None = None,
        events: EventSource | None = None,
    ) -> None:
        #: Step 3's sources, tried in turn: source= alone, or the custom ones
        #: and then the built-in ones.
        self.sources: tuple[EventSource, ...]
        if only is not None and only != "auto":
            self.sources = (_resolve(only),)
        else:
            self.sources = (*(as_event_source(h) for h in custom), *BUILTIN_SOURCES)
        #: Step 1: no custom source and no source= to come first.
        self.builtin_first = self.sources == BUILTIN_SOURCES
        #: The non_http_path source (step 5), if any.
        self.events = events

    def select(self, event: object) -> EventSource | str:
        """The source of ``event``: an :class:`EventSource`, :data:`WEBSOCKET`
        or :data:`WARMUP`; :class:`UnknownEventError` when there is none."""
        if self.builtin_first and type(event) is dict:
            source = builtin_source(event)
            if source is not None and (
                (source is not rest.SOURCE and source is not http_api_v1.SOURCE)
                or "eventType" not in (event.get("requestContext") or ())  # step 1's exception
            ):
                return source
        if isinstance(event, dict):
            from bridge.websocket.source import matches  # HTTP-only functions never load it

            if matches(event):
                return WEBSOCKET
            for source in self.sources:
                if source.matches(event):
                    return source
        if is_warmup(event):
            return WARMUP
        if self.events is not None and not (type(event) is dict and builtin_source(event)):
            return self.events
        raise UnknownEventError(_no_match_message(event, self.sources))


def is_warmup(event: object) -> bool:
    """Whether ``event`` is serverless-plugin-warmup's ping."""
    return isinstance(event, dict) and event.get("source") == "serverless-plugin-warmup"


def _resolve(only: str | EventSource) -> EventSource:
    if isinstance(only, str):
        try:
            return SOURCES_BY_NAME[only]
        except KeyError:
            raise ConfigurationError(
                f"source must be 'auto' or one of {sorted(SOURCES_BY_NAME)}, got {only!r}."
            ) from None
    return as_event_source(only)


def _no_match_message(event: object, sources: Sequence[EventSource]) -> str:
    looked = "; ".join(f"{s.name}: {s.looks_for}" for s in sources)
    if not isinstance(event, dict):
        return (
            f"Expected the Lambda event to be a JSON object, got {type(event).__name__}. "
            f"bridge's HTTP sources take objects only. Looked for: {looked}. To deliver "
            "other events to the app, use Bridge(app, non_http_path='/events')."
        )
    keys = ", ".join(sorted(map(str, event))[:12]) or "none"
    return (
        f"The event matches no HTTP event source (top-level keys: {keys}). Looked for: "
        f"{looked}. If this is an HTTP event of a known source, choose it explicitly with "
        f"Bridge(app, source=...) (one of {sorted(SOURCES_BY_NAME)}); for another shape, "
        "pass custom_handlers=[EventSource(...)]. If it is not an HTTP event (SQS, SNS, S3, "
        "a schedule...), Bridge(app, non_http_path='/events') sends it to the app as "
        "POST /events."
    )


def as_event_source(handler: object) -> EventSource:
    """An :class:`EventSource`, or a handler class with the classic
    ``infer``/``scope``/``body``/``__call__`` protocol wrapped as one."""
    if isinstance(handler, EventSource):
        return handler
    if not all(hasattr(handler, a) for a in ("matches", "to_request", "to_response")):
        if not callable(getattr(handler, "infer", None)):
            raise ConfigurationError(
                "custom_handlers entries must be EventSource objects (or have matches, "
                "to_request and to_response), or classes with infer(event, context, config); "
                f"got {handler!r}."
            )
        handler = _ClassicHandler(handler)
    return EventSource(
        name=str(getattr(handler, "name", type(handler).__name__)),
        matches=handler.matches,  # type: ignore[attr-defined]
        to_request=handler.to_request,  # type: ignore[attr-defined]
        to_response=handler.to_response,  # type: ignore[attr-defined]
        looks_for=str(getattr(handler, "looks_for", "custom")),
    )


class _ClassicHandler:
    """Adapts a handler class whose instances expose ``scope``, ``body`` and
    ``__call__(response) -> dict``."""

    def __init__(self, cls: Any) -> None:
        self.cls = cls
        self.name = getattr(cls, "__name__", repr(cls))
        self.looks_for = f"{self.name}.infer()"

    @staticmethod
    def _config(config: SourceConfig) -> dict[str, Any]:
        return {
            "api_gateway_base_path": config.base_path or "/",
            "text_mime_types": sorted(config.serializer._exact),
            "exclude_headers": [],
        }

    def matches(self, event: LambdaEvent) -> bool:
        return bool(self.cls.infer(event, None, self._config(SourceConfig())))

    def to_request(
        self, event: LambdaEvent, context: LambdaContext | None, config: SourceConfig
    ) -> tuple[HTTPScope, bytes]:
        instance = self.cls(event, context, self._config(config))
        scope: HTTPScope = dict(instance.scope)  # type: ignore[assignment]
        scope.setdefault("aws.event", event)
        scope.setdefault("aws.context", context)
        return scope, bytes(instance.body or b"")

    def to_response(
        self, event: LambdaEvent, status: int, headers: Headers, body: bytes, config: SourceConfig
    ) -> LambdaResponse:
        instance = self.cls(event, None, self._config(config))
        result: LambdaResponse = instance(
            {"status": status, "headers": [[n, v] for n, v in headers], "body": body}
        )
        return result
