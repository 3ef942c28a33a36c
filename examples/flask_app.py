"""A Flask app.

Locally:   python -m bridge serve examples/flask_app.py:app
On Lambda: handler = bridge.Bridge(app)
"""

from flask import Flask, Response, request

app = Flask(__name__)


@app.get("/")
def hello() -> dict[str, str]:
    return {"message": f"Hello, {request.args.get('name', 'world')}!"}


@app.post("/echo")
def echo() -> Response:
    return Response(request.get_data(), content_type=request.content_type)
