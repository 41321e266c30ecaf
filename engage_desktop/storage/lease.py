"""The single-run lease: one row saying who is syncing this database, since when."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import peewee


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
    """Takes, renews and gives back the lease atomically (BEGIN IMMEDIATE)."""

    def __init__(self, db: peewee.SqliteDatabase) -> None:
        self.db = db

    def current(self) -> Lease | None:
        row = self.db.execute_sql(_SELECT).fetchone()
        return None if row is None else Lease._make(row)

    def try_take(self, mine: Lease, may_take_over: Callable[[Lease], bool]) -> Lease | None:
        """Take the lease; returns the holder that kept us out, or None on success."""
        with self.db.atomic():
            held = self.current()
            if held is not None and held.holder != mine.holder and not may_take_over(held):
                return held
            self.db.execute_sql("DELETE FROM sync_lease")
            self.db.execute_sql(_INSERT, mine)
        return None

    def heartbeat(self, holder: str, now: float) -> bool:
        with self.db.atomic():
            cur = self.db.execute_sql(
                "UPDATE sync_lease SET heartbeat_at = ? WHERE holder = ?", (now, holder)
            )
        return bool(cur.rowcount)

    def release(self, holder: str) -> None:
        with self.db.atomic():
            self.db.execute_sql("DELETE FROM sync_lease WHERE holder = ?", (holder,))
