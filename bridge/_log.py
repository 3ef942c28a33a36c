"""Loggers that import :mod:`logging` only when something is logged.

``import logging`` costs several milliseconds in a fresh interpreter (it
pulls in ``re``, ``enum``, ``traceback``, ``threading`` and more), and bridge
logs only on the unusual paths: a rejected event, an unsafe response, a
failing lifespan.  A cold start that never logs should not pay for it.

:func:`get_logger` returns a stand-in whose attributes are those of
``logging.getLogger(name)``, looked up on first use.  The real logger is the
one every ``logging`` configuration addresses by name, so handlers, levels,
``propagate``, pytest's ``caplog`` and ``logging.config`` all apply
unchanged.  ``logger.warning(...)`` resolves to the real logger's bound
method and is called from the caller's own frame, so the record's
``funcName`` and ``lineno`` are the caller's, not this module's.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    import logging
    from typing import Any

__all__ = ["get_logger"]


class _LazyLogger:
    __slots__ = ("_logger", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: logging.Logger | None = None

    def __getattr__(self, attribute: str) -> Any:
        # Only reached for names the stand-in lacks, i.e. the Logger's own.
        logger = self._logger
        if logger is None:
            import logging

            logger = self._logger = logging.getLogger(self._name)
        return getattr(logger, attribute)

    def __repr__(self) -> str:
        return f"<lazy logger {self._name!r}>"


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)``, but without importing ``logging`` until
    the logger is first used.

    The return type says ``Logger`` so that calls are type-checked as calls
    on a real logger; the object is a stand-in that forwards attribute reads
    (not writes: configure the logger through ``logging.getLogger(name)``).
    """
    return _LazyLogger(name)  # type: ignore[return-value]
