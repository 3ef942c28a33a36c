"""The context object, the handler loader and the connection of ``bridge.runtime``."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout, suppress
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge import Bridge
from bridge.runtime.api import Invocation, next_request, parse_address
from bridge.runtime.arguments import handler_argument, parse_arguments
from bridge.runtime.client import BlockingConnection, Connection, Stopped
from bridge.runtime.command import _concurrency, main
from bridge.runtime.context import ContextError, LambdaContext
from bridge.runtime.http import Request
from bridge.runtime.loader import HandlerError, load_handler

ENVIRON = {
    "AWS_LAMBDA_FUNCTION_NAME": "fn",
    "AWS_LAMBDA_FUNCTION_VERSION": "3",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/07/[3]abc",
}


def invocation(
    *, client_context: str | None = None, identity: str | None = None, in_s: float = 60
) -> Invocation:
    return Invocation(
        request_id="id-1",
        deadline_ms=int((time.time() + in_s) * 1000),
        invoked_function_arn="arn:aws:lambda:us-east-1:1:function:fn",
        trace_id="Root=1-abc",
        client_context=client_context,
        cognito_identity=identity,
        tenant_id="tenant-1",
        content_type="application/json",
        body=b"{}",
    )


# -- The context ---------------------------------------------------------------------------------


def test_the_context_has_awslambdarics_attributes() -> None:
    context = LambdaContext(invocation(), ENVIRON)
    assert (
        context.aws_request_id,
        context.invoked_function_arn,
        context.function_name,
        context.function_version,
        context.memory_limit_in_mb,
        context.log_group_name,
        context.log_stream_name,
        context.tenant_id,
        context.trace_id,
        context.client_context,
        context.identity.cognito_identity_id,
        context.identity.cognito_identity_pool_id,
    ) == (
        "id-1",
        "arn:aws:lambda:us-east-1:1:function:fn",
        "fn",
        "3",
        "1024",
        "/aws/lambda/fn",
        "2026/12/07/[3]abc",
        "tenant-1",
        "Root=1-abc",
        None,
        None,
        None,
    )
    assert 55_000 < context.get_remaining_time_in_millis() <= 60_000


def test_client_context_and_identity_are_objects() -> None:
    client = {"client": {"app_title": "shop", "installation_id": "i"}, "custom": {"k": "v"}}
    identity = {"cognitoIdentityId": "cid", "cognitoIdentityPoolId": "pool"}
    context = LambdaContext(
        invocation(client_context=json.dumps(client), identity=json.dumps(identity)), ENVIRON
    )
    assert context.client_context is not None
    assert context.client_context.custom == {"k": "v"}
    assert context.client_context.env is None
    assert context.client_context.client is not None
    assert context.client_context.client.app_title == "shop"
    assert context.client_context.client.installation_id == "i"
    assert context.identity.cognito_identity_id == "cid"
    assert context.identity.cognito_identity_pool_id == "pool"


@pytest.mark.parametrize("text", ["not json", "[1, 2]"])
def test_a_bad_json_header_is_a_context_error_that_does_not_quote_it(text: str) -> None:
    with pytest.raises(ContextError, match="Lambda-Runtime-Client-Context") as caught:
        LambdaContext(invocation(client_context=text), ENVIRON)
    assert text not in str(caught.value)


def test_the_context_repr_shows_no_client_values() -> None:
    client = {"custom": {"token": "s3cr3t"}}
    context = LambdaContext(invocation(client_context=json.dumps(client)), ENVIRON)
    assert "s3cr3t" not in repr(context.client_context)
    assert "id-1" in repr(context)


def test_log_writes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    LambdaContext(invocation(), ENVIRON).log("line\n")
    assert capsys.readouterr().out == "line\n"


# -- The loader ----------------------------------------------------------------------------------


@pytest.fixture
def task_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder for handler modules, and sys.path/sys.modules restored after."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith("rt_"):
            del sys.modules[name]


WSGI_APP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def test_an_app_in_the_task_root_is_wrapped(task_root: Path) -> None:
    (task_root / "rt_wsgi.py").write_text(WSGI_APP)
    handler = load_handler("rt_wsgi.app", {"LAMBDA_TASK_ROOT": str(task_root)})
    assert isinstance(handler, Bridge)
    assert handler.interface == "wsgi"


def test_a_bridge_is_used_as_it_is(task_root: Path) -> None:
    (task_root / "rt_bridged.py").write_text(
        WSGI_APP + "\nfrom bridge import Bridge\nhandler = Bridge(app, source='http')\n"
    )
    (task_root / "rt_pkg").mkdir()
    (task_root / "rt_pkg" / "__init__.py").write_text("")
    (task_root / "rt_pkg" / "mod.py").write_text("from rt_bridged import handler\n")
    handler = load_handler("rt_pkg/mod.handler", {"LAMBDA_TASK_ROOT": str(task_root)})
    assert handler is sys.modules["rt_bridged"].handler


@pytest.mark.parametrize(
    ("spec", "error_type", "message"),
    [
        ("nodot", "Runtime.MalformedHandlerName", "must be 'module.attribute'"),
        (".handler", "Runtime.MalformedHandlerName", "must be 'module.attribute'"),
        ("rt_absent.handler", "Runtime.ImportModuleError", "Unable to import module 'rt_absent'"),
        ("rt_wsgi.nothing", "Runtime.HandlerNotFound", "'nothing' missing on module 'rt_wsgi'"),
        ("sys.handler", "Runtime.BuiltInModuleConflict", "built-in module"),
    ],
)
def test_bad_handler_settings(task_root: Path, spec: str, error_type: str, message: str) -> None:
    (task_root / "rt_wsgi.py").write_text(WSGI_APP)
    with pytest.raises(HandlerError, match=message) as caught:
        load_handler(spec, {"LAMBDA_TASK_ROOT": str(task_root)})
    assert caught.value.error_type == error_type


def test_a_missing_dependency_of_the_app_is_the_apps_own_error(task_root: Path) -> None:
    (task_root / "rt_needs.py").write_text("import rt_dependency_absent\n")
    with pytest.raises(ModuleNotFoundError, match="rt_dependency_absent"):
        load_handler("rt_needs.app", {"LAMBDA_TASK_ROOT": str(task_root)})


# -- Settings and the connection -----------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(None, 1), ("", 1), ("4", 4), (" 16 ", 16)])
def test_max_concurrency(value: str | None, expected: int) -> None:
    assert _concurrency(value) == expected


@pytest.mark.parametrize("value", ["0", "-2", "many", "1.5"])
def test_a_bad_max_concurrency_is_named(value: str) -> None:
    with pytest.raises(ValueError, match="AWS_LAMBDA_MAX_CONCURRENCY must be a whole number"):
        _concurrency(value)


def test_a_bad_runtime_api_address_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "no-port")
    with pytest.raises(SystemExit) as caught:
        main(["app.handler"])
    assert caught.value.code == 2
    assert "must be 'host:port'" in capsys.readouterr().err


@given(
    st.lists(st.sampled_from(["app.handler", "", "-", "-h", "--help", "--x", "a b"]), max_size=3)
)
def test_the_handler_argument_is_read_as_argparse_reads_it(argv: list[str]) -> None:
    def read(parse: Callable[[list[str]], str | None]) -> tuple[str, object]:
        try:
            return "handler", parse(argv)
        except SystemExit as exit:
            return "exit", exit.code

    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        assert read(handler_argument) == read(parse_arguments)


def test_help_is_argparses(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    assert "usage: python -m bridge.runtime [-h] [handler]" in capsys.readouterr().out


def test_addresses() -> None:
    assert parse_address("127.0.0.1:9001") == ("127.0.0.1", 9001)
    assert parse_address("[::1]:9001") == ("::1", 9001)


def test_a_connection_the_server_dropped_is_reopened() -> None:
    """A keep-alive connection closed by the server between two requests costs a reconnect,
    not a failure."""
    answer = (
        b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r\r\n"
        b"Lambda-Runtime-Deadline-Ms: 1\r\nContent-Length: 2\r\n\r\n{}"
    )

    async def scenario() -> tuple[int, int]:
        async def serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
            writer.close()  # without saying Connection: close

        server = await asyncio.start_server(serve_one, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        connection = Connection(f"127.0.0.1:{port}")
        try:
            statuses = [(await connection.exchange(next_request())).status for _ in range(2)]
        finally:
            connection.close()
            server.close()
            await server.wait_closed()
        assert statuses == [200, 200]
        return connection.opened, len(statuses)

    assert asyncio.run(asyncio.wait_for(scenario(), 10)) == (2, 2)


def test_writes_larger_than_the_write_buffer_wait_for_the_server_to_read_them() -> None:
    part = bytes(range(256)) * (32 * 1024)  # 8 MiB: the transport pauses the writer

    async def scenario() -> tuple[int, bytes]:
        received = asyncio.get_running_loop().create_future()
        reading = asyncio.Event()

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            await reading.wait()  # the client has filled its buffers by then
            received.set_result(await reader.readexactly(3 * len(part)))
            writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        connection = Connection(f"127.0.0.1:{server.sockets[0].getsockname()[1]}")

        async def post() -> int:
            # A request whose body follows the head in parts, as a stream's does.
            await connection.begin(Request("POST", "/r", (("Transfer-Encoding", "identity"),)))
            await connection.write(part)
            await connection.write(part)
            return (await connection.finish(part)).status

        try:
            posting = asyncio.create_task(post())
            await asyncio.sleep(0.05)
            assert not posting.done()  # waiting for the server to read
            reading.set()
            status = await posting
        finally:
            connection.close()
            server.close()
            await server.wait_closed()
        return status, await received

    status, received = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert status == 202
    assert received == part * 3


def test_a_connection_reset_before_the_answer_is_an_error() -> None:
    async def scenario() -> None:
        async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()  # RST, not FIN

        server = await asyncio.start_server(reset, "127.0.0.1", 0)
        connection = Connection(f"127.0.0.1:{server.sockets[0].getsockname()[1]}")
        try:
            with pytest.raises(ConnectionError):
                await connection.exchange(next_request())
        finally:
            connection.close()
            server.close()
            await server.wait_closed()

    asyncio.run(asyncio.wait_for(scenario(), 10))


NEXT_ANSWER = (
    b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r\r\n"
    b"Lambda-Runtime-Deadline-Ms: 1\r\nContent-Length: 2\r\n\r\n{}"
)


@contextmanager
def one_answer_per_connection() -> Iterator[str]:
    """A server that answers one request per connection, then closes it
    (without saying so): the address."""

    def serve(listener: socket.socket) -> None:
        with suppress(OSError):
            while True:
                accepted, _ = listener.accept()
                with accepted:
                    accepted.settimeout(10)
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += accepted.recv(4096)
                    accepted.sendall(NEXT_ANSWER)

    with socket.create_server(("127.0.0.1", 0)) as listener:
        thread = threading.Thread(target=serve, args=(listener,), daemon=True)
        thread.start()
        try:
            yield f"127.0.0.1:{listener.getsockname()[1]}"
        finally:
            listener.shutdown(socket.SHUT_RDWR)
    thread.join(10)


def test_a_blocking_connection_the_server_dropped_is_reopened() -> None:
    with one_answer_per_connection() as address:
        connection = BlockingConnection(address)
        try:
            statuses = [connection.exchange(next_request()).status for _ in range(2)]
        finally:
            connection.close()
    assert (statuses, connection.opened) == ([200, 200], 2)


def test_stop_ends_a_blocking_wait_for_an_invocation() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        connection = BlockingConnection(f"127.0.0.1:{listener.getsockname()[1]}")
        outcome: list[BaseException] = []

        def wait() -> None:
            try:
                connection.exchange(next_request(), interruptible=True)
            except BaseException as exc:
                outcome.append(exc)

        waiting = threading.Thread(target=wait)
        waiting.start()
        listener.settimeout(10)
        accepted, _ = listener.accept()  # the request is sent: the thread waits for the answer
        with accepted:
            accepted.settimeout(10)
            accepted.recv(4096)
            connection.stop()
            waiting.join(10)
        assert not waiting.is_alive()
        assert [type(exc) for exc in outcome] == [Stopped]
        with pytest.raises(Stopped):  # and any later wait
            connection.exchange(next_request(), interruptible=True)
