"""The opt-out outbox: rows written with the opt-out, claimed, sent to Klaviyo, marked once
accepted.

Two pushers (the app's and a command line `optout`, or two desktops) never send a row twice:
a pusher claims rows in a write transaction before it sends them, and only its claim marks
them sent. (On the team database the claim's SELECT also locks the rows it takes and skips
rows another pusher's transaction holds: FOR UPDATE SKIP LOCKED.)
A claim left by a pusher that died is taken again after `CLAIM_TTL_S`. A row whose
number is no longer opted out (a newer SUBSCRIBED lifted the opt-out) is never sent: it is
marked superseded, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from engage_desktop.storage.dialect import skip_locked

CLAIM_TTL_S = 300.0
_PENDING = "sent_at IS NULL AND superseded_at IS NULL"


@dataclass(frozen=True)
class OutboxEntry:
    """One opt-out waiting to reach Klaviyo."""

    id: int
    phone: str
    attempts: int


class OutboxRepo:
    """Pending rows in order: claimed, then marked sent (never to be sent again) or failed
    (retried later)."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def claim(self, claimant: str, now: float, limit: int) -> list[OutboxEntry]:
        """Take up to `limit` due rows for `claimant` (nobody else sends them meanwhile)."""
        sql = self.db.execute_sql
        with self.db.atomic():
            sql(
                f"UPDATE optout_outbox SET superseded_at = ?, claim = NULL,"
                f" note = 'not sent: the number is no longer opted out (a newer consent)'"
                f" WHERE {_PENDING} AND phone NOT IN"
                f" (SELECT phone FROM suppressions WHERE lifted_at IS NULL)",
                (now,),
            )
            rows = sql(
                f"SELECT id, phone, attempts FROM optout_outbox WHERE {_PENDING}"
                f" AND next_attempt_at <= ? AND (claim IS NULL OR claimed_at < ?)"
                f" ORDER BY id LIMIT ?{skip_locked(self.db)}",
                (now, now - CLAIM_TTL_S, limit),
            ).fetchall()
            self.db.cursor().executemany(
                "UPDATE optout_outbox SET claim = ?, claimed_at = ? WHERE id = ?",
                [(claimant, now, r[0]) for r in rows],
            )
        return [OutboxEntry(*r) for r in rows]

    def mark_sent(self, ids: list[int], claimant: str, now: float) -> None:
        with self.db.atomic():
            self.db.cursor().executemany(
                "UPDATE optout_outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL,"
                " claim = NULL WHERE id = ? AND claim = ? AND sent_at IS NULL",
                [(now, i, claimant) for i in ids],
            )

    def mark_failed(
        self, ids: list[int], claimant: str, error: str, next_attempt_at: float
    ) -> None:
        with self.db.atomic():
            self.db.cursor().executemany(
                "UPDATE optout_outbox SET attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ?, claim = NULL WHERE id = ? AND claim = ?"
                " AND sent_at IS NULL",
                [(error, next_attempt_at, i, claimant) for i in ids],
            )

    def release(self, claimant: str) -> None:
        """Give back what `claimant` still holds (its push was stopped before an answer)."""
        with self.db.atomic():
            self.db.execute_sql(
                "UPDATE optout_outbox SET claim = NULL WHERE claim = ? AND sent_at IS NULL",
                (claimant,),
            )

    def pending_count(self) -> int:
        row = self.db.execute_sql(f"SELECT count(*) FROM optout_outbox WHERE {_PENDING}")
        return int(row.fetchone()[0])

    def next_due_at(self) -> float | None:
        row = self.db.execute_sql(
            f"SELECT min(next_attempt_at) FROM optout_outbox WHERE {_PENDING}"
        ).fetchone()
        return None if row[0] is None else float(row[0])
