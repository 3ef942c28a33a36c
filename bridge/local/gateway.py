"""The local stand-in for the AWS service in front of a function: HTTP request -> event ->
handler -> HTTP response.

Each HTTP request becomes one event of the chosen source (:mod:`bridge.local.events` shapes it
exactly as the AWS service would), the handler runs in an :class:`~bridge.local.invoker.Invoker`
(one worker thread, Lambda's timeout and 6 MB limits), and its result goes back out as HTTP the
way that service does it (:mod:`bridge.local.responses`), whole or, for a streaming function, as
it comes (:mod:`bridge.local.streaming`). The HTTP servers that feed it are in
:mod:`bridge.local.server`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from bridge._log import get_logger
from bridge.local.events import build_event
from bridge.local.invoker import (
    MAX_PAYLOAD_BYTES,
    EnvironmentBusy,
    FunctionError,
    InvocationError,
    Invoker,
    PayloadTooLarge,
    TimedOut,
)
from bridge.local.responses import (
    HTTPResponse,
    InvalidResponseError,
    read_response,
    relayed_headers,
)
from bridge.local.streaming import LocalStream, StreamSink

__all__ = [
    "Gateway",
    "LocalRequest",
    "canonical_header_name",
    "error_response",
    "outgoing_headers",
]

logger = get_logger("bridge.local")


@dataclass(frozen=True)
class LocalRequest:
    """One HTTP request as it arrived: the target still percent-encoded, headers in order."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    client: tuple[str, int]
    server: tuple[str, int]
    http_version: str = "1.1"

    def target(self) -> str:
        return self.path + ("?" + self.query if self.query else "")

    def host_and_port(self) -> tuple[str, int]:
        """Where the client sent the request: the Host header, else the listening address."""
        host = next((v for k, v in self.headers if k.lower() == "host"), "")
        try:
            parts = urlsplit("//" + host)
            if parts.hostname:
                return parts.hostname, parts.port or self.server[1]
        except ValueError:
            pass
        return self.server


class Gateway:
    """Plays the AWS service: HTTP request -> event -> handler -> HTTP response.

    ``stage``: requests come through the API's own URL, ``/STAGE/...``, as to
    ``https://ID.execute-api.REGION.amazonaws.com/STAGE``; the events carry the stage as API
    Gateway's do. ``base_path``: requests come through a custom domain whose base path
    mapping is ``/BASE``; the events carry the whole path, as API Gateway's do, and the
    handler must be told (``api_gateway_base_path``). Other paths are answered 404 here.

    ``streaming``: the handler is a Bridge with ``invoke_mode="RESPONSE_STREAM"`` and the
    source one that streams; the servers then call :meth:`stream` instead of :meth:`respond`.
    """

    def __init__(
        self,
        invoker: Invoker,
        source: str,
        *,
        stage: str | None = None,
        base_path: str = "",
        streaming: bool = False,
    ) -> None:
        self.invoker = invoker
        self.source = source
        self.stage = stage
        self.streaming = streaming
        #: What every path must start with.
        self.prefix = f"/{stage}" if stage else base_path

    def respond(self, request: LocalRequest, body_size: int | None = None) -> HTTPResponse:
        """Answer one request, and write its access-log line.

        ``body_size``, when given, is the size of a body too large to have been read whole.
        """
        started = time.perf_counter()
        if body_size is not None and body_size > MAX_PAYLOAD_BYTES:
            response = self._failed(request, PayloadTooLarge("Request", body_size))
        else:
            response = self._respond(request)
        _log_access(request, response.status, len(response.body), started)
        return response

    def stream(self, request: LocalRequest, sink: StreamSink, body_size: int | None = None) -> None:
        """Answer one request on ``sink`` as the function streams it, and write its
        access-log line once the invocation is over.

        The head and each chunk reach ``sink`` as the app sends them. A failure before the
        head is the gateway's own error response, as in :meth:`respond`; one after it (the
        app raised, the timeout) ends the response as failed: the client sees the
        connection end before the body does, as on AWS.
        """
        started = time.perf_counter()
        stream = LocalStream(sink)
        response: HTTPResponse | None = None
        try:
            if body_size is not None and body_size > MAX_PAYLOAD_BYTES:
                response = self._failed(request, PayloadTooLarge("Request", body_size))
            else:
                event = self._event(request)
                if isinstance(event, HTTPResponse):
                    response = event
                else:
                    result = self.invoker.invoke(event, stream=stream)
                    if result is not None:  # answered buffered (an event it does not stream)
                        response = read_response(self.source, result)
        except (InvocationError, InvalidResponseError) as exc:
            if stream.started:
                logger.error(
                    "%s %s: the invocation failed after the response began (%s); the "
                    "connection is closed before the end of the body, as AWS does",
                    request.method,
                    request.target(),
                    exc.error_type if isinstance(exc, InvocationError) else "malformed response",
                )
            else:
                response = self._failed(request, exc)
        if stream.error is not None:
            logger.error(
                "%s %s: the function failed after the response began (%s); the connection is "
                "closed before the end of the body, as AWS does",
                request.method,
                request.target(),
                type(stream.error).__name__,
            )
        if not stream.started and response is None:
            response = error_response(HTTPStatus.BAD_GATEWAY, "the function sent no response")
        if response is not None:
            headers = outgoing_headers(response, request.method)
            response = HTTPResponse(response.status, headers, response.body, response.reason)
        stream.finish(response)
        _log_access(request, stream.status, stream.sent, started, " (streamed)")

    def _respond(self, request: LocalRequest) -> HTTPResponse:
        event = self._event(request)
        if isinstance(event, HTTPResponse):
            return event
        try:
            result = self.invoker.invoke(event)
            return read_response(self.source, result)
        except (InvocationError, InvalidResponseError) as exc:
            return self._failed(request, exc)

    def _event(self, request: LocalRequest) -> dict[str, Any] | HTTPResponse:
        """The event for ``request``, or the 404 for a path outside the stage or base path."""
        path = request.path
        if self.prefix:
            if path != self.prefix and not path.startswith(self.prefix + "/"):
                where = f"stage {self.stage!r}" if self.stage else f"base path {self.prefix!r}"
                return error_response(
                    HTTPStatus.NOT_FOUND,
                    f"this API is served under its {where}: request {self.prefix}/... "
                    f"instead of {path}",
                )
            if self.stage:
                path = path[len(self.prefix) :] or "/"  # build_event puts the stage back
        host, port = request.host_and_port()
        return build_event(
            self.source,
            method=request.method,
            path=path,
            stage=self.stage,
            query=request.query,
            headers=request.headers,
            body=request.body,
            # Plain HTTP on a local port, so that redirects and absolute URLs the app makes
            # lead back here; AWS would say https on 443.
            scheme="http",
            host=host,
            port=port,
            source_ip=request.client[0],
        )

    def _failed(self, request: LocalRequest, exc: Exception) -> HTTPResponse:
        """The gateway's own answer when there is no usable Lambda response."""
        where = f"{request.method} {request.target()}"
        status = HTTPStatus.BAD_GATEWAY
        if isinstance(exc, FunctionError):
            logger.error("%s: the function raised:\n%s", where, exc.formatted.rstrip())
            return error_response(status, f"the function raised {exc.error_type}: {exc}")
        if isinstance(exc, InvalidResponseError):
            detail = f"malformed Lambda response: {exc}"
        elif isinstance(exc, InvocationError):
            detail = f"{exc.error_type}: {exc.message}"
            if exc.error_type == "RequestEntityTooLarge":
                status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            elif isinstance(exc, TimedOut):
                status = HTTPStatus.GATEWAY_TIMEOUT
            elif isinstance(exc, EnvironmentBusy):
                status = HTTPStatus.SERVICE_UNAVAILABLE
        else:
            raise exc
        logger.error("%s: %s", where, detail)
        return error_response(status, detail)


def _log_access(
    request: LocalRequest, status: int, size: int, started: float, note: str = ""
) -> None:
    """The access-log line of one request: ``size`` body bytes sent, since ``started``."""
    logger.info(
        '%s:%d "%s %s HTTP/%s" %d %d %.1fms%s',
        request.client[0],
        request.client[1],
        request.method,
        request.target(),
        request.http_version,
        status,
        size,
        (time.perf_counter() - started) * 1000,
        note,
    )


def error_response(status: HTTPStatus, detail: str) -> HTTPResponse:
    """A response made by the local gateway itself (AWS would send a terser one)."""
    body = f"{status.value} {status.phrase}: {detail}\n".encode()
    return HTTPResponse(int(status), [("content-type", "text/plain; charset=utf-8")], body)


def outgoing_headers(response: HTTPResponse, method: str) -> list[tuple[str, str]]:
    """The headers to send: :func:`~bridge.local.responses.relayed_headers` plus
    Content-Length."""
    headers = relayed_headers(response.headers)
    length = str(len(response.body))
    if method == "HEAD":
        # A HEAD response has no body; keep the length the function announced for GET.
        announced = [v for k, v in response.headers if k.lower() == "content-length"]
        length = announced[0] if announced else length
    headers.append(("content-length", length))
    return headers


def canonical_header_name(name: str) -> str:
    """``content-type`` -> ``Content-Type``: the casing clients use on the wire.

    uvicorn hands over header names lowercased (ASGI requires it); sources that keep the
    client's casing then see the conventional one.
    """
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))
