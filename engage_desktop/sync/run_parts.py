"""A run's parts, one per source: what each planned, fetched and committed, how it ended,
and the run's totals over them (the history's row, `sync --json`'s top-level keys)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from engage_desktop.core.runs import RUN_COUNTS
from engage_desktop.core.sources import source_label
from engage_desktop.klaviyo.errors import KlaviyoError
from engage_desktop.mailjet.errors import MailjetError
from engage_desktop.storage.commit import CommitResult
from engage_desktop.storage.database import DatabaseError
from engage_desktop.storage.run_sources import RunSourceRepo, RunSourceRow
from engage_desktop.storage.staging import StagingRepo
from engage_desktop.sync.sources.base import (
    ContactSource,
    Fetched,
    NotConnected,
    SourcePlan,
    SourceProblem,
)

log = logging.getLogger(__name__)
_COMMITTED = ("created", "updated", "unchanged", "removed", "invalid", "opted_out")


@dataclass
class Part:
    """One source in one run."""

    source: ContactSource
    staging: StagingRepo
    full: bool
    plan: SourcePlan | None = None
    fetched: Fetched | None = None
    result: CommitResult | None = None
    staged: int = 0
    suspicious: str | None = None
    error: str | None = None
    status: str | None = None  # set when it did not simply succeed or fail (cancelled)
    exc: BaseException | None = None
    marks: tuple[int, int] = (0, 0)  # the source's requests and 429s when the run began

    def fail(self, message: str, status: str = "failed", exc: BaseException | None = None) -> None:
        self.error, self.status, self.exc = message, status, exc

    def row(self, summary: PartSummary) -> RunSourceRow:
        return RunSourceRow(
            self.source.name,
            summary.status,
            summary.full,
            summary.counts,
            summary.issues,
            summary.suspicious,
            summary.error,
        )


@dataclass(frozen=True)
class PartSummary:
    """How one source's part of a run ended, as `sync --json` shows it under `sources`."""

    status: str
    full: bool
    counts: dict[str, int]
    issues: int
    suspicious: str | None
    error: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "full": self.full,
            **{k: self.counts.get(k, 0) for k in RUN_COUNTS},
            "issues": self.issues,
            "suspicious": self.suspicious,
            "error": self.error,
        }


def part_summary(p: Part, repo: RunSourceRepo, run_id: int) -> PartSummary:
    counts = {k: getattr(p.result, k) if p.result else 0 for k in _COMMITTED}
    counts["fetched"] = p.source.tally.fetched
    counts["requests"] = p.source.requests - p.marks[0]
    counts["throttled"] = p.source.throttled - p.marks[1]
    return PartSummary(
        p.status or ("failed" if p.error else "succeeded"),
        p.plan.full if p.plan is not None else p.full,
        counts,
        repo.issue_count(run_id, p.source.name),
        p.suspicious,
        p.error,
    )


def totals(
    parts: list[Part], summaries: dict[str, PartSummary]
) -> tuple[dict[str, int], str | None, str | None]:
    """The run's counts (sums), warnings and error over its sources. With one source, its
    own words; with several, each named."""
    counts = {k: sum(s.counts.get(k, 0) for s in summaries.values()) for k in RUN_COUNTS}
    warned = [p for p in parts if p.suspicious]
    failed = [p for p in parts if p.error]
    if len(parts) == 1:
        return counts, parts[0].suspicious, parts[0].error
    suspicious = " ".join(p.suspicious or "" for p in warned) or None
    error = None
    if failed:
        error = "; ".join(f"{source_label(p.source.name)}: {p.error}" for p in failed)
        if len(failed) < len(parts):
            error += " The other sources were synced and saved."
    return counts, suspicious, error


def failure_message(exc: BaseException, max_run_s: float) -> str:
    """What a failure says to people; a bug of ours is logged with its traceback."""
    if isinstance(exc, TimeoutError):
        return (
            f"The sync was still fetching after {max_run_s / 3600:g} hours and was stopped; "
            f"contacts were left as they were."
        )
    message = getattr(exc, "user_message", None) or f"{type(exc).__name__}: {exc}"
    known = KlaviyoError | MailjetError | SourceProblem | NotConnected | OSError | DatabaseError
    if not isinstance(exc, known):
        log.error("unexpected error in a sync", exc_info=exc)
        message = (
            f"Engage Desktop hit an unexpected problem ({type(exc).__name__}); contacts "
            f"were left as they were. The log file has the details."
        )
    return str(message)
