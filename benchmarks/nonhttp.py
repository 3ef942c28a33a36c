"""An SQS batch through bridge (``non_http_path``) against a plain Lambda
handler doing the same work: what sending non-HTTP events through the web
app costs.

The work: each message's JSON body parsed, the ones without a positive
``quantity`` reported in a partial batch response.  Every contender's result
is checked before it is timed.
"""

import json
import time
from collections.abc import Callable
from typing import Any

from contenders import CONTEXT, copy_event
from stats import Series, interleave

from bridge import Bridge

#: Ten messages, shaped as SQS sends them; the last is reported as failed.
EVENT: dict[str, Any] = {
    "Records": [
        {
            "messageId": f"059f36b4-87a3-44ab-83d2-661975830a7{i}",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
            "body": json.dumps({"order": i, "quantity": 0 if i == 9 else i + 1}),
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1545082649183",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082649185",
            },
            "messageAttributes": {},
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
            "awsRegion": "us-east-2",
        }
        for i in range(10)
    ]
}
EXPECTED = {"batchItemFailures": [{"itemIdentifier": EVENT["Records"][9]["messageId"]}]}


def batch_result(event: dict[str, Any]) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        if json.loads(record["body"]).get("quantity", 0) < 1:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def plain_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batch_result(event)


def flask_handler() -> Bridge:
    from flask import Flask, request

    app = Flask(__name__)

    @app.post("/events")
    def events() -> dict[str, Any]:
        return batch_result(request.get_json())

    return Bridge(app, non_http_path="/events")


def fastapi_handler() -> Bridge:
    from fastapi import FastAPI, Request

    api = FastAPI()

    @api.post("/events")
    async def events(request: Request) -> dict[str, Any]:
        return batch_result(await request.json())

    return Bridge(api, non_http_path="/events", lifespan="off")


def _runner(handler: Callable[[Any, Any], Any]) -> Callable[[list[Any]], float]:
    def run_batch(events: list[Any]) -> float:
        start = time.perf_counter()
        for event in events:
            handler(event, CONTEXT)
        return time.perf_counter() - start

    return run_batch


def measure(rounds: int, batch: int) -> dict[str, Any]:
    handlers: dict[str, Callable[[Any, Any], Any]] = {
        "plain handler": plain_handler,
        "bridge, Flask": flask_handler(),
        "bridge, FastAPI": fastapi_handler(),
    }
    for name, handler in handlers.items():
        result = handler(copy_event(EVENT), CONTEXT)
        if result != EXPECTED:
            raise AssertionError(f"{name} answered {result!r}, expected {EXPECTED!r}")
        _runner(handler)([copy_event(EVENT) for _ in range(batch)])  # warm up
    runners = [
        (name, _runner(handler), lambda: copy_event(EVENT)) for name, handler in handlers.items()
    ]
    series: dict[str, Series] = interleave(runners, rounds=rounds, batch=batch)
    for handler in handlers.values():
        if isinstance(handler, Bridge):
            handler.close()
    return {"rows": {name: s.summary() for name, s in series.items()}, "reference": "plain handler"}
