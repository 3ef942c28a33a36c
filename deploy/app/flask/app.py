"""The Flask app every deploy template in deploy/ runs: ``app.handler``."""

from flask import Flask, Response, request

from bridge import Bridge

app = Flask(__name__)


@app.get("/")
def hello() -> dict[str, str]:
    return {"message": f"Hello, {request.args.get('name', 'world')}!"}


@app.post("/echo")
def echo() -> Response:
    return Response(request.get_data(), content_type=request.content_type)


handler = Bridge(app)
