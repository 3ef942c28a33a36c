"""The invoker keeps Lambda's rules: one thread, JSON round trips, 6 MB, the timeout."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bridge.local.invoker import (
    MAX_PAYLOAD_BYTES,
    EnvironmentBusy,
    FunctionError,
    Invoker,
    PayloadTooLarge,
    ResponseNotJSON,
    TimedOut,
)


class Context:
    def __init__(self, request_id: str, timeout_ms: int) -> None:
        self.aws_request_id = request_id
        self.timeout_ms = timeout_ms


def make_context(request_id: str, timeout_ms: int) -> Context:
    return Context(request_id, timeout_ms)


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """An event a blocking handler waits on; always set at teardown so the worker ends."""
    event = threading.Event()
    yield event
    event.set()


def run(handler: Any, event: Any, timeout: float = 10.0) -> Any:
    with Invoker(handler, timeout=timeout, make_context=make_context) as invoker:
        return invoker.invoke(event)


def test_result_and_context_after_a_json_round_trip() -> None:
    seen: list[Any] = []

    def handler(event: Any, context: Context) -> Any:
        seen.append((event, context.aws_request_id, context.timeout_ms))
        seen.append(threading.current_thread().name)
        return {"statusCode": 200, "tuple": (1, 2)}

    assert run(handler, {"k": ("v",)}, timeout=2.5) == {"statusCode": 200, "tuple": [1, 2]}
    [(event, request_id, timeout_ms), thread] = seen
    assert event == {"k": ["v"]}
    assert len(request_id) == 36
    assert timeout_ms == 2500
    assert thread == "bridge-local-invoker"


def test_every_invocation_runs_on_the_same_thread() -> None:
    threads: set[int] = set()

    def handler(event: Any, context: Context) -> None:
        threads.add(threading.get_ident())

    with Invoker(handler, timeout=10, make_context=make_context) as invoker:
        callers = [threading.Thread(target=invoker.invoke, args=({},)) for _ in range(4)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
    assert len(threads) == 1


def test_a_raising_handler_is_a_function_error_in_lambdas_shape() -> None:
    def handler(event: Any, context: Context) -> None:
        raise KeyError("missing")

    with pytest.raises(FunctionError) as caught:
        run(handler, {})
    payload = caught.value.payload()
    assert payload["errorType"] == "KeyError"
    assert payload["errorMessage"] == "'missing'"
    assert payload["requestId"] == caught.value.request_id
    assert len(payload["stackTrace"]) == 1
    assert 'raise KeyError("missing")' in payload["stackTrace"][0]


def test_a_result_that_is_not_json_is_a_marshal_error() -> None:
    with pytest.raises(ResponseNotJSON, match="Unable to marshal response") as caught:
        run(lambda event, context: {"body": b"bytes"}, {})
    assert caught.value.error_type == "Runtime.MarshalError"


def test_an_event_over_6_mb_never_reaches_the_handler() -> None:
    calls: list[Any] = []
    event = {"body": "x" * MAX_PAYLOAD_BYTES}
    with pytest.raises(PayloadTooLarge) as caught:
        run(lambda e, c: calls.append(e), event)
    assert caught.value.error_type == "RequestEntityTooLarge"
    assert f"({MAX_PAYLOAD_BYTES + 12} bytes)" in caught.value.message
    assert calls == []


def test_a_result_over_6_mb_is_an_error() -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        run(lambda e, c: "x" * MAX_PAYLOAD_BYTES, {})
    assert caught.value.error_type == "Function.ResponseSizeTooLarge"


def test_a_result_of_exactly_6_mb_passes() -> None:
    result = run(lambda e, c: "x" * (MAX_PAYLOAD_BYTES - 2), {})  # 2 quotes make 6 MB
    assert len(result) == MAX_PAYLOAD_BYTES - 2


def test_timeout_then_busy_until_the_stuck_invocation_returns(
    release: threading.Event,
) -> None:
    def handler(event: Any, context: Context) -> str:
        if event == "block":
            release.wait()
        return "done"

    with Invoker(handler, timeout=0.2, make_context=make_context) as invoker:
        with pytest.raises(TimedOut, match=r"Task timed out after 0\.20 seconds"):
            invoker.invoke("block")
        with pytest.raises(EnvironmentBusy, match="timed out and is still running"):
            invoker.invoke("quick")
        release.set()
        # Once the stuck invocation returns, the environment takes work again.
        while True:
            try:
                assert invoker.invoke("quick") == "done"
                break
            except EnvironmentBusy:
                release.wait(0.01)


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        Invoker(lambda e, c: None, timeout=0, make_context=make_context)
