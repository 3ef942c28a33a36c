"""A Flask app served by ``python -m bridge.runtime flask_function.app``."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator

from flask import Flask, Response, jsonify, request, stream_with_context

app = Flask(__name__)

#: Crossed only when four requests wait on it at once: proof that four run concurrently.
BARRIER = threading.Barrier(4, timeout=15)


@app.get("/hello")
def hello() -> str:
    return "hello from flask"


@app.post("/echo")
def echo() -> Response:
    return Response(request.get_data(), content_type=request.content_type)


@app.get("/context")
def context() -> Response:
    lambda_context = request.environ["aws.context"]
    return jsonify(
        request_id=lambda_context.aws_request_id,
        function_arn=lambda_context.invoked_function_arn,
        function_name=lambda_context.function_name,
        memory=lambda_context.memory_limit_in_mb,
        remaining_positive=lambda_context.get_remaining_time_in_millis() > 0,
        tenant_id=lambda_context.tenant_id,
        identity_id=lambda_context.identity.cognito_identity_id,
        client_custom=(
            lambda_context.client_context.custom if lambda_context.client_context else None
        ),
        trace_env=os.environ.get("_X_AMZN_TRACE_ID"),
        thread=threading.current_thread().name,
    )


@app.get("/barrier")
def barrier() -> str:
    BARRIER.wait()
    return threading.current_thread().name


@app.get("/hold")
def hold() -> str:
    """Connect to the test's port and wait for its byte: the test decides when this ends."""
    with socket.create_connection(("127.0.0.1", int(request.args["port"])), timeout=15) as held:
        return "released" if held.recv(1) else "dropped"


def _released(held: socket.socket) -> bool:
    return bool(held.recv(1))


@app.get("/stream")
def stream() -> Response:
    """Two chunks; the second only once the test, connected on ``port``, sends a byte."""
    port = int(request.args["port"])

    def chunks() -> Iterator[bytes]:
        with socket.create_connection(("127.0.0.1", port), timeout=15) as held:
            yield b"first,"
            yield b"second" if _released(held) else b"dropped"

    return Response(stream_with_context(chunks()), content_type="text/plain")


@app.get("/fail-midway")
def fail_midway() -> Response:
    def chunks() -> Iterator[bytes]:
        yield b"partial"
        raise RuntimeError("the data source went away")

    return Response(chunks(), content_type="text/plain")


@app.get("/after")
def after() -> Response:
    """Answers at once; its close() (call_on_close) then waits for the test's byte."""
    port = int(request.args["port"])
    response = Response("answered before close()")

    @response.call_on_close
    def closing() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=15) as held:
            if _released(held):
                held.sendall(b"done")

    return response
