"""A Flask app that is not thread-safe: the request being served is kept in a module global.

``GET /meet?port=P`` puts its request id in :data:`SERVING`, connects to the test's port P,
says its process id and waits for the test's byte (at most 15 s), then checks that
:data:`SERVING` still holds its own request id. Two requests served at once by one process
overwrite each other's: the check then fails. The test releases the requests only once all of
them are in flight at once.
"""

from __future__ import annotations

import os
import signal
import socket

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

app = Flask(__name__)

#: The request id of the request this process is serving.
SERVING: str | None = None


@app.get("/meet")
def meet() -> ResponseReturnValue:
    global SERVING
    request_id = request.environ["aws.context"].aws_request_id
    SERVING = request_id
    with socket.create_connection(("127.0.0.1", int(request.args["port"])), timeout=15) as test:
        test.sendall(f"{os.getpid()}\n".encode())
        released = test.recv(1)
    return jsonify(
        released=released == b"!",
        request_id=request_id,
        pid=os.getpid(),
        alone=request_id == SERVING,
        trace_env=os.environ.get("_X_AMZN_TRACE_ID"),
    )


@app.get("/pid")
def pid() -> ResponseReturnValue:
    return jsonify(pid=os.getpid())


@app.get("/crash")
def crash() -> ResponseReturnValue:
    """Die as the OOM killer or a crash in a C extension would end the process."""
    os.kill(os.getpid(), signal.SIGKILL)
    return jsonify(crashed=False)
