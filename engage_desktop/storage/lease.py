"""The single-run lease: one row saying who is syncing this database, since when.

On SQLite the row is the lock (taken in a write transaction). On the team database the lock
is a PostgreSQL advisory lock (advisory_lock.py) that the server frees when its holder's
session ends; the row only says who holds it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import peewee

from engage_desktop.storage.advisory_lock import AdvisoryLock
from engage_desktop.storage.postgres import TeamDatabase


class Lease(NamedTuple):
    """Who holds the sync lock: the sync_lease row."""

    holder: str
    pid: int
    host: str
    started_at: float
    heartbeat_at: float


_SELECT = f"SELECT {', '.join(Lease._fields)} FROM sync_lease"
_INSERT = (
    f"INSERT INTO sync_lease (id, {', '.join(Lease._fields)})"
    f" VALUES (1, {', '.join('?' * len(Lease._fields))})"
)


class LeaseRepo:
    """Takes, renews and gives back the lease atomically (BEGIN IMMEDIATE), or on the team
    database the advisory lock with its row."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db
        self._advisory = AdvisoryLock(db.url) if isinstance(db, TeamDatabase) else None

    def current(self) -> Lease | None:
        row = self.db.execute_sql(_SELECT).fetchone()
        lease = None if row is None else Lease._make(row)
        if self._advisory is None:
            return lease
        held = AdvisoryLock.holder(self.db)
        if held is None:
            return None  # a row left by a holder that died: the server freed its lock
        if lease is not None and lease.holder[-10:] in held.application:  # its own row
            who = held.application.split(":")[0]
            return lease._replace(
                holder=f"{lease.holder} ({who} from {held.address})", heartbeat_at=time.time()
            )
        # The row is not written yet (or is another's, older): the server's word alone.
        return Lease(held.application, 0, held.address, held.since, time.time())

    def try_take(self, mine: Lease, may_take_over: Callable[[Lease], bool]) -> Lease | None:
        """Take the lease; returns the holder that kept us out, or None on success."""
        if self._advisory is not None:
            if self._advisory.holding:  # this repo holds it already: for its own holder only
                held = self.current()
                return None if held is None or held.holder.startswith(mine.holder) else held
            if not self._advisory.try_take(mine.holder):
                held = self.current()
                return held or Lease("another desktop", 0, "unknown", time.time(), time.time())
            with self.db.atomic():
                self.db.execute_sql("DELETE FROM sync_lease")
                self.db.execute_sql(_INSERT, mine)
            return None
        with self.db.atomic():
            held = self.current()
            if held is not None and held.holder != mine.holder and not may_take_over(held):
                return held
            self.db.execute_sql("DELETE FROM sync_lease")
            self.db.execute_sql(_INSERT, mine)
        return None

    def heartbeat(self, holder: str, now: float) -> bool:
        if self._advisory is not None and not self._advisory.alive():
            return False
        with self.db.atomic():
            cur = self.db.execute_sql(
                "UPDATE sync_lease SET heartbeat_at = ? WHERE holder = ?", (now, holder)
            )
        return bool(cur.rowcount)

    def release(self, holder: str) -> None:
        try:
            with self.db.atomic():
                self.db.execute_sql("DELETE FROM sync_lease WHERE holder = ?", (holder,))
        finally:
            if self._advisory is not None:
                self._advisory.release()
