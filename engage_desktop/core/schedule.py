"""When the next automatic sync runs: one rule, for the scheduler and for `status`."""

from __future__ import annotations

from dataclasses import dataclass

FAILED_RETRY_S = 900.0  # a failed run is tried again this much later, not a day later


@dataclass(frozen=True)
class NextRun:
    """The next automatic sync: when, and why then."""

    at: float
    why: str  # in words, as `status` and the status panel say it


def next_run(
    last_success_at: float | None,
    last_failure_at: float | None,
    interval_s: float,
    now: float,
) -> NextRun:
    """Every `interval_s` after the last successful run; sooner after a failure (its end plus
    `FAILED_RETRY_S`); at once when nothing ever succeeded or failed."""
    hours = f"{interval_s / 3600:g} hour{'s' if interval_s != 3600 else ''}"
    if last_failure_at is not None and (
        last_success_at is None or last_failure_at > last_success_at
    ):
        return NextRun(last_failure_at + FAILED_RETRY_S, "a retry after the failed sync")
    if last_success_at is None:
        return NextRun(now, "the first sync")
    return NextRun(last_success_at + interval_s, f"every {hours}")
