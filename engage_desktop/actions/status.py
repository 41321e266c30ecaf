"""Where things stand: the connection, its key, the last run, the next one, the contacts."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engage_desktop.actions.credentials import Credentials, KeyPlace
from engage_desktop.core.schedule import NextRun, next_run
from engage_desktop.core.secrets import redact
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import Database
from engage_desktop.storage.lease import LeaseRepo
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.storage.runs import RunRecord, RunRepo
from engage_desktop.sync.lock import run_elsewhere
from engage_desktop.sync.schedule_claim import schedule_marks as schedule_marks

FAILED = ("failed", "interrupted")


@dataclass(frozen=True)
class Status:
    """Everything `status` prints and the app's status panel shows."""

    connection: Connection | None
    key_place: KeyPlace | None
    last_run: RunRecord | None
    next_run: NextRun | None
    contacts: dict[str, int]
    pending_opt_outs: int
    running: str | None  # who runs a sync right now, in words

    def as_json(self) -> dict[str, Any]:
        c, last = self.connection, self.last_run
        return {
            "connected": c is not None,
            "account": None
            if c is None
            else {
                "id": c.account_id,
                "name": c.account_name,
                "base_url": redact(c.base_url),
                "consent_mode": c.consent_mode.value,
                "lists": "all" if c.lists is None else list(c.lists),
                "default_region": c.default_region,
                "schedule_hours": c.schedule_hours,
                "key": None if self.key_place is None else self.key_place.value,
                "key_in_keyring": self.key_place is KeyPlace.KEYRING,
            },
            "last_run": None
            if last is None
            else {
                "id": last.id,
                "status": last.status,
                "trigger": last.trigger,
                "full": last.full,
                "started": when(last.started_at),
                "ended": when(last.ended_at),
                **last.counts,
                "issues": last.issues,
                "suspicious": last.suspicious,
                "error": last.error,
            },
            "next_run": None if self.next_run is None else when(self.next_run.at),
            "next_run_why": None if self.next_run is None else self.next_run.why,
            "running": self.running,
            "contacts": self.contacts,
            "pending_opt_outs": self.pending_opt_outs,
        }


def when(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts).isoformat(timespec="seconds")


def planned_run(
    db: Database, conn: Connection | None, clock: Callable[[], float] = time.time
) -> NextRun | None:
    """The next automatic sync, as the scheduler will start it (None: nothing to sync)."""
    if conn is None or conn.lists == ():
        return None
    success, failure = schedule_marks(RunRepo(db))
    return next_run(success, failure, conn.schedule_hours * 3600.0, clock())


def read_status(
    db: Database, credentials: Credentials, clock: Callable[[], float] = time.time
) -> Status:
    """Blocking (the keyring is asked where the key is): not on the GUI thread."""
    conn = ConnectionRepo(db).get()
    found = credentials.key_for(conn.account_id) if conn else None
    runs = RunRepo(db)
    return Status(
        conn,
        found[1] if found else None,
        runs.last(),
        planned_run(db, conn, clock),
        ContactRepo(db).counts(),
        OutboxRepo(db).pending_count(),
        run_elsewhere(LeaseRepo(db), clock),
    )
