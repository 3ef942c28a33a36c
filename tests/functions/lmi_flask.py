"""A Flask app for awslambdaric's multi-process mode (Lambda Managed Instances:
``AWS_LAMBDA_MAX_CONCURRENCY`` worker processes, each importing this module).

``GET /meet?port=P`` connects to the test's port P, says its process id and waits for the
test's byte: the test releases the requests only once all of them are in flight at once.
"""

from __future__ import annotations

import os
import socket

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from bridge import Bridge

app = Flask(__name__)


@app.get("/meet")
def meet() -> ResponseReturnValue:
    with socket.create_connection(("127.0.0.1", int(request.args["port"])), timeout=15) as test:
        test.sendall(f"{os.getpid()}\n".encode())
        released = test.recv(1)
    return jsonify(
        released=released == b"!",
        request_id=request.environ["aws.context"].aws_request_id,
        pid=os.getpid(),
    )


handler = Bridge(app)
