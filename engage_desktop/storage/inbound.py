"""What the gateway tells us: replies (an opt-out word opts the number out) and delivery
reports (they update recipients), each page in one short transaction.

Replies are stored once by `reply_id`: the gateway repeats a reply until it is confirmed,
and we confirm only after this commit, so a crash in between re-delivers it and the second
delivery changes nothing. An opt-out reply goes through the one opt-out path
(`ContactRepo.mark_opted_out` / `add_opted_out`): the suppression and Klaviyo's unsubscribe
are written in the same transaction as the reply. It is dated when the gateway received it,
so a re-subscription recorded later in Klaviyo still wins (docs/CONSENT.md rule 2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import peewee

from engage_desktop.core.messaging import SMS_ORIGIN, Delivery, RecipientState, SkipReason
from engage_desktop.storage.contacts import ContactRepo

_CLOCK_SKEW_S = 300.0  # a gateway's time this far ahead of ours is not believed


class ReplyIn(NamedTuple):
    """A reply as the gateway gave it."""

    reply_id: str
    phone: str | None
    content: str
    received_at: float | None
    message_id: str | None
    campaign_id: int | None  # from the original message's metadata
    recipient_id: int | None


class ReportIn(NamedTuple):
    """A delivery report as the gateway gave it."""

    message_id: str | None
    phone: str | None
    status: str | None
    at: float | None
    code: str | None
    campaign_id: int | None
    recipient_id: int | None


class ReplyRow(NamedTuple):
    """A stored reply."""

    reply_id: str
    phone: str | None
    contact_id: int | None
    content: str
    keyword: str | None
    received_at: float | None
    campaign_id: int | None


class HeardOptOut(NamedTuple):
    """A number that said an opt-out word."""

    phone: str
    keyword: str
    contact_id: int
    newly: bool  # False: an opt-out already stood from that time on (nothing more to tell)


@dataclass(frozen=True)
class RepliesSaved:
    """What a page of replies did."""

    stored: int = 0
    repeated: int = 0  # already stored (a re-delivery)
    opt_outs: list[HeardOptOut] = field(default_factory=list)
    unreadable: int = 0  # stored without a number we could act on


@dataclass(frozen=True)
class ReportsApplied:
    """What a page of delivery reports did."""

    applied: int = 0
    unmatched: int = 0  # for messages that are not ours (or not known any more)
    confirmed_sent: int = 0  # recipients whose outcome was unknown: the gateway has them
    campaigns: frozenset[int] = frozenset()


class InboundRepo:
    """Stores replies and applies delivery reports."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db
        self.contacts = ContactRepo(db)

    def save_replies(
        self, replies: Sequence[ReplyIn], keyword_of: Callable[[str], str | None], now: float
    ) -> RepliesSaved:
        stored = repeated = unreadable = 0
        heard: list[HeardOptOut] = []
        with self.db.atomic():
            for reply in replies:
                if self._known(reply.reply_id):
                    repeated += 1
                    continue
                keyword = keyword_of(reply.content)
                recipient = self._recipient(reply.message_id, reply.recipient_id, reply.phone)
                contact_id = (
                    None if reply.phone is None else self.contacts.find_by_phone(reply.phone)
                )
                if contact_id is None and recipient is not None:
                    contact_id = recipient[2]
                if keyword is not None and reply.phone is not None:
                    at = _believed(reply.received_at, now)
                    contact_id, newly = self._opt_out(reply.phone, contact_id, keyword, at)
                    heard.append(HeardOptOut(reply.phone, keyword, contact_id, newly))
                unreadable += reply.phone is None
                self.db.execute_sql(
                    "INSERT INTO gateway_replies (reply_id, phone, contact_id, content, keyword,"
                    " received_at, recorded_at, message_id, campaign_id, recipient_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        reply.reply_id,
                        reply.phone,
                        contact_id,
                        reply.content,
                        keyword,
                        reply.received_at,
                        now,
                        reply.message_id,
                        recipient[1] if recipient else reply.campaign_id,
                        recipient[0] if recipient else None,
                    ),
                )
                stored += 1
        return RepliesSaved(stored, repeated, heard, unreadable)

    def _known(self, reply_id: str) -> bool:
        row = self.db.execute_sql(
            "SELECT 1 FROM gateway_replies WHERE reply_id = ?", (reply_id,)
        ).fetchone()
        return row is not None

    def _opt_out(
        self, phone: str, contact_id: int | None, keyword: str, at: float
    ) -> tuple[int, bool]:
        reason = f"replied {keyword} to an SMS"
        standing = self.db.execute_sql(
            "SELECT opted_out_at FROM suppressions WHERE phone = ? AND lifted_at IS NULL",
            (phone,),
        ).fetchone()
        if contact_id is None:
            return self.contacts.add_opted_out(phone, reason, at, SMS_ORIGIN), True
        if standing is not None and float(standing[0]) >= at:
            # Already opted out from this time on (the blacklist showed it first, say):
            # recording the reply is enough; Klaviyo was told then.
            return contact_id, False
        return contact_id, self.contacts.mark_opted_out(contact_id, reason, at, SMS_ORIGIN)

    def _recipient(
        self, message_id: str | None, recipient_id: int | None, phone: str | None
    ) -> tuple[int, int, int] | None:
        """(recipient id, campaign id, contact id) of the message a reply or report is about:
        by its message id, else by the recipient named in its metadata (same number only)."""
        if message_id is not None:
            row = self.db.execute_sql(
                "SELECT id, campaign_id, contact_id FROM campaign_recipients WHERE message_id = ?",
                (message_id,),
            ).fetchone()
            if row is not None:
                return int(row[0]), int(row[1]), int(row[2])
        if recipient_id is not None and phone is not None:
            row = self.db.execute_sql(
                "SELECT id, campaign_id, contact_id FROM campaign_recipients WHERE id = ?"
                " AND phone = ?",
                (recipient_id, phone),
            ).fetchone()
            if row is not None:
                return int(row[0]), int(row[1]), int(row[2])
        return None

    # ----- delivery reports --------------------------------------------------------------------
    def apply_reports(self, reports: Iterable[ReportIn]) -> ReportsApplied:
        """Each report moves its recipient's delivery status on (a final status is never
        replaced; an earlier one never overwrites a later one). A report for a recipient whose
        outcome was unknown proves the gateway took it: it becomes submitted."""
        applied = unmatched = confirmed = 0
        campaigns: set[int] = set()
        with self.db.atomic():
            for report in reports:
                found = self._recipient(report.message_id, report.recipient_id, report.phone)
                if found is None:
                    unmatched += 1
                    continue
                rid, campaign_id, _ = found
                campaigns.add(campaign_id)
                confirmed += self.db.execute_sql(
                    "UPDATE campaign_recipients SET state = ?, reason = NULL WHERE id = ?"
                    " AND (state = ? OR (state = ? AND reason = ?))",
                    (
                        RecipientState.SUBMITTED,
                        rid,
                        RecipientState.UNKNOWN,
                        RecipientState.SKIPPED,
                        SkipReason.DROPPED,
                    ),
                ).rowcount
                if report.message_id is not None:
                    self.db.execute_sql(
                        "UPDATE campaign_recipients SET message_id = ? WHERE id = ?"
                        " AND message_id IS NULL",
                        (report.message_id, rid),
                    )
                applied += self._delivery(rid, report)
        return ReportsApplied(applied, unmatched, confirmed, frozenset(campaigns))

    def _delivery(self, rid: int, report: ReportIn) -> int:
        try:
            status = Delivery(report.status or "")
        except ValueError:
            return 0  # queued, processing, held…: nothing a person needs to see
        finals = ",".join(f"'{d.value}'" for d in Delivery if d.final)
        if status.final:
            guard = f"(delivery IS NULL OR delivery NOT IN ({finals}))"
        else:
            guard = (
                f"(delivery IS NULL OR (delivery NOT IN ({finals})"
                f" AND coalesce(delivery_at, 0) <= coalesce(?, 0)))"
            )
        args: list[object] = [status.value, report.at, report.code, rid]
        if not status.final:
            args.append(report.at)
        cur = self.db.execute_sql(
            "UPDATE campaign_recipients SET delivery = ?, delivery_at = ?, delivery_code = ?"
            f" WHERE id = ? AND {guard}",
            args,
        )
        return int(cur.rowcount)

    def recent_replies(self, limit: int = 100) -> list[ReplyRow]:
        """The newest replies first: for the replies screen."""
        rows = self.db.execute_sql(
            f"SELECT {', '.join(ReplyRow._fields)} FROM gateway_replies"
            " ORDER BY received_at DESC LIMIT ?",
            (limit,),
        )
        return list(map(ReplyRow._make, rows))


def _believed(received_at: float | None, now: float) -> float:
    """When the person said it: the gateway's time, unless it is missing or in our future."""
    if received_at is None or received_at > now + _CLOCK_SKEW_S:
        return now
    return min(received_at, now)
