"""Campaigns: one message to one list, its recipients' states, who is sending it, and its counts.

A campaign is prepared in short transactions (a few thousand recipients each) so that a sync
waiting to commit is never held up for long; until the last chunk it is `preparing` and
cannot be sent. One sender at a time holds a campaign (its name, process and host on the
row, renewed by a heartbeat); a sender that finds the previous one dead first turns every
recipient it left `sending` into `unknown`: those batches may have gone, and are never resent
without a person's decision.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import peewee

from engage_desktop.core.messaging import CampaignStatus, RecipientState, SkipReason

LOST_ANSWER = "the sender stopped before MessageMedia's answer was recorded"


@dataclass(frozen=True)
class CampaignCounts:
    """Recipients by state (skipped by reason) and submitted ones by delivery status."""

    eligible: int = 0  # to be sent when prepared
    total: int = 0
    pending: int = 0
    sending: int = 0
    submitted: int = 0
    unknown: int = 0
    failed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    delivery: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "total": self.total,
            "pending": self.pending,
            "sending": self.sending,
            "submitted": self.submitted,
            "unknown": self.unknown,
            "failed": self.failed,
            "skipped": dict(self.skipped),
            "delivery": dict(self.delivery),
        }

    @staticmethod
    def from_json(text: str) -> CampaignCounts:
        try:
            doc = json.loads(text)
            return CampaignCounts(
                **{k: v for k, v in doc.items() if k in CampaignCounts.__dataclass_fields__}
            )
        except (ValueError, TypeError, AttributeError):
            return CampaignCounts()


class Sender(NamedTuple):
    """Who holds a campaign to send it."""

    name: str
    pid: int
    host: str
    heartbeat_at: float


@dataclass(frozen=True)
class Campaign:
    """A campaign row."""

    id: int
    list_id: int | None
    list_name: str
    text: str
    personal: bool
    source_number: str | None
    status: CampaignStatus
    created_at: float
    started_at: float | None
    finished_at: float | None
    counts: CampaignCounts
    requests: int
    sender: Sender | None
    error: str | None


class RecipientRow(NamedTuple):
    """One recipient as a preview or a detail list shows it."""

    id: int
    contact_id: int
    phone: str | None
    first_name: str | None
    last_name: str | None
    text: str
    state: str
    reason: str | None
    message_id: str | None
    sent_at: float | None
    delivery: str | None
    delivery_at: float | None


_CAMPAIGN = (
    "SELECT id, list_id, list_name, text, personal, source_number, status, created_at,"
    " started_at, finished_at, counts, requests, sender, sender_pid, sender_host, heartbeat_at,"
    " error FROM campaigns"
)


def _campaign(row: tuple[Any, ...]) -> Campaign:
    (cid, list_id, name, text, personal, source, status, created, started, finished, counts,
     requests, sender, pid, host, beat, error) = row  # fmt: skip
    return Campaign(
        cid,
        list_id,
        name,
        text,
        bool(personal),
        source,
        CampaignStatus(status),
        created,
        started,
        finished,
        CampaignCounts.from_json(counts),
        requests,
        Sender(sender, pid, host, beat) if sender else None,
        error,
    )


class CampaignRepo:
    """Creates, reads and moves campaigns along; counts their recipients."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    # ----- preparing --------------------------------------------------------------------------
    def create(
        self,
        list_id: int | None,
        list_name: str,
        text: str,
        personal: bool,
        source_number: str | None,
        now: float,
    ) -> int:
        cur = self.db.execute_sql(
            "INSERT INTO campaigns (list_id, list_name, text, personal, source_number, status,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (list_id, list_name, text, int(personal), source_number, CampaignStatus.PREPARING, now),
        )
        return int(cur.lastrowid)

    def add_recipients(
        self, campaign_id: int, rows: list[tuple[int, str | None, str | None, str, str | None]]
    ) -> None:
        """One chunk of (contact id, phone, personal text, state, reason), in its own short
        transaction; a contact already added is left as it is."""
        with self.db.atomic():
            self.db.cursor().executemany(
                "INSERT INTO campaign_recipients (campaign_id, contact_id, phone, text, state,"
                " reason) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (campaign_id, contact_id)"
                " DO NOTHING",
                [(campaign_id, *row) for row in rows],
            )

    def ready(self, campaign_id: int) -> Campaign:
        """The last chunk is written: the campaign may be sent."""
        with self.db.atomic():
            self.db.execute_sql(
                "UPDATE campaigns SET status = ? WHERE id = ? AND status = ?",
                (CampaignStatus.READY, campaign_id, CampaignStatus.PREPARING),
            )
            counts = self.refresh_counts(campaign_id, eligible_from_pending=True)
        campaign = self.get(campaign_id)
        assert campaign is not None and campaign.counts == counts
        return campaign

    def delete(self, campaign_id: int) -> None:
        """Forget a campaign that never started (a failed or abandoned preparation)."""
        self.db.execute_sql(
            "DELETE FROM campaigns WHERE id = ? AND started_at IS NULL", (campaign_id,)
        )

    # ----- reading ----------------------------------------------------------------------------
    def get(self, campaign_id: int) -> Campaign | None:
        row = self.db.execute_sql(f"{_CAMPAIGN} WHERE id = ?", (campaign_id,)).fetchone()
        return None if row is None else _campaign(row)

    def latest(self, limit: int = 50) -> list[Campaign]:
        rows = self.db.execute_sql(f"{_CAMPAIGN} ORDER BY id DESC LIMIT ?", (limit,))
        return [_campaign(r) for r in rows]

    def recipients(
        self, campaign_id: int, after_id: int = 0, limit: int = 50, state: str | None = None
    ) -> list[RecipientRow]:
        """A page of recipients in id order (keyset on id), optionally of one state."""
        where = "r.campaign_id = ? AND r.id > ?" + (" AND r.state = ?" if state else "")
        args: list[Any] = [campaign_id, after_id, *([state] if state else []), limit]
        rows = self.db.execute_sql(
            "SELECT r.id, r.contact_id, r.phone, c.first_name, c.last_name,"
            " coalesce(r.text, k.text), r.state, r.reason, r.message_id, r.sent_at, r.delivery,"
            " r.delivery_at FROM campaign_recipients r JOIN campaigns k ON k.id = r.campaign_id"
            f" LEFT JOIN contacts c ON c.id = r.contact_id WHERE {where} ORDER BY r.id LIMIT ?",
            args,
        )
        return list(map(RecipientRow._make, rows))

    def unknown_total(self) -> int:
        """Recipients of every campaign whose outcome a person must decide (from the counts
        kept on each campaign: no scan of every recipient)."""
        (n,) = self.db.execute_sql(
            # A number inside JSON is text on the team database (json_extract there): cast.
            "SELECT coalesce(sum(CAST(json_extract(counts, '$.unknown') AS INTEGER)), 0)"
            " FROM campaigns"
        ).fetchone()
        return int(n)

    def refresh_counts(
        self, campaign_id: int, eligible_from_pending: bool = False
    ) -> CampaignCounts:
        """Count the recipients again and keep the counts on the campaign row."""
        old = self.get(campaign_id)
        states: dict[str, int] = {}
        skipped: dict[str, int] = {}
        delivery: dict[str, int] = {}
        rows = self.db.execute_sql(
            "SELECT state, CASE WHEN state = 'skipped' THEN reason END, delivery, count(*)"
            " FROM campaign_recipients WHERE campaign_id = ? GROUP BY 1, 2, 3",
            (campaign_id,),
        )
        for state, reason, status, n in rows:
            states[state] = states.get(state, 0) + n
            if reason is not None:
                skipped[reason] = skipped.get(reason, 0) + n
            if status is not None:
                delivery[status] = delivery.get(status, 0) + n
        counts = CampaignCounts(
            eligible=states.get(RecipientState.PENDING, 0)
            if eligible_from_pending or old is None
            else old.counts.eligible,
            total=sum(states.values()),
            pending=states.get(RecipientState.PENDING, 0),
            sending=states.get(RecipientState.SENDING, 0),
            submitted=states.get(RecipientState.SUBMITTED, 0),
            unknown=states.get(RecipientState.UNKNOWN, 0),
            failed=states.get(RecipientState.FAILED, 0),
            skipped=skipped,
            delivery=delivery,
        )
        self.db.execute_sql(
            "UPDATE campaigns SET counts = ? WHERE id = ?",
            (json.dumps(counts.as_json()), campaign_id),
        )
        return counts

    # ----- the sender's hold ---------------------------------------------------------------
    def take(
        self, campaign_id: int, me: Sender, may_take_over: Callable[[Sender], bool]
    ) -> tuple[Campaign, Sender | None, int]:
        """Hold the campaign to send it: (the campaign, the live sender that keeps us out or
        None, how many recipients a dead sender left `sending` and are now `unknown`)."""
        with self.db.atomic():
            campaign = self.get(campaign_id)
            if campaign is None:
                raise LookupError(f"no campaign {campaign_id}")
            held = campaign.sender
            if held is not None and held.name != me.name and not may_take_over(held):
                return campaign, held, 0
            if campaign.status in (CampaignStatus.PREPARING, CampaignStatus.CANCELLED):
                return campaign, None, 0
            lost = self.db.execute_sql(
                "UPDATE campaign_recipients SET state = ?, reason = ?"
                " WHERE campaign_id = ? AND state = ?",
                (RecipientState.UNKNOWN, LOST_ANSWER, campaign_id, RecipientState.SENDING),
            ).rowcount
            self.db.execute_sql(
                "UPDATE campaigns SET sender = ?, sender_pid = ?, sender_host = ?,"
                " heartbeat_at = ?, started_at = coalesce(started_at, ?), error = NULL,"
                " status = CASE WHEN status = ? THEN status ELSE ? END WHERE id = ?",
                (
                    *me,
                    me.heartbeat_at,
                    CampaignStatus.CANCELLING,
                    CampaignStatus.SENDING,
                    campaign_id,
                ),
            )
            taken = self.get(campaign_id)
        assert taken is not None
        return taken, None, int(lost)

    def heartbeat(self, campaign_id: int, sender: str, now: float, requests: int) -> bool:
        """Still sending (and how many requests so far); False when the hold was lost."""
        with self.db.atomic():
            cur = self.db.execute_sql(
                "UPDATE campaigns SET heartbeat_at = ?, requests = ? WHERE id = ? AND sender = ?",
                (now, requests, campaign_id, sender),
            )
        return bool(cur.rowcount)

    def release(
        self, campaign_id: int, sender: str, now: float, requests: int, error: str | None
    ) -> Campaign:
        """The sender stops: finished when nothing is left to send, cancelled when asked to,
        paused otherwise (an error, or stopped early: resume continues)."""
        with self.db.atomic():
            status = self._status(campaign_id)
            if status is CampaignStatus.CANCELLING:
                self._skip_pending(campaign_id, SkipReason.CANCELLED)
            left = self.db.execute_sql(
                "SELECT count(*) FROM campaign_recipients WHERE campaign_id = ?"
                " AND state IN (?, ?)",
                (campaign_id, RecipientState.PENDING, RecipientState.SENDING),
            ).fetchone()[0]
            new = (
                CampaignStatus.CANCELLED
                if status is CampaignStatus.CANCELLING
                else CampaignStatus.PAUSED
                if error is not None or left
                else CampaignStatus.FINISHED
            )
            done = new in (CampaignStatus.FINISHED, CampaignStatus.CANCELLED)
            self.db.execute_sql(
                "UPDATE campaigns SET status = ?, error = ?, requests = ?, sender = NULL,"
                " sender_pid = NULL, sender_host = NULL, heartbeat_at = NULL,"
                " finished_at = CASE WHEN ? = 1 THEN ? ELSE finished_at END"
                " WHERE id = ? AND (sender = ? OR sender IS NULL)",
                (new, error, requests, done, now, campaign_id, sender),
            )
            self.refresh_counts(campaign_id)
        campaign = self.get(campaign_id)
        assert campaign is not None
        return campaign

    def cancel(self, campaign_id: int, now: float, alive: Callable[[Sender], bool]) -> Campaign:
        """Stop a campaign for good. A live sender is asked (it sends nothing more and
        finishes the batches already on the wire); otherwise what was not sent is skipped."""
        with self.db.atomic():
            campaign = self.get(campaign_id)
            if campaign is None:
                raise LookupError(f"no campaign {campaign_id}")
            done = (CampaignStatus.FINISHED, CampaignStatus.CANCELLED)
            if campaign.status in done and not campaign.counts.pending:
                return campaign
            if campaign.sender is not None and alive(campaign.sender):
                self.db.execute_sql(
                    "UPDATE campaigns SET status = ? WHERE id = ?",
                    (CampaignStatus.CANCELLING, campaign_id),
                )
            else:
                self.db.execute_sql(
                    "UPDATE campaign_recipients SET state = ?, reason = ?"
                    " WHERE campaign_id = ? AND state = ?",
                    (RecipientState.UNKNOWN, LOST_ANSWER, campaign_id, RecipientState.SENDING),
                )
                self._skip_pending(campaign_id, SkipReason.CANCELLED)
                self.db.execute_sql(
                    "UPDATE campaigns SET status = ?, finished_at = ?, sender = NULL,"
                    " sender_pid = NULL, sender_host = NULL, heartbeat_at = NULL WHERE id = ?",
                    (CampaignStatus.CANCELLED, now, campaign_id),
                )
            self.refresh_counts(campaign_id)
        cancelled = self.get(campaign_id)
        assert cancelled is not None
        return cancelled

    def _status(self, campaign_id: int) -> CampaignStatus:
        row = self.db.execute_sql(
            "SELECT status FROM campaigns WHERE id = ?", (campaign_id,)
        ).fetchone()
        if row is None:
            raise LookupError(f"no campaign {campaign_id}")
        return CampaignStatus(row[0])

    def _skip_pending(self, campaign_id: int, reason: SkipReason) -> None:
        self.db.execute_sql(
            "UPDATE campaign_recipients SET state = ?, reason = ? WHERE campaign_id = ?"
            " AND state = ?",
            (RecipientState.SKIPPED, reason, campaign_id, RecipientState.PENDING),
        )
