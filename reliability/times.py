"""Points in time as the commands take them: ISO 8601 / RFC 3339, UTC unless an offset is given."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_instant(text: str) -> datetime:
    """`2026-11-01` (midnight UTC), `2026-11-01T10:00:00Z` or one with an offset; ValueError otherwise.

    Callers word the error for their own flag or field: the text alone does not say where it came from.
    """
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
