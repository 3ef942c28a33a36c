"""A Flask app that takes non-HTTP events at ``/events`` (``non_http_path``):
an SQS batch is answered with its failed message ids; anything else fails."""

from __future__ import annotations

from flask import Flask, request
from flask.typing import ResponseReturnValue

from bridge import Bridge

app = Flask(__name__)


@app.post("/events")
def events() -> ResponseReturnValue:
    event = request.get_json()
    records = event.get("Records") or []
    if records and all(r.get("eventSource") == "aws:sqs" for r in records):
        failed = [{"itemIdentifier": r["messageId"]} for r in records if r["body"] == "bad"]
        return {"batchItemFailures": failed}, 200
    return "no handler for this event", 422


handler = Bridge(app, non_http_path="/events")
