"""Loggers that import :mod:`logging` only when something is logged.

``import logging`` costs milliseconds at a cold start, and bridge logs only
on unusual paths.  :func:`get_logger` returns a stand-in that forwards every
attribute read to ``logging.getLogger(name)``, looked up on first use: the
real logger, so handlers, levels, ``caplog`` and ``logging.config`` apply,
and a record's ``funcName`` and ``lineno`` are the caller's.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    import logging
    from typing import Any


class _LazyLogger:
    __slots__ = ("_logger", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: logging.Logger | None = None

    def __getattr__(self, attribute: str) -> Any:
        logger = self._logger
        if logger is None:
            import logging

            logger = self._logger = logging.getLogger(self._name)
        return getattr(logger, attribute)

    def __repr__(self) -> str:
        return f"<lazy logger {self._name!r}>"


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)``, without importing ``logging`` until the
    logger is first used.  Typed as a ``Logger`` for its calls; attribute
    writes do not reach it (configure ``logging.getLogger(name)``)."""
    return _LazyLogger(name)  # type: ignore[return-value]
