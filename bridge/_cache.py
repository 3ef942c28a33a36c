"""The one rule for bridge's small lookup tables.

Some answers are worked out from values that recur from one request to the
next (a header name's environ key, a status line's code).  Such a table is a
plain ``dict`` read with ``table.get(key)`` or ``table[key]``; new answers are
stored with :func:`remember`, which starts the table afresh once it holds
``limit`` entries.  The values come from clients and applications, so every
table is bounded, and the ones in use today are not crowded out by old ones.
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
