"""A function whose import fails, as one does when a setting is missing."""

from __future__ import annotations

raise RuntimeError("DATABASE_URL is not set")
