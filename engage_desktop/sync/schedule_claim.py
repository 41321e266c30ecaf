"""The shared schedule: when several desktops share one database, only one of them runs each
scheduled sync. A scheduled run takes the run lock, then asks again — from the database,
under the lock — whether the sync is still due; if another desktop ran it meanwhile, it
stops before doing anything."""

from __future__ import annotations

from datetime import datetime

from engage_desktop.core.schedule import next_run
from engage_desktop.storage.connection import ConnectionRepo
from engage_desktop.storage.database import Database
from engage_desktop.storage.runs import RunRepo

FAILED = ("failed", "interrupted")


class ScheduledRunTaken(Exception):
    """The scheduled sync is no longer due: another desktop (or window) has just run it."""


def schedule_marks(runs: RunRepo) -> tuple[float | None, float | None]:
    """(when the last successful run started, when a later failed run ended)."""
    failure: float | None = None
    for run in runs.recent(200):
        if run.status == "succeeded":
            return run.started_at, failure
        if run.status in FAILED and failure is None:
            failure = run.ended_at or run.started_at
    return None, failure


def claim_scheduled_run(db: Database, now: float) -> None:
    """Under the run lock: raise ScheduledRunTaken unless the scheduled sync is due now."""
    conn = ConnectionRepo(db).get()
    hours = conn.schedule_hours if conn is not None else 24
    success, failure = schedule_marks(RunRepo(db))
    due = next_run(success, failure, hours * 3600.0, now).at
    if due > now + 1.0:
        at = datetime.fromtimestamp(success or now).strftime("%H:%M")
        raise ScheduledRunTaken(
            f"The scheduled sync already ran (started {at}); the next one is not due yet."
        )
