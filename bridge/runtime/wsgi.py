"""WSGI apps under ``bridge.runtime``: the response posted before ``close()``.

A WSGI app's work after its response is the ``close()`` of the iterable it
returns (Flask's teardown callbacks and ``call_on_close`` run there).  Under
the runtime, the response is posted first and ``close()`` runs after, on the
same worker thread pool, before the worker asks for the next invocation:

* buffered: :class:`DeferredClose` wraps the app for the one call, so that
  bridge's usual WSGI call (:func:`bridge.wsgi.response.respond`) collects
  the response without closing it; :meth:`DeferredClose.close` runs later.
* streamed: :func:`stream_response` sends each item of the iterable to the
  streamed sink (:class:`bridge.response.StreamSink`) as the app produces it, with the same checks
  (:class:`~bridge.wsgi.response.WSGIResponse`), then closes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any

from bridge._log import get_logger
from bridge.errors import ProtocolError
from bridge.response import StreamSink, request_line
from bridge.types import WSGIApp
from bridge.wsgi.response import NEW, WSGIResponse

__all__ = ["DeferredClose", "stream_response"]

logger = get_logger("bridge.wsgi")


class DeferredClose:
    """``app`` for one call, the ``close()`` of its iterable kept for :meth:`close`."""

    __slots__ = ("_app", "_close")

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self._close: Callable[[], object] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        result = self._app(environ, start_response)
        close = getattr(result, "close", None)
        if close is None:
            return result
        self._close = close
        return _Unclosed(result)

    @property
    def pending(self) -> bool:
        """Whether the iterable has a ``close()`` still to run."""
        return self._close is not None

    def close(self) -> None:
        """Run the iterable's ``close()``; an exception is logged (the response stands)."""
        close, self._close = self._close, None
        if close is not None:
            _close(close)


class _Unclosed:
    """The app's iterable, without its ``close()``."""

    __slots__ = ("_result",)

    def __init__(self, result: Iterable[bytes]) -> None:
        self._result = result

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._result)


def _close(close: Callable[[], object]) -> None:
    try:
        close()
    except Exception as exc:
        logger.error(
            "Exception in close() of the WSGI response iterable, after the response was "
            "posted; the response stands.",
            exc_info=exc,
        )


def stream_response(
    app: WSGIApp,
    environ: dict[str, Any],
    sink: StreamSink,
    loop: asyncio.AbstractEventLoop,
) -> None:
    """Call ``app`` on this (worker) thread and stream its response to
    ``sink``, each item of its iterable as it comes; then close the iterable.

    The status can change until the first body bytes (generator apps call
    ``start_response`` late); an error after them ends the stream with the
    error.  Errors of the stream itself (the connection) are raised.
    """

    def send(step: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(step, loop).result()

    response = WSGIResponse()
    result: object = None
    started = False
    try:
        try:
            result = app(environ, response.start_response)
            if isinstance(result, (str, bytes, bytearray)):
                raise ProtocolError(
                    "Expected the WSGI application to return an iterable of bytes, got "
                    f"{type(result).__name__}; return [body] instead."
                )
            for item in result:
                response.add(item)
                if response.chunks:
                    data = b"".join(response.chunks)
                    response.chunks = []
                    if not started:
                        started = True
                        send(sink.start(response.status, response.headers))
                    send(sink.write(data))
                if response.remaining == 0:
                    break
            if response.state is NEW:
                raise ProtocolError(
                    "WSGI application returned without calling start_response(); expected "
                    "start_response(status, headers) before the end of the response iterable."
                )
        except (OSError, ConnectionError):
            raise
        except Exception as exc:
            logger.error(
                "Exception in WSGI application (%s, %s); %s.",
                request_line(environ),
                response.state,
                "ending the stream with the error" if started else "answering 500",
                exc_info=exc,
            )
            if started:
                send(sink.end(exc))
                return
            response.fail()
        if not started:
            send(sink.start(response.status, response.headers))
        send(sink.write(b"".join(response.chunks)))
        send(sink.end(None))
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            _close(close)
