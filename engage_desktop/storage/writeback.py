"""Opt-outs that Klaviyo must hear of, whichever source they came from.

An opt-out made here (a click, a STOP, the command line) is queued for Klaviyo when it is
made. An opt-out that comes from Mailjet or a CSV file is queued when its number has a
Klaviyo profile that does not say UNSUBSCRIBED — at once, or later when such a profile
appears. Opt-outs Klaviyo itself reported are not sent back (it knows). Each opt-out is
queued once: a row made at or after its time, pending or sent, means Klaviyo is told.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import peewee

from engage_desktop.core.consent import UNSUBSCRIBED
from engage_desktop.core.sources import KLAVIYO
from engage_desktop.storage.suppressions import queue_write_back


class _Record(Protocol):
    """What the rule reads of a source record (storage/merge.py `Link`)."""

    @property
    def source(self) -> str: ...
    @property
    def consent(self) -> str | None: ...


def klaviyo_unaware(records: Iterable[_Record]) -> bool:
    """The number has a Klaviyo profile, and none of its profiles says UNSUBSCRIBED."""
    klaviyo = [r.consent for r in records if r.source == KLAVIYO]
    return bool(klaviyo) and UNSUBSCRIBED not in klaviyo


def queue_unheard(db: peewee.Database, contact_id: int, phone: str) -> bool:
    """Queue the number's standing opt-out for Klaviyo unless Klaviyo reported it or it is
    queued (or sent) already; True when a row was queued."""
    row = db.execute_sql(
        "SELECT origin, opted_out_at FROM suppressions WHERE phone = ? AND lifted_at IS NULL",
        (phone,),
    ).fetchone()
    if row is None or row[0] == KLAVIYO:
        return False
    at = float(row[1])
    told = db.execute_sql(
        "SELECT 1 FROM optout_outbox WHERE phone = ? AND created_at >= ? AND superseded_at IS NULL",
        (phone, at),
    ).fetchone()
    if told is not None:
        return False
    queue_write_back(db, contact_id, phone, at)
    return True


def queue_new(db: peewee.Database, rows: list[tuple[int, str, float]]) -> None:
    """New opt-outs Klaviyo must hear of, (contact, phone, opted out at) each: what
    `queue_write_back` does one by one (a row still waiting is brought forward)."""
    cursor = db.cursor()
    cursor.executemany(
        f"UPDATE optout_outbox SET created_at = max(created_at, ?) WHERE phone = ? AND {_WAITING}",
        [(at, phone) for _, phone, at in rows],
    )
    cursor.executemany(
        "INSERT INTO optout_outbox (contact_id, phone, created_at, next_attempt_at)"
        f" SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM optout_outbox WHERE phone = ?"
        f" AND {_WAITING})",
        [(cid, phone, at, at, phone) for cid, phone, at in rows],
    )


_WAITING = "sent_at IS NULL AND superseded_at IS NULL"
