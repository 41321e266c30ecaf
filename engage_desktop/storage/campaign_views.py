"""Read-only views of campaigns for screens: recipient ids by status (a snapshot a lazy table
pages through), rows by id, replies per campaign and per contact."""

from __future__ import annotations

import json
from array import array
from typing import Any

import peewee

from engage_desktop.storage.campaigns import RecipientRow
from engage_desktop.storage.inbound import ReplyRow

# What a status filter means in SQL: a recipient's state, or a submitted one's delivery.
STATUS_FILTERS: dict[str, str] = {
    "pending": "r.state IN ('pending', 'sending')",
    "submitted": "r.state = 'submitted' AND coalesce(r.delivery, '') NOT IN"
    " ('delivered', 'failed', 'rejected', 'expired')",
    "delivered": "r.delivery = 'delivered'",
    "undelivered": "r.delivery IN ('failed', 'rejected', 'expired') OR r.state = 'failed'",
    "unknown": "r.state = 'unknown'",
    "skipped": "r.state = 'skipped'",
}
_ROW = (
    "SELECT r.id, r.contact_id, r.phone, c.first_name, c.last_name,"
    " coalesce(r.text, k.text), r.state, r.reason, r.message_id, r.sent_at, r.delivery,"
    " r.delivery_at FROM campaign_recipients r JOIN campaigns k ON k.id = r.campaign_id"
    " LEFT JOIN contacts c ON c.id = r.contact_id"
)


class CampaignViews:
    """Queries the Campaigns screen and the contact pane read (short, keyset or by id)."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def recipient_ids(self, campaign_id: int, status: str | None = None) -> array[int]:
        """Every recipient id of the campaign (of one status filter), in id order."""
        where = "r.campaign_id = ?" + (f" AND ({STATUS_FILTERS[status]})" if status else "")
        # One JSON array from SQLite, read in one C call: 100,000 ids without a Python loop
        # that would hold the interpreter lock the GUI thread needs.
        (text,) = self.db.execute_sql(
            "SELECT json_group_array(id) FROM (SELECT r.id FROM campaign_recipients r"
            f" WHERE {where} ORDER BY r.id) AS ids",
            (campaign_id,),
        ).fetchone()
        return array("q", json.loads(text))

    def recipients_by_id(self, ids: list[int]) -> dict[int, RecipientRow]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute_sql(f"{_ROW} WHERE r.id IN ({marks})", ids)
        return {r[0]: RecipientRow._make(r) for r in rows}

    def campaign_replies(self, campaign_id: int, limit: int = 200) -> list[ReplyRow]:
        return self._replies("campaign_id = ?", (campaign_id,), limit)

    def contact_replies(self, contact_id: int, limit: int = 20) -> list[ReplyRow]:
        return self._replies("contact_id = ?", (contact_id,), limit)

    def reply_counts(self) -> dict[int, int]:
        """Replies per campaign."""
        rows = self.db.execute_sql(
            "SELECT campaign_id, count(*) FROM gateway_replies WHERE campaign_id IS NOT NULL"
            " GROUP BY campaign_id"
        )
        return {int(c): int(n) for c, n in rows}

    def _replies(self, where: str, args: tuple[Any, ...], limit: int) -> list[ReplyRow]:
        rows = self.db.execute_sql(
            f"SELECT {', '.join(ReplyRow._fields)} FROM gateway_replies WHERE {where}"
            " ORDER BY received_at DESC LIMIT ?",
            (*args, limit),
        )
        return list(map(ReplyRow._make, rows))
