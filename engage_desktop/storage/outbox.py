"""The opt-out outbox: rows written with the opt-out, sent to Klaviyo, marked once accepted."""

from __future__ import annotations

from dataclasses import dataclass

import peewee


@dataclass(frozen=True)
class OutboxEntry:
    """One opt-out waiting to reach Klaviyo."""

    id: int
    phone: str
    attempts: int


class OutboxRepo:
    """Pending rows in order; marks rows sent (never to be sent again) or failed (retry later)."""

    def __init__(self, db: peewee.SqliteDatabase) -> None:
        self.db = db

    def due(self, now: float, limit: int) -> list[OutboxEntry]:
        rows = self.db.execute_sql(
            "SELECT id, phone, attempts FROM optout_outbox WHERE sent_at IS NULL"
            " AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            (now, limit),
        ).fetchall()
        return [OutboxEntry(*r) for r in rows]

    def mark_sent(self, ids: list[int], now: float) -> None:
        with self.db.atomic():
            self.db.cursor().executemany(
                "UPDATE optout_outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL"
                " WHERE id = ? AND sent_at IS NULL",
                [(now, i) for i in ids],
            )

    def mark_failed(self, ids: list[int], error: str, next_attempt_at: float) -> None:
        with self.db.atomic():
            self.db.cursor().executemany(
                "UPDATE optout_outbox SET attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ? WHERE id = ? AND sent_at IS NULL",
                [(error, next_attempt_at, i) for i in ids],
            )

    def pending_count(self) -> int:
        row = self.db.execute_sql("SELECT count(*) FROM optout_outbox WHERE sent_at IS NULL")
        return int(row.fetchone()[0])

    def next_due_at(self) -> float | None:
        row = self.db.execute_sql(
            "SELECT min(next_attempt_at) FROM optout_outbox WHERE sent_at IS NULL"
        ).fetchone()
        return None if row[0] is None else float(row[0])
