"""A streamed ``/response``: the :class:`~bridge.types.ResponseStream`
that ``bridge.runtime`` gives the streamed sink of a streaming invocation.

The framing (prelude, chunks, error trailers) is :mod:`bridge.runtime.framing`;
this class only sends it on the worker's connection, chunk by chunk, as the
application sends its body.

The end of the stream (the last chunk, then the Runtime API's answer) runs
in a task of its own, :attr:`RuntimeStream.ended`, that the application's
cancellation cannot interrupt (Starlette cancels its response task once the
response is complete): an answer left unread would be taken for the answer
to the next request on the connection.  The worker awaits it before it asks
for the next invocation.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bridge._log import get_logger
from bridge.runtime.api import exception_error
from bridge.runtime.client import Connection
from bridge.runtime.framing import chunk, last_chunk, prelude, stream_request

if TYPE_CHECKING:  # annotations only: bridge.types is not loaded at run time
    from bridge.types import TextHeaders

__all__ = ["RuntimeStream"]

logger = get_logger("bridge.runtime")


class RuntimeStream:
    """The streamed answer to invocation ``request_id``, on ``connection``."""

    __slots__ = ("_connection", "_request_id", "ended")

    def __init__(self, connection: Connection, request_id: str) -> None:
        self._connection = connection
        self._request_id = request_id
        #: The end of the stream, once begun.
        self.ended: asyncio.Task[None] | None = None

    async def start(self, status: int, headers: TextHeaders) -> None:
        await self._connection.begin(stream_request(self._request_id))
        await self._connection.write(chunk(prelude(status, headers)))

    async def write(self, data: bytes) -> None:
        await self._connection.write(chunk(data))

    async def end(self, error: BaseException | None) -> None:
        self.ended = asyncio.get_running_loop().create_task(self._end(error))
        await asyncio.shield(self.ended)

    async def _end(self, error: BaseException | None) -> None:
        # The error was logged where it happened (the HTTP cycle, the WSGI call).
        response = await self._connection.finish(
            last_chunk(None if error is None else exception_error(error))
        )
        if response.status != 202:
            logger.error(
                "The Runtime API refused the streamed answer to invocation %s: %d %s",
                self._request_id,
                response.status,
                response.body[:200],
            )
