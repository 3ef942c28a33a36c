"""The ordered event-source decision and application-interface detection."""

from __future__ import annotations

import functools
import inspect
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge import Bridge, ConfigurationError, EventSource, UnknownEventError
from bridge.apps import detect_interface
from bridge.events import events_source
from bridge.local.events import SOURCE_NAMES, build_event
from bridge.sources import BUILTIN_SOURCES, WARMUP, WEBSOCKET, SourceSelector, builtin_source
from tests.apps import echo_app, respond_with
from tests.conftest import HandlerFactory
from tests.local.running import main_status

EXPECTED_SOURCE = {name: name for name in SOURCE_NAMES} | {"alb-multi": "alb"}


@pytest.mark.parametrize("name", SOURCE_NAMES)
def test_each_source_is_detected(name: str) -> None:
    source = SourceSelector().select(build_event(name))
    assert isinstance(source, EventSource)
    assert source.name == EXPECTED_SOURCE[name]


@pytest.mark.parametrize("name", SOURCE_NAMES)
def test_each_predicate_matches_only_its_own_events(name: str) -> None:
    event = build_event(name)
    matching = [s.name for s in BUILTIN_SOURCES if s.matches(event)]
    assert matching[0] == EXPECTED_SOURCE[name]


@pytest.mark.parametrize(
    "event",
    [
        {"Records": [{"eventSource": "aws:sqs", "body": "x"}]},
        {"source": "aws.events", "detail": {}},
        {},
        {"Records": [{"cf": {"config": {}, "response": {"status": "200"}}}]},
    ],
)
def test_non_http_events_raise_a_clear_error(event: dict[str, Any]) -> None:
    with pytest.raises(UnknownEventError) as info:
        SourceSelector().select(event)
    message = str(info.value)
    assert "Looked for" in message
    assert "requestContext.elb" in message
    assert "source=" in message


def test_a_non_object_event_is_named() -> None:
    with pytest.raises(UnknownEventError, match="JSON object, got list"):
        SourceSelector().select([1, 2])


def test_source_can_be_chosen_explicitly(make_handler: HandlerFactory) -> None:
    event = build_event("http")
    handler = make_handler(source="http")
    assert handler(event)["statusCode"] == 200
    with pytest.raises(UnknownEventError):
        make_handler(source="alb")(build_event("rest"))


def test_unknown_source_name_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="one of"):
        Bridge(echo_app, source="websocket-ish", lifespan="off")


def test_custom_handler_comes_first(make_handler: HandlerFactory) -> None:
    def to_request(event: Any, context: Any, config: Any) -> Any:
        scope, _ = BUILTIN_SOURCES[3].to_request(build_event("http"), context, config)
        return scope, event["payload"].encode()

    def to_response(event: Any, status: int, headers: Any, body: bytes, config: Any) -> Any:
        return {"code": status, "text": body.decode()}

    custom = EventSource(
        name="queue-ish",
        matches=lambda event: "payload" in event,
        to_request=to_request,
        to_response=to_response,
    )
    handler = make_handler(respond_with(202, body=b"taken"), custom_handlers=[custom])
    assert handler({"payload": "x"}) == {"code": 202, "text": "taken"}
    assert handler(build_event("http"))["statusCode"] == 202


def test_classic_handler_class_is_accepted(make_handler: HandlerFactory) -> None:
    class Classic:
        @classmethod
        def infer(cls, event: Any, context: Any, config: Any) -> bool:
            return "classic" in event

        def __init__(self, event: Any, context: Any, config: Any) -> None:
            self.event = event

        @property
        def scope(self) -> dict[str, Any]:
            return {
                "type": "http",
                "method": "GET",
                "path": "/classic",
                "raw_path": b"/classic",
                "root_path": "",
                "query_string": b"",
                "headers": [],
                "scheme": "https",
                "server": None,
                "client": None,
                "http_version": "1.1",
                "asgi": {"version": "3.0"},
            }

        @property
        def body(self) -> bytes:
            return b""

        def __call__(self, response: dict[str, Any]) -> dict[str, Any]:
            return {"status": response["status"], "body": response["body"].decode()}

    handler = make_handler(respond_with(200, body=b"hi"), custom_handlers=[Classic])
    assert handler({"classic": True}) == {"status": 200, "body": "hi"}


def test_no_match_error_names_what_each_custom_handler_looks_for() -> None:
    class Classic:
        @classmethod
        def infer(cls, event: Any, context: Any, config: Any) -> bool:
            return False

    class DuckTyped:
        name = "duck"
        looks_for = "a 'quack' key"

        def matches(self, event: Any) -> bool:
            return "quack" in event

        def to_request(self, event: Any, context: Any, config: Any) -> Any:
            raise AssertionError("not called")

        def to_response(self, *args: Any) -> Any:
            raise AssertionError("not called")

    handler = Bridge(echo_app, custom_handlers=[Classic, DuckTyped()], lifespan="off")
    with pytest.raises(UnknownEventError) as caught:
        handler({"nothing": "known"}, None)
    assert "Classic: Classic.infer(); duck: a 'quack' key; edge: " in str(caught.value)


def test_bad_custom_handler_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="custom_handlers"):
        Bridge(echo_app, custom_handlers=[object()], lifespan="off")


# ---------------------------------------------------------------- app interface


async def asgi3_function(scope: Any, receive: Any, send: Any) -> None:
    return None


class ASGI3Class:
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        return None


class ASGI2Class:
    def __init__(self, scope: Any) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        return None


def asgi2_function(scope: Any) -> Any:
    async def instance(receive: Any, send: Any) -> None:
        return None

    return instance


def wsgi_function(environ: Any, start_response: Any) -> Any:
    return []


class WSGIClass:
    def __init__(self, environ: Any, start_response: Any) -> None:
        self.environ = environ

    def __iter__(self) -> Any:
        return iter([])


class WSGIInstance:
    def __call__(self, environ: Any, start_response: Any) -> Any:
        return []


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        (asgi3_function, "asgi3"),
        (ASGI3Class(), "asgi3"),
        (functools.partial(asgi3_function), "asgi3"),
        (ASGI2Class, "asgi2"),
        (asgi2_function, "asgi2"),
        (wsgi_function, "wsgi"),
        (WSGIClass, "wsgi"),
        (WSGIInstance(), "wsgi"),
        (functools.partial(wsgi_function), "wsgi"),
        (functools.partial(wsgi_function, {}), "asgi2"),
    ],
)
def test_app_shapes_are_detected(app: Any, expected: str) -> None:
    assert detect_interface(app) == expected


def test_interface_can_be_forced_where_the_signature_allows() -> None:
    assert detect_interface(_one_and_defaults, "wsgi") == "wsgi"
    assert detect_interface(_varargs, "asgi") == "asgi2"
    assert detect_interface(_all_defaults, "asgi") == "asgi2"


def _sync_asgi3(scope: Any, receive: Any, send: Any) -> Any:
    return asgi3_function(scope, receive, send)


def test_interface_asgi_takes_a_sync_three_argument_callable_for_asgi3(
    make_handler: HandlerFactory,
) -> None:
    """A synchronous callable returning an awaitable (what a decorator may make)."""
    assert detect_interface(_sync_asgi3, "asgi") == "asgi3"

    def answering(scope: Any, receive: Any, send: Any) -> Any:
        return respond_with(200, [(b"content-type", b"text/plain")], b"sync")(scope, receive, send)

    handler = make_handler(answering, interface="asgi", lifespan="off")
    assert handler(build_event("http"))["body"] == "sync"


def hello(name: Any = None) -> str:
    return f"hello {name}"


class FastAPILike:
    """Shaped like FastAPI: keyword-only settings; its instances are the app."""

    def __init__(self, *, debug: bool = False, title: str = "API") -> None:
        self.debug = debug

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        return None


@pytest.mark.parametrize(
    ("app", "interface", "expected"),
    [
        (hello, "auto", r"the function hello takes 0 to 1 positional arguments, so it is neither"),
        (FastAPILike, "auto", r"the class .*FastAPILike takes 0 positional arguments"),
        (FastAPILike, "auto", r"pass one: Bridge\(FastAPILike\(\)\)"),
        (lambda: None, "auto", r"the function .*<lambda> takes 0 positional arguments"),
        (_sync_asgi3, "auto", r"takes \(scope, receive, send\) like an ASGI 3 application"),
        (_sync_asgi3, "auto", r"pass interface='asgi'"),
        (wsgi_function, "asgi", r"interface='asgi' was given, but the function wsgi_function"),
        (wsgi_function, "asgi", r"Its signature is WSGI's: use interface='wsgi'"),
        (WSGIInstance(), "asgi", r"the WSGIInstance object is not a coroutine function"),
        (asgi3_function, "wsgi", r"coroutine function \(async def\), which can only be an ASGI"),
        (hello, "wsgi", r"interface='wsgi' was given, but the function hello takes 0 to 1"),
    ],
)
def test_objects_that_cannot_be_the_app_are_refused_at_construction(
    app: Any, interface: Any, expected: str
) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        Bridge(app, interface=interface)


def test_a_flask_app_given_as_asgi_is_refused() -> None:
    import flask

    app = flask.Flask("refused")
    with pytest.raises(ConfigurationError, match=r"Its signature is WSGI's"):
        Bridge(app, interface="asgi")


def test_fastapi_the_class_is_refused_and_an_instance_served(make_handler: HandlerFactory) -> None:
    import fastapi

    with pytest.raises(ConfigurationError, match=r"Bridge\(FastAPI\(\)\)"):
        Bridge(fastapi.FastAPI)
    assert make_handler(fastapi.FastAPI()).interface == "asgi3"


def greet(name: Any) -> str:
    """One required argument: indistinguishable from ASGI 2 by its signature."""
    return f"hello {name}"


def test_a_function_taken_for_asgi2_fails_each_request_with_one_clear_error(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    handler = make_handler(greet)
    assert handler.interface == "asgi2"
    caplog.clear()
    response = handler(build_event("http"))
    assert response["statusCode"] == 500
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    text = caplog.text
    assert "probably not an ASGI application" in text
    assert "returned str" in text
    assert "interface='wsgi'" in text


@pytest.mark.parametrize("bad", ["asgi3", "ASGI", None])
def test_bad_interface_value(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="interface must be"):
        detect_interface(asgi3_function, bad)


def test_non_callable_app_is_explained() -> None:
    with pytest.raises(ConfigurationError, match="Bridge\\(app\\) expects"):
        Bridge("main:app", lifespan="off")


def test_asgi2_app_serves_requests(make_handler: HandlerFactory) -> None:
    class Hello:
        def __init__(self, scope: Any) -> None:
            self.scope = scope

        async def __call__(self, receive: Any, send: Any) -> None:
            if self.scope["type"] != "http":
                raise RuntimeError("http only")
            headers = [(b"content-type", b"text/plain")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": self.scope["path"].encode()})

    handler = make_handler(Hello)
    assert handler(build_event("http", path="/two"))["body"] == "/two"


@pytest.mark.parametrize(
    ("option", "value", "match"),
    [
        ("lifespan", "sometimes", "lifespan must be"),
        ("text_mime_types", "application/x", "single string"),
        ("text_mime_types", [3], "non-empty strings"),
        ("exclude_headers", "x-one", "single string"),
        ("exclude_headers", [""], "header names"),
        ("api_gateway_base_path", 5, "api_gateway_base_path must be a string"),
    ],
)
def test_bad_options_are_configuration_errors(option: str, value: Any, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        Bridge(echo_app, **{option: value})


# The keys the built-in predicates look at, each with values that make them
# say yes and no; the events combine any of them.
_CONTEXTS = st.one_of(
    st.none(),
    st.just("not a dict"),
    st.dictionaries(
        st.sampled_from(["elb", "http", "serviceArn", "targetGroupArn", "domainName", "stage"]),
        st.sampled_from(["x", "abc.lambda-url.us-east-1.on.aws", "api.example.com"]),
    ),
)
_RECORDS: st.SearchStrategy[Any] = st.one_of(
    st.just([]),
    st.just("x"),
    st.lists(
        st.dictionaries(
            st.just("cf"),
            st.one_of(
                st.just("x"),
                st.dictionaries(st.sampled_from(["request", "response", "config"]), st.just({})),
            ),
        ),
        max_size=2,
    ),
)
_EVENTS = st.fixed_dictionaries(
    {},
    optional={
        "Records": _RECORDS,
        "requestContext": _CONTEXTS,
        "version": st.sampled_from(["1.0", "2.0", None]),
        "rawPath": st.just("/"),
        "raw_path": st.just("/"),
        "method": st.just("GET"),
        "httpMethod": st.just("GET"),
        "path": st.just("/"),
    },
)


@given(_EVENTS)
def test_the_one_pass_decision_is_the_ordered_scan(event: dict[str, Any]) -> None:
    ordered = next((s for s in BUILTIN_SOURCES if s.matches(event)), None)
    assert builtin_source(event) is ordered


# ------------------------------------------ the one decision, step by step

#: A WebSocket MESSAGE event, as API Gateway sends it (the keys matches() reads).
WEBSOCKET_EVENT = {
    "requestContext": {
        "eventType": "MESSAGE",
        "connectionId": "abc=",
        "messageDirection": "IN",
        "routeKey": "$default",
    },
    "body": "hi",
}
WARMUP_EVENT = {"source": "serverless-plugin-warmup"}
#: A custom source's reader and writer (those of HTTP API 2.0).
_WRITERS = (BUILTIN_SOURCES[3].to_request, BUILTIN_SOURCES[3].to_response)
EVENTS = events_source("/events")


@given(_EVENTS)
def test_step_1_built_in_sources_alone_are_decided_by_the_ordered_scan(
    event: dict[str, Any],
) -> None:
    ordered = next((s for s in BUILTIN_SOURCES if s.matches(event)), None)
    if ordered is None:
        with pytest.raises(UnknownEventError):
            SourceSelector().select(event)
    else:
        assert SourceSelector().select(event) is ordered


def test_step_1_leaves_a_rest_shaped_websocket_event_to_step_2() -> None:
    event = {**WEBSOCKET_EVENT, "httpMethod": "GET", "path": "/"}
    assert builtin_source(event) is not None  # it has the REST keys too
    assert SourceSelector().select(event) == WEBSOCKET
    del event["requestContext"]["messageDirection"]  # type: ignore[attr-defined]
    assert SourceSelector().select(event).name == "rest"  # type: ignore[union-attr]


@pytest.mark.parametrize("only", ["auto", "rest"])
def test_step_2_websocket_events_come_before_any_source(only: str) -> None:
    custom = EventSource("everything", lambda event: True, *_WRITERS)
    assert SourceSelector(only=only).select(WEBSOCKET_EVENT) == WEBSOCKET
    assert SourceSelector([custom]).select(WEBSOCKET_EVENT) == WEBSOCKET


def test_step_3_an_explicit_source_takes_its_events_only() -> None:
    selector = SourceSelector(only="rest", events=EVENTS)
    assert selector.select(build_event("rest")).name == "rest"  # type: ignore[union-attr]
    with pytest.raises(UnknownEventError):  # an HTTP event refused: not for non_http_path
        selector.select(build_event("http"))
    assert selector.select({"Records": []}) is EVENTS


def test_step_3_custom_sources_in_their_order_then_the_built_in_ones() -> None:
    first = EventSource("first", lambda event: "a" in event, *_WRITERS)
    second = EventSource("second", lambda event: True, *_WRITERS)
    selector = SourceSelector([first, second])
    assert selector.select({"a": 1}) is first
    assert selector.select(build_event("http")) is second
    assert SourceSelector([first]).select(build_event("http")).name == "http"  # type: ignore[union-attr]


@pytest.mark.parametrize("only", ["auto", "alb"])
def test_step_4_the_warmup_ping_is_told_apart(only: str) -> None:
    assert SourceSelector(only=only).select(WARMUP_EVENT) == WARMUP
    assert SourceSelector(only=only, events=EVENTS).select(WARMUP_EVENT) == WARMUP


@pytest.mark.parametrize("event", [{"Records": [{"eventSource": "aws:sqs"}]}, [1, 2], "text"])
def test_step_5_any_other_event_goes_to_non_http_path(event: object) -> None:
    assert SourceSelector(events=EVENTS).select(event) is EVENTS
    with pytest.raises(UnknownEventError, match="non_http_path"):
        SourceSelector().select(event)


# ------------------------------------- detection without inspect, checked against it


def _wraps(function: Any) -> Any:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return wrapper


def _one(scope: Any) -> Any: ...
def _one_and_defaults(scope: Any, extra: Any = None, more: Any = None) -> Any: ...
def _all_defaults(scope: Any = None) -> Any: ...
def _positional_only(scope: Any, /) -> Any: ...
def _two_positional_only(a: Any, b: Any, /) -> Any: ...
def _one_and_keyword_only(scope: Any, *, option: Any) -> Any: ...
def _varargs(*args: Any) -> Any: ...
def _one_and_varargs(scope: Any, *args: Any) -> Any: ...
def _kwargs_only(**kwargs: Any) -> Any: ...
def _nothing() -> Any: ...
async def _async_one(scope: Any) -> Any: ...
def _generator(environ: Any, start_response: Any) -> Any:
    yield b""


class _Shapes:
    def two(self, environ: Any, start_response: Any) -> Any: ...
    def one(self, scope: Any) -> Any: ...
    def only_self(self) -> Any: ...
    def self_defaulted(self: Any = None, scope: Any = None) -> Any: ...
    def star(*args: Any) -> Any: ...  # self arrives in *args
    async def coroutine(self, scope: Any, receive: Any, send: Any) -> None: ...

    @classmethod
    def class_one(cls, scope: Any) -> Any: ...

    @staticmethod
    def static_one(scope: Any) -> Any: ...


class _CallOne:
    def __call__(self, scope: Any) -> Any: ...


class _CallTwoDefaulted:
    def __call__(self, environ: Any, start_response: Any = None) -> Any: ...


class _CallStatic:
    @staticmethod
    def __call__(environ: Any, start_response: Any) -> Any: ...


class _CallInherited(_CallOne):
    pass


class _CallWrapped:
    @_wraps
    def __call__(self, environ: Any, start_response: Any) -> Any: ...


class _CallWithSignature:
    def __call__(self, *args: Any) -> Any: ...


_with_signature = _CallWithSignature()
_with_signature.__signature__ = inspect.signature(_one)  # type: ignore[attr-defined]


class _FunctionLike:
    """Duck-typed like a Cython function: inspect reads its ``__code__``."""

    __name__ = "function_like"
    __defaults__ = None
    __kwdefaults__ = None
    __code__ = _async_one.__code__

    def __call__(self, *args: Any) -> Any: ...


def _marked(a: Any, b: Any, /) -> Any: ...


_marked._is_coroutine_marker = object()  # type: ignore[attr-defined]  # not inspect's: sync


CALLABLES = [
    _one,
    _one_and_defaults,
    _all_defaults,
    _positional_only,
    _two_positional_only,
    _one_and_keyword_only,
    _varargs,
    _one_and_varargs,
    _kwargs_only,
    _nothing,
    _async_one,
    _generator,
    _wraps(_one),
    _wraps(wsgi_function),
    _Shapes().two,
    _Shapes().one,
    _Shapes().only_self,
    _Shapes().self_defaulted,  # type: ignore[misc]
    _Shapes().star,
    _Shapes().coroutine,
    _Shapes.class_one,
    _Shapes.static_one,
    _Shapes.two,
    _CallOne(),
    _CallTwoDefaulted(),
    _CallStatic(),
    _CallInherited(),
    _CallWrapped(),
    _with_signature,
    _FunctionLike(),
    _marked,
    functools.partial(_one),
    functools.partial(_two_positional_only, 1),
    functools.partial(_Shapes().coroutine),
    ASGI2Class,
    ASGI3Class,
    WSGIClass,
    len,
    print,
    dict,
]


@pytest.mark.parametrize("app", CALLABLES, ids=repr)
def test_detection_agrees_with_inspect(app: Any) -> None:
    from bridge import apps

    assert apps._is_coroutine_function(app) == inspect.iscoroutinefunction(app)
    shape = apps._positional_shape(app)
    assert shape is None or shape == apps._arity_by_signature(app)


@pytest.mark.parametrize(
    "app",
    [_one, _nothing, _Shapes().two, _Shapes().star, _Shapes.class_one, _CallOne()],
    ids=repr,
)
def test_the_usual_shapes_are_read_from_code(app: Any) -> None:
    from bridge import apps

    assert apps._positional_shape(app) is not None


@pytest.mark.parametrize(
    "app",
    [_wraps(_one), _with_signature, _CallStatic(), _CallWrapped(), _FunctionLike(), len, dict],
    ids=repr,
)
def test_unusual_shapes_are_left_to_inspect(app: Any) -> None:
    from bridge import apps

    assert apps._positional_shape(app) is None


def test_a_partial_of_an_async_bound_method_is_asgi3() -> None:
    assert detect_interface(functools.partial(_Shapes().coroutine)) == "asgi3"


def test_the_asyncio_coroutine_marker_means_asgi3() -> None:
    def legacy(scope: Any, receive: Any, send: Any) -> Any: ...

    legacy._is_coroutine = object()  # type: ignore[attr-defined]
    assert detect_interface(legacy) == "asgi3"

    class Marked:
        def __call__(self, scope: Any, receive: Any, send: Any) -> Any: ...

    Marked.__call__._is_coroutine = object()  # type: ignore[attr-defined]
    assert detect_interface(Marked()) == "asgi3"


def test_a_function_like_coroutine_is_asgi3() -> None:
    assert inspect.iscoroutinefunction(_FunctionLike())
    assert detect_interface(_FunctionLike()) == "asgi3"


def test_inspect_markcoroutinefunction_means_asgi3() -> None:
    mark = getattr(inspect, "markcoroutinefunction", None)  # Python 3.12+
    if mark is None:
        return

    def marked(scope: Any, receive: Any, send: Any) -> Any: ...

    assert detect_interface(mark(marked)) == "asgi3"


def test_the_cli_names_an_object_that_is_not_an_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "not_an_app.py").write_text("def hello(name=None):\n    return name\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    for command in ("invoke", "serve"):
        assert main_status([command, "not_an_app:hello"]) in (1, 2)
        err = capsys.readouterr().err
        assert "the function hello takes 0 to 1 positional arguments" in err, err
