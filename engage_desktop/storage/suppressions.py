"""Opted-out numbers: remembered whatever happens to their contacts and sources.

A row stands (`lifted_at IS NULL`) from the opt-out until a source records SUBSCRIBED after
it; a lifted row is kept as history and stands again if the number opts out again.
"""

from __future__ import annotations

import peewee

# A standing opt-out takes the newer time: only a consent newer than the *latest* opt-out may
# lift it (someone who says STOP again after re-subscribing means it).
_SUPPRESS = (
    "INSERT INTO suppressions (phone, opted_out_at, reason, origin) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (phone) DO UPDATE SET"
    " opted_out_at = excluded.opted_out_at, reason = excluded.reason, origin = excluded.origin,"
    " lifted_at = NULL, lifted_reason = NULL"
    " WHERE suppressions.lifted_at IS NOT NULL"
    " OR excluded.opted_out_at > suppressions.opted_out_at"
)


def suppress(db: peewee.Database, phone: str, at: float, reason: str, origin: str) -> None:
    """The number opts out (again): its opt-out stands from the newest such time."""
    db.execute_sql(_SUPPRESS, (phone, at, reason, origin))


def queue_write_back(db: peewee.Database, contact_id: int, phone: str, now: float) -> None:
    """Klaviyo must hear of this opt-out: one pending row per number, dated by its newest
    opt-out (a row still waiting is brought forward rather than doubled)."""
    cur = db.execute_sql(
        "UPDATE optout_outbox SET created_at = max(created_at, ?) WHERE phone = ?"
        " AND sent_at IS NULL AND superseded_at IS NULL",
        (now, phone),
    )
    if not cur.rowcount:
        db.execute_sql(
            "INSERT INTO optout_outbox (contact_id, phone, created_at, next_attempt_at)"
            " VALUES (?, ?, ?, ?)",
            (contact_id, phone, now, now),
        )


def lift(db: peewee.Database, phone: str, consent_at: float, reason: str, now: float) -> int:
    """A SUBSCRIBED recorded at `consent_at`, after the opt-out, lifts it; queued opt-outs of
    the number made before that consent are dropped, with why kept on them. Returns how many
    queued opt-outs were dropped."""
    db.execute_sql(
        "UPDATE suppressions SET lifted_at = ?, lifted_reason = ? WHERE phone = ?",
        (now, reason, phone),
    )
    cur = db.execute_sql(
        "UPDATE optout_outbox SET superseded_at = ?, note = ? WHERE phone = ?"
        " AND sent_at IS NULL AND superseded_at IS NULL AND created_at < ?",
        (now, f"not sent: superseded by a newer consent ({reason})", phone, consent_at),
    )
    return int(cur.rowcount)


def standing(db: peewee.Database, phones: list[str]) -> dict[str, tuple[float, str]]:
    """The opt-outs that stand for these numbers: number -> (since, reason)."""
    out: dict[str, tuple[float, str]] = {}
    for i in range(0, len(phones), 900):
        chunk = phones[i : i + 900]
        marks = ",".join("?" * len(chunk))
        for phone, at, reason in db.execute_sql(
            f"SELECT phone, opted_out_at, reason FROM suppressions"
            f" WHERE lifted_at IS NULL AND phone IN ({marks})",
            chunk,
        ):
            out[phone] = (float(at), reason)
    return out


def any_standing(db: peewee.Database) -> bool:
    """Whether any opt-out stands (for any number)."""
    (found,) = db.execute_sql(
        "SELECT EXISTS (SELECT 1 FROM suppressions WHERE lifted_at IS NULL)"
    ).fetchone()
    return bool(found)


def is_suppressed(db: peewee.Database, phone: str) -> bool:
    row = db.execute_sql(
        "SELECT 1 FROM suppressions WHERE phone = ? AND lifted_at IS NULL", (phone,)
    ).fetchone()
    return row is not None


def suppress_many(db: peewee.Database, rows: list[tuple[str, float, str, str]]) -> None:
    """`suppress` for many numbers at once: (phone, at, reason, origin) each."""
    db.cursor().executemany(_SUPPRESS, rows)
