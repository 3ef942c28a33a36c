"""A Flask app that also handles SQS messages, EventBridge schedules and
S3 uploads, deployed as one function.

Locally:   python -m bridge invoke examples/events_flask.py:app \\
               --event sqs.json --non-http-path /events
On Lambda: handler = bridge.Bridge(app, non_http_path="/events")

Every event that is not an HTTP request arrives as ``POST /events`` with
the event as its JSON body.  The answer is the invocation's result: for SQS
(with ``ReportBatchItemFailures`` on the event source mapping) the messages
that failed, which SQS delivers again; any non-2xx answer fails the whole
invocation, so Lambda retries it.
"""

import json
from typing import Any

from flask import Flask, request

from bridge import Bridge
from bridge.events import event_source

app = Flask(__name__)
orders: list[dict[str, Any]] = []


@app.get("/orders")
def list_orders() -> list[dict[str, Any]]:
    return orders


@app.post("/events")
def events() -> Any:
    event = request.get_json()
    source = event_source(event)
    if source == "sqs":
        return sqs_batch(event["Records"])
    if source == "eventbridge" and event["detail-type"] == "Scheduled Event":
        orders.clear()  # a nightly clean-up
        return "", 204
    if source == "s3":
        return {"seen": [r["s3"]["object"]["key"] for r in event["Records"]]}
    return f"no handler for events from {source or 'an unknown source'}", 422


def sqs_batch(records: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    """Each message on its own: the ones that fail are reported, not the batch."""
    failures = []
    for record in records:
        try:
            place_order(json.loads(record["body"]))
        except (ValueError, KeyError, TypeError):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def place_order(message: dict[str, Any]) -> None:
    if int(message["quantity"]) < 1:
        raise ValueError("an order needs a quantity of 1 or more")
    orders.append(message)


handler = Bridge(app, non_http_path="/events")
