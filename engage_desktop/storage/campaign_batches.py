"""A campaign's batches: claimed (with the consent check in the claiming statement), then
submitted, failed, given back, or left unknown — each step committed before the next.

Never to an opted-out number: the statement that moves recipients from `pending` to
`sending` only takes those whose contact is still subscribed, still has the number, and whose
number has no standing opt-out and is not on the gateway's blacklist; the rest of the window
is skipped with the reason, in the same write transaction. An opt-out committed before the
claim (a STOP reply, a sync, a click) is therefore always seen; one committed after it can
only race the request already on its way, and the gateway's own blacklist is the net there.

Never twice: rows are `sending` (durable) before their request leaves; only an answer moves
them on. Rows are given back to `pending` only when the gateway provably did not take them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

import peewee

from engage_desktop.core.messaging import CampaignStatus, RecipientState, SkipReason

# Subqueries of the claiming statements, about the recipient row being updated (SQLite's
# UPDATE takes no alias: `R` is the table's own name).
R = "campaign_recipients"
_CONTACT = f"(SELECT c.sms_status FROM contacts c WHERE c.id = {R}.contact_id)"
_STANDS = f"EXISTS (SELECT 1 FROM suppressions s WHERE s.phone = {R}.phone AND s.lifted_at IS NULL)"
_BLOCKED = f"EXISTS (SELECT 1 FROM gateway_blacklist b WHERE b.phone = {R}.phone AND b.listed = 1)"
_MESSAGEABLE = (
    f"EXISTS (SELECT 1 FROM contacts c WHERE c.id = {R}.contact_id AND c.phone = {R}.phone"
    f" AND c.sms_status = 'subscribed') AND NOT {_STANDS} AND NOT {_BLOCKED}"
)
_WHY_NOT = (
    f"CASE WHEN NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = {R}.contact_id)"
    f" THEN '{SkipReason.REMOVED}'"
    f" WHEN {_STANDS} OR {_CONTACT} = 'opted_out' THEN '{SkipReason.OPTED_OUT}'"
    f" WHEN {_CONTACT} <> 'subscribed' THEN '{SkipReason.NEVER_SUBSCRIBED}'"
    f" WHEN {_BLOCKED} THEN '{SkipReason.GATEWAY_BLOCKED}'"
    f" ELSE '{SkipReason.NO_VALID_PHONE}' END"
)


class Claimed(NamedTuple):
    """A recipient whose message is about to go."""

    id: int
    phone: str
    text: str


@dataclass(frozen=True)
class Claim:
    """What one claim took: the batch to send and the recipients skipped on the way."""

    batch: str
    recipients: list[Claimed]
    skipped: Counter[str]
    stopped: bool = False  # the campaign is no longer being sent (cancelled, released)


class UnknownBatch(NamedTuple):
    """Recipients whose batch's answer was lost, as a person decides about them."""

    batch: str
    recipients: int
    since: float | None  # when the batch was claimed
    why: str | None


class BatchRepo:
    """Moves a campaign's recipients through their states, one short transaction each."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def claim(self, campaign_id: int, batch: str, now: float, size: int = 100) -> Claim:
        """Take the next `size` pending recipients of a campaign that is being sent."""
        sql = self.db.execute_sql
        with self.db.atomic():  # BEGIN IMMEDIATE: no opt-out can commit in between
            row = sql("SELECT status FROM campaigns WHERE id = ?", (campaign_id,)).fetchone()
            if row is None or row[0] != CampaignStatus.SENDING:
                return Claim(batch, [], Counter(), stopped=True)
            (bound,) = sql(
                "SELECT max(id) FROM (SELECT id FROM campaign_recipients WHERE campaign_id = ?"
                " AND state = ? ORDER BY id LIMIT ?) AS batch",
                (campaign_id, RecipientState.PENDING, size),
            ).fetchone()
            if bound is None:
                return Claim(batch, [], Counter())
            claimed = sql(
                "UPDATE campaign_recipients SET state = ?, batch = ?, sent_at = ?"
                " WHERE campaign_id = ? AND state = ? AND id <= ?"
                f" AND {_MESSAGEABLE}"
                " RETURNING id, phone,"
                " coalesce(text, (SELECT k.text FROM campaigns k WHERE k.id = campaign_id))",
                (
                    RecipientState.SENDING,
                    batch,
                    now,
                    campaign_id,
                    RecipientState.PENDING,
                    bound,
                ),
            ).fetchall()
            skipped = sql(
                f"UPDATE campaign_recipients SET state = ?, reason = {_WHY_NOT}"
                " WHERE campaign_id = ? AND state = ? AND id <= ? RETURNING reason",
                (RecipientState.SKIPPED, campaign_id, RecipientState.PENDING, bound),
            ).fetchall()
        recipients = sorted(map(Claimed._make, claimed))
        return Claim(batch, recipients, Counter(reason for (reason,) in skipped))

    def submitted(self, batch: str, sent: list[tuple[int, str | None]], now: float) -> None:
        """The gateway accepted the batch: each recipient with its message id (None when the
        answer could not be read; its delivery reports bring the id later)."""
        with self.db.atomic():
            self.db.cursor().executemany(
                "UPDATE campaign_recipients SET state = ?, reason = NULL,"
                " message_id = coalesce(?, message_id) WHERE id = ? AND batch = ? AND state = ?",
                [
                    (RecipientState.SUBMITTED, message_id, rid, batch, RecipientState.SENDING)
                    for rid, message_id in sent
                ],
            )

    def unknown(self, batch: str, why: str) -> int:
        """The batch's answer was lost: it may or may not have gone."""
        with self.db.atomic():
            cur = self.db.execute_sql(
                "UPDATE campaign_recipients SET state = ?, reason = ? WHERE batch = ?"
                " AND state = ?",
                (RecipientState.UNKNOWN, why, batch, RecipientState.SENDING),
            )
        return int(cur.rowcount)

    def failed(self, batch: str, reasons: dict[int, str]) -> None:
        """The gateway refused these recipients (nothing of the batch was sent)."""
        with self.db.atomic():
            self.db.cursor().executemany(
                "UPDATE campaign_recipients SET state = ?, reason = ? WHERE id = ? AND batch = ?"
                " AND state = ?",
                [
                    (RecipientState.FAILED, why[:500], rid, batch, RecipientState.SENDING)
                    for rid, why in reasons.items()
                ],
            )

    def give_back(self, batch: str) -> int:
        """The gateway provably did not take the batch: its recipients are pending again
        (and will pass the consent check again when next claimed)."""
        with self.db.atomic():
            cur = self.db.execute_sql(
                "UPDATE campaign_recipients SET state = ?, batch = NULL, sent_at = NULL"
                " WHERE batch = ? AND state = ?",
                (RecipientState.PENDING, batch, RecipientState.SENDING),
            )
        return int(cur.rowcount)

    # ----- the decision about unknown recipients -------------------------------------------------
    def unknown_batches(self, campaign_id: int) -> list[UnknownBatch]:
        rows = self.db.execute_sql(
            "SELECT batch, count(*), min(sent_at), max(reason) FROM campaign_recipients"
            " WHERE campaign_id = ? AND state = ? GROUP BY batch ORDER BY min(sent_at)",
            (campaign_id, RecipientState.UNKNOWN),
        )
        return list(map(UnknownBatch._make, rows))

    def decide(self, campaign_id: int, resend: bool, batch: str | None = None) -> int:
        """A person's decision about unknown recipients (one batch, or all of the campaign):
        resend them (they are pending again, and pass the consent check when claimed) or drop
        them (skipped, never resent). A finished campaign with recipients to resend is paused,
        so that resuming it sends them."""
        where = "campaign_id = ? AND state = ?" + (" AND batch = ?" if batch else "")
        args = [campaign_id, RecipientState.UNKNOWN, *([batch] if batch else [])]
        with self.db.atomic():
            if resend:
                cur = self.db.execute_sql(
                    f"UPDATE campaign_recipients SET state = ?, batch = NULL, sent_at = NULL,"
                    f" reason = NULL WHERE {where}",
                    [RecipientState.PENDING, *args],
                )
                if cur.rowcount:
                    self.db.execute_sql(
                        "UPDATE campaigns SET status = ?, finished_at = NULL WHERE id = ?"
                        " AND status = ?",
                        (CampaignStatus.PAUSED, campaign_id, CampaignStatus.FINISHED),
                    )
            else:
                cur = self.db.execute_sql(
                    f"UPDATE campaign_recipients SET state = ?, reason = ? WHERE {where}",
                    [RecipientState.SKIPPED, SkipReason.DROPPED, *args],
                )
        return int(cur.rowcount)
