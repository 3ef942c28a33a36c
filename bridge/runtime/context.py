"""The context object handed to the handler, as awslambdaric builds it.

:class:`LambdaContext` has the attributes and methods of
``awslambdaric.lambda_context.LambdaContext`` (the object the managed
Python runtimes pass), so code written for those runs unchanged, plus
``trace_id``: the X-Ray header of this invocation, which is the one to read
when several invocations run at once (``_X_AMZN_TRACE_ID`` is process-wide).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from bridge.runtime.api import Invocation

__all__ = ["Client", "ClientContext", "CognitoIdentity", "ContextError", "LambdaContext"]


class ContextError(ValueError):
    """A ``Lambda-Runtime-*`` header is not the JSON it must be."""


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        document = document or {}
        self.cognito_identity_id: str | None = document.get("cognitoIdentityId")
        self.cognito_identity_pool_id: str | None = document.get("cognitoIdentityPoolId")

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )

    def __init__(self, document: dict[str, Any]) -> None:
        self.installation_id: str | None = document.get("installation_id")
        self.app_title: str | None = document.get("app_title")
        self.app_version_name: str | None = document.get("app_version_name")
        self.app_version_code: str | None = document.get("app_version_code")
        self.app_package_name: str | None = document.get("app_package_name")

    def __repr__(self) -> str:
        return f"Client([app_title={self.app_title}])"


class ClientContext:
    __slots__ = ("client", "custom", "env")

    def __init__(self, document: dict[str, Any]) -> None:
        client = document.get("client")
        self.client: Client | None = Client(client) if isinstance(client, dict) else None
        self.custom: Any = document.get("custom")
        self.env: Any = document.get("env")

    def __repr__(self) -> str:
        # Only the keys: custom and env may carry what the caller considers private.
        custom = sorted(self.custom) if isinstance(self.custom, dict) else self.custom
        return f"ClientContext([custom keys={custom},client={self.client}])"


class LambdaContext:
    """The context of one invocation."""

    __slots__ = (
        "_deadline_ms",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "tenant_id",
        "trace_id",
    )

    def __init__(self, invocation: Invocation, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.aws_request_id = invocation.request_id
        self.invoked_function_arn = invocation.invoked_function_arn
        self.tenant_id = invocation.tenant_id
        self.trace_id = invocation.trace_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        #: A string, as awslambdaric has it.
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self._deadline_ms = invocation.deadline_ms
        client_context = _json(invocation.client_context, "Lambda-Runtime-Client-Context")
        self.client_context = None if client_context is None else ClientContext(client_context)
        self.identity = CognitoIdentity(
            _json(invocation.cognito_identity, "Lambda-Runtime-Cognito-Identity")
        )

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the invocation times out, 0 once it has."""
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg: object) -> None:
        """Write ``msg`` to the function's log (standard output)."""
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"function_name={self.function_name},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"tenant_id={self.tenant_id}])"
        )


def _json(text: str | None, header: str) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ContextError(f"{header} is not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ContextError(f"{header} must be a JSON object, got {type(document).__name__}")
    return document
