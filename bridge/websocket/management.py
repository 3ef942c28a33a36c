"""Clients of the API Gateway Management API, which sends to WebSocket clients.

A WebSocket API's function cannot answer a message on the connection itself:
everything the application sends goes through the Management API of the
stage, ``POST {endpoint}/@connections/{id}`` (send) and ``DELETE`` (close).
The endpoint is ``https://{domainName}/{stage}``, taken from each event, or a
fixed one given as ``Bridge(app, websocket_endpoint=...)``.

:class:`Boto3ManagementClient` is the real client (boto3, signed requests;
``pip install 'bridge-lambda[websockets]'``).  :class:`HTTPManagementClient` sends
unsigned requests with the standard library and only to a loopback address:
it is meant for a local emulator of the WebSocket API.  Any object with the
two methods of :class:`ManagementClient` can be used instead, for example one
that writes straight to a local server's sockets.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import quote, urlsplit

from bridge.websocket.errors import (
    ConnectionGoneError,
    ManagementAPIError,
    MissingDependencyError,
    WebSocketConfigurationError,
)

if TYPE_CHECKING:
    from types_boto3_apigatewaymanagementapi.client import ApiGatewayManagementApiClient


_EXECUTE_API = re.compile(r"^[^.]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


@runtime_checkable
class ManagementClient(Protocol):
    """Sends to and closes WebSocket connections of one API stage.

    Both methods block.  ``post_to_connection`` raises
    :class:`~bridge.websocket.errors.ConnectionGoneError` when the connection
    no longer exists; ``delete_connection`` of a gone connection does nothing.
    """

    def post_to_connection(self, connection_id: str, data: bytes) -> None: ...

    def delete_connection(self, connection_id: str) -> None: ...


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def client_for(endpoint_url: str) -> ManagementClient:
    """The client for ``endpoint_url``: boto3 when installed, else the plain
    HTTP client for a loopback endpoint."""
    try:
        return Boto3ManagementClient(endpoint_url)
    except MissingDependencyError:
        if is_loopback(endpoint_url):
            return HTTPManagementClient(endpoint_url)
        raise


class Boto3ManagementClient:
    """The Management API through boto3 (``apigatewaymanagementapi``)."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        region: str | None = None,
        client: ApiGatewayManagementApiClient | None = None,
    ) -> None:
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError:
            raise MissingDependencyError(
                "Sending to WebSocket clients through the API Gateway Management API",
                "boto3",
                "websockets",
            ) from None
        self.endpoint_url = endpoint_url
        self._errors: tuple[type[Exception], ...] = (BotoCoreError, ClientError)
        if client is None:
            client = boto3.client(
                "apigatewaymanagementapi",
                endpoint_url=endpoint_url,
                region_name=region or _region_of(endpoint_url),
                config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}),
            )
        self._client = client

    def __repr__(self) -> str:
        return f"Boto3ManagementClient({self.endpoint_url!r})"

    def post_to_connection(self, connection_id: str, data: bytes) -> None:
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except self._errors as exc:
            if _code(exc) == "GoneException":
                raise ConnectionGoneError(connection_id) from exc
            raise self._failed("send to", connection_id, exc) from exc

    def delete_connection(self, connection_id: str) -> None:
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except self._errors as exc:
            if _code(exc) == "GoneException":
                return
            raise self._failed("close", connection_id, exc) from exc

    def _failed(self, action: str, connection_id: str, exc: Exception) -> ManagementAPIError:
        code = _code(exc)
        if code in ("ForbiddenException", "AccessDeniedException"):
            remedy = (
                "Allow the function's role execute-api:ManageConnections on "
                "arn:aws:execute-api:REGION:ACCOUNT:API_ID/STAGE/POST/@connections/*."
            )
        else:
            remedy = (
                "Check the endpoint: it must be https://{domainName}/{stage} of the "
                "WebSocket API, or the one given as websocket_endpoint."
            )
        return ManagementAPIError(
            f"Management API at {self.endpoint_url} failed to {action} connection "
            f"{connection_id!r}: {type(exc).__name__}: {exc}. {remedy}"
        )

    def close(self) -> None:
        self._client.close()


class HTTPManagementClient:
    """Unsigned Management API requests to a local emulator (loopback only)."""

    def __init__(self, endpoint_url: str, *, timeout: float = 10.0) -> None:
        scheme = urlsplit(endpoint_url).scheme
        if scheme not in ("http", "https") or not is_loopback(endpoint_url):
            raise WebSocketConfigurationError(
                f"HTTPManagementClient sends unsigned requests, so it only talks to a local "
                f"emulator on a loopback address (http://127.0.0.1:PORT); got "
                f"{endpoint_url!r}. For API Gateway itself install boto3: "
                "pip install 'bridge-lambda[websockets]'."
            )
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"HTTPManagementClient({self.endpoint_url!r})"

    def _call(self, method: str, connection_id: str, data: bytes | None) -> int:
        import urllib.error
        import urllib.request

        url = f"{self.endpoint_url}/@connections/{quote(connection_id, safe='')}"
        request = urllib.request.Request(url, data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as exc:
            with exc:
                exc.read()
            if exc.code == 410:
                return 410
            raise ManagementAPIError(
                f"Management API at {self.endpoint_url} answered {method} for connection "
                f"{connection_id!r} with HTTP {exc.code}. Check the local emulator."
            ) from exc
        except OSError as exc:
            raise ManagementAPIError(
                f"Management API at {self.endpoint_url} is unreachable ({exc}). Check that "
                "the local emulator is running and websocket_endpoint points at it."
            ) from exc

    def post_to_connection(self, connection_id: str, data: bytes) -> None:
        if self._call("POST", connection_id, data) == 410:
            raise ConnectionGoneError(connection_id)

    def delete_connection(self, connection_id: str) -> None:
        self._call("DELETE", connection_id, None)


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _region_of(endpoint_url: str) -> str:
    """The region in an execute-api host name, else the function's region."""
    match = _EXECUTE_API.match(urlsplit(endpoint_url).hostname or "")
    if match:
        return match.group(1)
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
