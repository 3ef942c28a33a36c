"""The one rule for bridge's small lookup tables (a header name's environ
key, a status line's code): a plain ``dict``, read directly and filled by
:func:`remember`, which empties it once it holds ``limit`` entries.  The keys
come from clients and applications, so every table is bounded; emptying it
(rather than refusing new entries) keeps old keys from crowding out new ones.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without loading typing (see bridge/__init__.py)
if TYPE_CHECKING:
    from typing import TypeVar

    K = TypeVar("K")
    V = TypeVar("V")

LIMIT = 512


def remember(table: dict[K, V], key: K, value: V, limit: int = LIMIT) -> V:
    """Store ``value`` under ``key`` (emptying a full table first); return ``value``."""
    if len(table) >= limit:
        table.clear()
    table[key] = value
    return value
