"""A Flask app whose 500 answers fail the invocation (``error_statuses``)."""

from __future__ import annotations

from flask import Flask

from bridge import Bridge

app = Flask(__name__)


@app.get("/fail")
def fail() -> tuple[str, int]:
    return "card 4111-1111 declined", 500


handler = Bridge(app, error_statuses={500})
