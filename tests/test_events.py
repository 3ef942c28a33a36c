"""Events that are not HTTP requests (``non_http_path``), the warm-up ping,
``error_statuses`` and the routing helper, through real frameworks."""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.http import HttpResponse, JsonResponse  # type: ignore[import-untyped]
from django.test.utils import override_settings  # type: ignore[import-untyped]
from django.urls import path as django_path  # type: ignore[import-untyped]
from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]
from fastapi import FastAPI, Request
from flask import Flask
from flask import request as flask_request
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridge import ApplicationError, Bridge, ConfigurationError, UnknownEventError
from bridge.events import event_source
from bridge.local.events import SOURCE_NAMES, FakeContext, build_event
from tests.conftest import HandlerFactory

ROOT = Path(__file__).resolve().parent.parent


# -------------------------------------------------------------- the events


def sqs(*bodies: str) -> dict[str, Any]:
    """An SQS batch, one record per body (message ids m0, m1...)."""
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183"},
                "messageAttributes": {},
                "md5OfBody": "098f6bcd4621d373cade4e832627b4f6",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:my-queue",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def s3(event_name: str, key: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-01-01T00:00:00.000Z",
                "eventName": event_name,
                "s3": {
                    "bucket": {"name": "uploads", "arn": "arn:aws:s3:::uploads"},
                    "object": {"key": key, "size": 1024, "eTag": "0123456789abcdef"},
                },
            }
        ]
    }


#: One small event of each kind, as the services send them.
EVENTS: dict[str, dict[str, Any]] = {
    "sqs": sqs('{"quantity": 2}', 'café ☕ \\u00e9 "quoted"'),
    "sns": {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:topic:1",
                "Sns": {"Type": "Notification", "Subject": None, "Message": "hello"},
            }
        ]
    },
    "s3": s3("ObjectCreated:Put", "photos/a b+c.jpg"),
    "dynamodb": {
        "Records": [
            {
                "eventID": "1",
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {"Keys": {"Id": {"N": "101"}}, "SequenceNumber": "111"},
            }
        ]
    },
    "kinesis": {
        "Records": [
            {
                "eventSource": "aws:kinesis",
                "kinesis": {"partitionKey": "1", "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg=="},
            }
        ]
    },
    "eventbridge": {
        "id": "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": "1970-01-01T00:00:00Z",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/ExampleRule"],
        "detail": {},
    },
    "logs": {"awslogs": {"data": "H4sIAAAAAAAAAHWPwQqCQBCGX2XZs4KpaXoTMi"}},
}


# -------------------------------------------------------------- the apps
# Each answers POST /events with what it received: the raw body, the
# request line, some headers, and whether aws.event is the very event.


def what_arrived(  # noqa: PLR0917
    method: str, path: str, headers: Any, body: bytes, scope_event: Any, context: Any
) -> dict[str, Any]:
    return {
        "method": method,
        "path": path,
        "host": headers.get("host"),
        "content_type": headers.get("content-type"),
        "content_length": headers.get("content-length"),
        "body": body.decode("ascii"),
        "aws.event is the event": scope_event is CURRENT["event"],
        "request id": getattr(context, "aws_request_id", None),
    }


#: The event being sent, for the apps to compare ``aws.event`` with.
CURRENT: dict[str, Any] = {}


def make_fastapi() -> FastAPI:
    api = FastAPI()

    @api.post("/events")
    async def events(request: Request) -> dict[str, Any]:
        return what_arrived(
            request.method,
            request.url.path,
            request.headers,
            await request.body(),
            request.scope["aws.event"],
            request.scope["aws.context"],
        )

    return api


def make_starlette() -> Starlette:
    async def events(request: StarletteRequest) -> JSONResponse:
        return JSONResponse(
            what_arrived(
                request.method,
                request.url.path,
                request.headers,
                await request.body(),
                request.scope["aws.event"],
                request.scope["aws.context"],
            )
        )

    return Starlette(routes=[Route("/events", events, methods=["POST"])])


def make_flask() -> Flask:
    app = Flask(__name__)

    @app.post("/events")
    def events() -> dict[str, Any]:
        return what_arrived(
            flask_request.method,
            flask_request.path,
            flask_request.headers,
            flask_request.get_data(),
            flask_request.environ["aws.event"],
            flask_request.environ["aws.context"],
        )

    return app


@csrf_exempt  # type: ignore[untyped-decorator,unused-ignore]
def django_events(request: Any) -> Any:
    return JsonResponse(
        what_arrived(
            request.method,
            request.path,
            request.headers,
            request.body,
            request.META["aws.event"],
            request.META["aws.context"],
        )
    )


def django_status(request: Any) -> Any:
    return HttpResponse(b"down for maintenance", status=503, content_type="text/plain")


urlpatterns = [django_path("events", django_events), django_path("status", django_status)]


@pytest.fixture
def django_app() -> Iterator[Any]:
    from django.core.wsgi import get_wsgi_application  # type: ignore[import-untyped]

    from tests.wsgi.frameworks.django_app import django_settings

    # The host the events arrive with is the one ALLOWED_HOSTS must list.
    with django_settings(), override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["lambda"]):
        yield get_wsgi_application()


FRAMEWORKS = ["fastapi", "starlette", "flask", "django"]


@pytest.fixture(params=FRAMEWORKS)
def framework_app(request: pytest.FixtureRequest) -> Any:
    makers: dict[str, Callable[[], Any]] = {
        "fastapi": make_fastapi,
        "starlette": make_starlette,
        "flask": make_flask,
    }
    name: str = request.param
    if name == "django":
        return request.getfixturevalue("django_app")
    return makers[name]()


def deliver(handler: Bridge, event: Any) -> Any:
    CURRENT["event"] = event
    context = FakeContext()
    context.aws_request_id = "req-1"
    return handler(event, context)


def assert_delivered(result: Any, event: Any) -> None:
    """The app got the event exactly: ``POST /events``, JSON, byte count right."""
    body = result.pop("body")
    assert json.loads(body) == event
    assert result == {
        "method": "POST",
        "path": "/events",
        "host": "lambda",
        "content_type": "application/json",
        "content_length": str(len(body)),
        "aws.event is the event": True,
        "request id": "req-1",
    }


@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_every_kind_of_event_reaches_the_app_exactly(
    make_handler: HandlerFactory, framework_app: Any, kind: str
) -> None:
    handler = make_handler(framework_app, non_http_path="/events")
    assert_delivered(deliver(handler, EVENTS[kind]), EVENTS[kind])


@pytest.mark.parametrize("event", [[1, "two", None], "a string", None], ids=repr)
def test_an_event_that_is_not_an_object_goes_too(make_handler: HandlerFactory, event: Any) -> None:
    handler = make_handler(make_flask(), non_http_path="/events")
    assert_delivered(deliver(handler, event), event)


def test_the_path_may_hold_percent_escapes(make_handler: HandlerFactory) -> None:
    seen: list[tuple[str, bytes]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope["path"], scope["raw_path"]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    handler = make_handler(app, non_http_path="/hooks/a%20b", lifespan="off")
    assert handler(EVENTS["sqs"]) is None
    assert seen == [("/hooks/a b", b"/hooks/a%20b")]


# -------------------------------------------------------------- results


def result_of(make_handler: HandlerFactory, response: Response) -> Any:
    """What the invocation returns when a Starlette app answers ``response``."""

    async def events(request: StarletteRequest) -> Response:
        return response

    app = Starlette(routes=[Route("/events", events, methods=["POST"])])
    return make_handler(app, non_http_path="/events")(EVENTS["eventbridge"])


def test_a_json_answer_is_the_parsed_value(make_handler: HandlerFactory) -> None:
    answer = {"batchItemFailures": [{"itemIdentifier": "m1"}], "n": 1.5, "ok": True}
    assert result_of(make_handler, JSONResponse(answer)) == answer


def test_a_json_answer_of_a_plain_value(make_handler: HandlerFactory) -> None:
    assert result_of(make_handler, JSONResponse([1, "x"])) == [1, "x"]
    assert result_of(make_handler, Response(b"null", media_type="application/json")) is None
    assert result_of(make_handler, Response(b'"s"', media_type="application/problem+json")) == "s"


def test_an_empty_answer_is_none(make_handler: HandlerFactory) -> None:
    assert result_of(make_handler, Response(status_code=204)) is None
    assert result_of(make_handler, Response(b"", status_code=202, media_type="text/plain")) is None


def test_a_text_answer_is_the_string(make_handler: HandlerFactory) -> None:
    assert result_of(make_handler, Response("done ✓", media_type="text/plain")) == "done ✓"
    # Not parsed: only a JSON content type says the text is JSON.
    assert result_of(make_handler, Response('{"a": 1}', media_type="text/plain")) == '{"a": 1}'


def test_a_binary_answer_is_its_base64(make_handler: HandlerFactory) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    assert result_of(make_handler, Response(png, media_type="image/png")) == "iVBORw0KGgoA/w=="
    compressed = Response(b'{"a": 1}', media_type="application/json")
    compressed.headers["content-encoding"] = "gzip"
    assert result_of(make_handler, compressed) == "eyJhIjogMX0="


def test_a_json_content_type_over_something_else_fails(make_handler: HandlerFactory) -> None:
    with pytest.raises(ApplicationError, match=r"content-type is application/json but the body"):
        result_of(make_handler, Response(b"{not json", media_type="application/json"))


# -------------------------------------------------------------- failures


@pytest.mark.parametrize("status", [301, 400, 404, 422, 500, 503])
def test_a_non_2xx_answer_fails_the_invocation(
    make_handler: HandlerFactory, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ApplicationError) as raised:
        result_of(make_handler, Response(b"token=SECRET-1", status_code=status))
    error = raised.value
    assert (error.status, error.request, error.body) == (status, "POST /events", b"token=SECRET-1")
    assert str(error) == (
        f"The application answered POST /events with status {status}: a non-2xx answer to a "
        "non-HTTP event fails the invocation. Body: 'token=SECRET-1'."
    )
    # The body can hold secrets: it is in the function error, never in a log.
    assert "SECRET" not in caplog.text


def test_a_long_error_body_is_cut(make_handler: HandlerFactory) -> None:
    with pytest.raises(ApplicationError) as raised:
        result_of(make_handler, Response(b"x" * 5000, status_code=500))
    assert str(raised.value).endswith("x" * 10 + "'... (5000 bytes in all).")
    assert len(str(raised.value)) < 700
    assert raised.value.body == b"x" * 500


def test_an_empty_error_answer(make_handler: HandlerFactory) -> None:
    with pytest.raises(ApplicationError, match=r"with status 503: .* Body: empty\.$"):
        result_of(make_handler, Response(status_code=503))


def test_a_result_over_lambdas_limit_fails_the_invocation(
    make_handler: HandlerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(["x" * 1000] * 7000).encode()]

    with pytest.raises(ApplicationError, match=r"status 500: .*too large for AWS Lambda"):
        make_handler(app, non_http_path="/events")(EVENTS["sqs"])
    assert "over Lambda's response limit" in caplog.text


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_an_app_that_raises_fails_the_invocation(
    make_handler: HandlerFactory, framework: str, caplog: pytest.LogCaptureFixture
) -> None:
    def fail() -> None:
        raise RuntimeError("the database is down")

    app: Any
    if framework == "fastapi":
        app = FastAPI()
        app.post("/events")(fail)
    else:
        app = Flask(__name__)
        app.post("/events")(fail)
    with (
        caplog.at_level(logging.CRITICAL),  # the app's traceback, logged as for HTTP
        pytest.raises(ApplicationError, match=r"POST /events with status 500"),
    ):
        make_handler(app, non_http_path="/events")(EVENTS["sqs"])


def test_an_app_without_the_route_fails_the_invocation(make_handler: HandlerFactory) -> None:
    with pytest.raises(ApplicationError, match=r"POST /elsewhere with status 404"):
        make_handler(make_flask(), non_http_path="/elsewhere")(EVENTS["s3"])


# -------------------------------------------------------------- the examples


def load_example(name: str) -> ModuleType:
    """``examples/NAME.py`` as a fresh module (without touching sys.path)."""
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", ROOT / "examples" / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=["events_fastapi", "events_flask"])
def example(request: pytest.FixtureRequest) -> Iterator[ModuleType]:
    module = load_example(request.param)
    yield module
    module.handler.close()


def test_example_reports_the_failed_messages_of_a_batch(example: ModuleType) -> None:
    batch = sqs('{"quantity": 2}', '{"quantity": 0}', "not json", '{"quantity": 5}')
    assert example.handler(batch) == {
        "batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]
    }
    assert example.orders == [{"quantity": 2}, {"quantity": 5}]


def test_example_a_batch_without_failures(example: ModuleType) -> None:
    assert example.handler(sqs('{"quantity": 1}')) == {"batchItemFailures": []}


def test_example_schedule_and_upload(example: ModuleType) -> None:
    example.orders.append({"quantity": 1})
    assert example.handler(EVENTS["eventbridge"]) is None
    assert example.orders == []
    assert example.handler(s3("ObjectCreated:Put", "a.jpg")) == {"seen": ["a.jpg"]}


def test_example_an_unexpected_event_fails_the_invocation(example: ModuleType) -> None:
    with pytest.raises(ApplicationError, match=r"status 422.*no handler for events from kinesis"):
        example.handler(EVENTS["kinesis"])


def test_example_still_serves_http(example: ModuleType) -> None:
    response = example.handler(build_event("http", path="/orders"))
    assert (response["statusCode"], json.loads(response["body"])) == (200, [])


# -------------------------------------------------------------- warm-up


@pytest.mark.parametrize("non_http_path", [None, "/events"])
@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_the_warmup_ping_is_answered_without_the_app(
    make_handler: HandlerFactory,
    caplog: pytest.LogCaptureFixture,
    non_http_path: str | None,
    interface: str,
) -> None:
    calls: list[object] = []

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(environ)
        start_response("500 Internal Server Error", [])
        return []

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            calls.append(scope)
        raise RuntimeError("not to be called")

    app = wsgi if interface == "wsgi" else asgi
    handler = make_handler(app, non_http_path=non_http_path, lifespan="off")
    caplog.set_level(logging.DEBUG, logger="bridge")
    ping = {"source": "serverless-plugin-warmup"}
    assert handler(ping, FakeContext()) == {}
    assert handler(ping) == {}
    assert calls == []
    assert "serverless-plugin-warmup" in caplog.text


def test_an_eventbridge_event_is_not_a_warmup(make_handler: HandlerFactory) -> None:
    with pytest.raises(UnknownEventError):
        make_handler(make_flask())({"source": "aws.events", "detail-type": "x", "detail": {}})


# -------------------------------------------------------------- without the option


def test_without_the_option_the_error_names_it(make_handler: HandlerFactory) -> None:
    with pytest.raises(UnknownEventError, match=r"non_http_path='/events'"):
        make_handler(make_flask())(EVENTS["sqs"])


# -------------------------------------------------------------- HTTP events


@pytest.fixture(params=["wsgi", "asgi"])
def path_app(request: pytest.FixtureRequest) -> Any:
    """An app that answers every request with its method and path."""
    if request.param == "wsgi":

        def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}".encode()]

        return wsgi

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": f"GET {scope['path']}".encode()})

    return asgi


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_http_events_never_go_to_the_events_path(
    make_handler: HandlerFactory, path_app: Any, source: str
) -> None:
    from bridge.local.responses import read_response

    handler = make_handler(path_app, non_http_path="/events", lifespan="off")
    response = read_response(source, handler(build_event(source, path="/items/1")))
    assert (response.status, response.body) == (200, b"GET /items/1")


@pytest.mark.parametrize("source", ["http", "url", "edge", "lattice"])
def test_an_http_event_another_source_was_chosen_for_is_refused(
    make_handler: HandlerFactory, source: str
) -> None:
    handler = make_handler(make_flask(), source="rest", non_http_path="/events")
    with pytest.raises(UnknownEventError, match=r"matches no HTTP event source"):
        handler(build_event(source))


def test_a_websocket_event_never_goes_to_the_events_path(make_handler: HandlerFactory) -> None:
    event = {
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "connectionId": "abc=",
            "domainName": "ws.example.com",
            "stage": "prod",
            "requestId": "r",
        },
        "headers": {},
        "isBase64Encoded": False,
    }
    handler = make_handler(make_flask(), non_http_path="/events")
    with pytest.raises(ConfigurationError, match=r"WebSocket event"):
        handler(event)


# -------------------------------------------------------------- error_statuses


@pytest.mark.parametrize("source", ["http", "rest", "alb"])
def test_error_statuses_fail_the_invocation(
    make_handler: HandlerFactory, framework_status_app: Any, source: str
) -> None:
    handler = make_handler(framework_status_app, error_statuses={500, 502, 503, 504})
    with pytest.raises(ApplicationError) as raised:
        handler(build_event(source, path="/status"))
    assert (raised.value.status, raised.value.request) == (503, "GET /status")
    assert str(raised.value) == (
        "The application answered GET /status with status 503: error_statuses makes that "
        "fail the invocation. Body: 'down for maintenance'."
    )


def test_other_statuses_are_answered(
    make_handler: HandlerFactory, framework_status_app: Any
) -> None:
    handler = make_handler(framework_status_app, error_statuses=[500])
    response = handler(build_event("http", path="/status"))
    assert (response["statusCode"], response["body"]) == (503, "down for maintenance")
    unchecked = make_handler(framework_status_app)(build_event("rest", path="/status"))
    assert unchecked["statusCode"] == 503


def test_error_statuses_catch_an_app_that_raises(make_handler: HandlerFactory) -> None:
    app = Flask(__name__)

    @app.get("/")
    def fail() -> str:
        raise RuntimeError("boom")

    handler = make_handler(app, error_statuses={500})
    with pytest.raises(ApplicationError, match=r"GET / with status 500"):
        handler(build_event("http"))


@pytest.fixture(params=["flask", "django", "fastapi"])
def framework_status_app(request: pytest.FixtureRequest) -> Any:
    """An app whose ``GET /status`` answers 503, text."""
    if request.param == "flask":
        app = Flask(__name__)
        app.get("/status")(lambda: ("down for maintenance", 503, {"content-type": "text/plain"}))
        return app
    if request.param == "django":
        return request.getfixturevalue("django_app")
    api = FastAPI()

    @api.get("/status")
    def status() -> Response:
        return Response(b"down for maintenance", status_code=503, media_type="text/plain")

    return api


# -------------------------------------------------------------- options


@pytest.mark.parametrize(
    "value", ["events", "/a?b=1", "/a b", "/a#b", "/é", b"/events", 1, "", "/a\n"], ids=repr
)
def test_non_http_path_must_be_a_path(value: Any) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Bridge(make_flask(), non_http_path=value)
    assert str(raised.value) == (
        "non_http_path must be the path that receives non-HTTP events, such as '/events' "
        f"(starting with '/', printable ASCII, no query); got {value!r}. Pass None to leave "
        "non-HTTP events unhandled."
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (500, "must be a set of HTTP status codes such as {500, 502, 503, 504}, got 500; "),
        ("500", "must be a set of HTTP status codes such as {500, 502, 503, 504}, got '500'; "),
        ({"500"}, "entries must be HTTP status codes (integers from 100 to 599), got '500'."),
        ({True}, "entries must be HTTP status codes (integers from 100 to 599), got True."),
        ({600}, "entries must be HTTP status codes (integers from 100 to 599), got 600."),
        ({99}, "entries must be HTTP status codes (integers from 100 to 599), got 99."),
    ],
)
def test_error_statuses_must_be_statuses(value: Any, message: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Bridge(make_flask(), error_statuses=value)
    assert "error_statuses " + message in str(raised.value)


# -------------------------------------------------------------- routing helper


@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_event_source_names_the_service(kind: str) -> None:
    assert event_source(EVENTS[kind]) == kind


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"Records": [{"eventSource": "aws:ses"}]}, "ses"),
        ({"eventSource": "aws:kafka", "records": {}}, "kafka"),
        ({"eventSource": "SelfManagedKafka", "records": {}}, None),
        ({"Records": [{"eventSource": "aws:"}]}, None),
        ({"Records": []}, None),
        ({"Records": ["x"]}, None),
        ({"Records": [{"cf": {}}]}, None),
        ({"awslogs": "x"}, None),
        ({"source": "serverless-plugin-warmup"}, None),
        ({}, None),
        ([{"eventSource": "aws:sqs"}], None),
        (None, None),
        (build_event("http"), None),
    ],
    ids=repr,
)
def test_event_source_of_other_shapes(event: Any, expected: str | None) -> None:
    assert event_source(event) == expected


# -------------------------------------------------------------- the shared samples
# Real events rendered by AWS SAM CLI, in ../shared/events/non-http beside the
# repository (not part of it): skipped only when that folder is absent.

SAMPLES = ROOT.parent / "shared" / "events" / "non-http"
SAMPLE_FILES = sorted(SAMPLES.glob("*.json")) if SAMPLES.is_dir() else []
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"the shared event corpus is absent ({SAMPLES})"
)
#: The manifest's service column, as event_source() names the service.
SERVICES = {
    "SQS": "sqs",
    "SNS": "sns",
    "S3": "s3",
    "DynamoDB Streams": "dynamodb",
    "Kinesis Data Streams": "kinesis",
    "EventBridge (CloudWatch Events) schedule": "eventbridge",
    "CloudWatch Logs subscription": "logs",
}


def manifest_services() -> dict[str, str]:
    """File name -> service, from the manifest's table of non-HTTP samples."""
    services = {}
    for line in (SAMPLES.parent / "MANIFEST.md").read_text().splitlines():
        if line.startswith("| `non-http/"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            services[cells[0].strip("`").removeprefix("non-http/")] = cells[1]
    return services


@needs_samples
def test_the_samples_are_there() -> None:
    assert len(SAMPLE_FILES) >= 8
    assert set(manifest_services()) == {sample.name for sample in SAMPLE_FILES}


@needs_samples
@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.stem)
def test_every_sample_reaches_the_app_exactly(
    make_handler: HandlerFactory, framework_app: Any, sample: Path
) -> None:
    event = json.loads(sample.read_bytes())
    handler = make_handler(framework_app, non_http_path="/events")
    assert_delivered(deliver(handler, event), event)


@needs_samples
@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.stem)
def test_event_source_names_the_service_of_every_sample(sample: Path) -> None:
    service = manifest_services()[sample.name]
    assert service in SERVICES, f"a new service in the manifest: {service!r}; name it in SERVICES"
    assert event_source(json.loads(sample.read_bytes())) == SERVICES[service]


@needs_samples
@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.stem)
def test_without_the_option_every_sample_is_unknown(
    make_handler: HandlerFactory, sample: Path
) -> None:
    with pytest.raises(UnknownEventError, match="non_http_path"):
        make_handler(make_flask())(json.loads(sample.read_bytes()))
