"""What the engine publishes: immutable progress snapshots and one final result."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from engage_desktop.core.runs import RUN_COUNTS


@dataclass(frozen=True)
class SyncProgress:
    """A snapshot of a running sync (render it; never diff it)."""

    run_id: int
    phase: str  # planning | fetching | committing | pushing opt-outs
    lists_done: int
    lists_total: int
    fetched: int
    expected: int | None
    rate: float  # profiles per second
    eta_s: float | None
    requests: int
    throttled: int
    issues: int
    current_list: str | None = None
    # Each source's part: {"KLAVIYO": [fetched, expected or None], "MAILJET": […]}
    sources: dict[str, list[int | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class SyncResult:
    """How a run ended."""

    run_id: int
    status: str  # succeeded | failed | cancelled
    trigger: str
    full: bool
    counts: dict[str, int] = field(default_factory=dict)
    issues: int = 0
    duration_s: float = 0.0
    suspicious: str | None = None
    error: str | None = None
    # Each source's part: {"KLAVIYO": {status, full, the count keys, issues, …}, …}
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "status": self.status,
            "trigger": self.trigger,
            "full": self.full,
            **{k: self.counts.get(k, 0) for k in RUN_COUNTS},
            "issues": self.issues,
            "duration_s": round(self.duration_s, 2),
            "suspicious": self.suspicious,
            "error": self.error,
            "sources": self.sources,
        }
        return out


@dataclass(frozen=True)
class SyncRefused:
    """A run that could not start: another one holds the lock, or nothing to sync with."""

    reason: str
    kind: str  # locked | config


Event = SyncProgress | SyncResult | SyncRefused
_KINDS: dict[str, type[SyncProgress] | type[SyncResult] | type[SyncRefused]] = {
    "progress": SyncProgress,
    "result": SyncResult,
    "refused": SyncRefused,
}


def event_line(event: Event) -> str:
    """One event as a JSON line: how a sync in a child process reports to the app."""
    kind = next(k for k, cls in _KINDS.items() if isinstance(event, cls))
    return json.dumps({"event": kind, **asdict(event)})


def parse_event(line: str) -> Event | None:
    """The event on a line written by `event_line`; None for anything else."""
    try:
        doc = json.loads(line)
        cls = _KINDS[doc.pop("event")]
        return cls(**doc)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
