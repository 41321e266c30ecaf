"""ISO 8601 in and out, the way Klaviyo writes timestamps (`2024-05-01T10:20:30+00:00`)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(ts: float) -> str:
    """Seconds since the epoch -> `YYYY-MM-DDTHH:MM:SS+00:00` (microseconds when present)."""
    return datetime.fromtimestamp(ts, UTC).isoformat()


def parse_iso(text: str) -> float:
    """An ISO 8601 date or date-time -> seconds since the epoch; naive means UTC."""
    t = text.strip()
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    dt = datetime.fromisoformat(t)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()
