"""The account's messages on the emulator's clock: statuses, delivery reports, replies, blacklist.

Sizes are a benchmark's (100,000 messages), so nothing here scans all messages per request:
messages live in a dict by id; status changes wait in a heap ordered by due time and are
applied lazily, before each request, in time order; unconfirmed reports and replies live in
insertion-ordered dicts, so "the oldest 100" is the first 100 and a confirm is a `pop`.

A message goes queued (or scheduled) -> enroute -> submitted -> delivered, failed or rejected,
each step `Settings.*_after_s` after the one before. One to a blacklisted number goes straight
to `rejected` with `Settings.blocked_error_code` at its first step: MessageMedia checks the
blacklist itself and "issue[s] a delivery receipt with the appropriate status code" (S1).
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from engage_desktop.emulator.messagemedia.protocol import (
    billing_units,
    canonical_number,
    iso_ms,
    opt_out_keyword,
)
from engage_desktop.emulator.messagemedia.settings import Settings
from engage_desktop.emulator.messagemedia.validation import NewMessage

RETENTION_S = 45 * 24 * 3600  # "The expiry date for getting an entity is 45 days" (S1)
FINAL = frozenset({"delivered", "failed", "rejected", "expired", "cancelled"})
# Status codes as pushed with webhooks (S1 Delivery Reports tag); the polled schema has none,
# but the admin view shows them.
CODES = {
    "enroute": "101",
    "submitted": "200",
    "delivered": "220",
    "failed": "400",
    "rejected": "402",
}
PAGE = 100  # reports / replies per poll
_ID_BITS = random.Random()  # seeded from the OS
_CLEAR_VERSION = ~((0xF000 << 64) | (0xC000 << 48))
_SET_VERSION = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant


@dataclass(slots=True)
class Outbound:
    """One accepted message and where it is in its life."""

    message_id: str
    fields: dict[str, Any]  # as echoed (message_id and status are added on the way out)
    destination: str
    accepted_at: float
    expires_at: float | None
    outcome: str  # how it ends if nothing stops it first: delivered / failed / rejected
    status: str
    error_code: str | None = None
    updated_at: float = 0.0
    step: int = 0  # bumped on every change; a heap entry for an older step is stale


@dataclass(slots=True)
class Report:
    """One delivery report waiting to be confirmed."""

    delivery_report_id: str
    message: Outbound
    status: str
    at: float


@dataclass(slots=True)
class Reply:
    """One reply (mobile-originated message) waiting to be confirmed."""

    reply_id: str
    message: Outbound | None  # None for a text to our number that answers nothing
    source_number: str  # the handset
    destination_number: str | None  # our number, when the original named one
    content: str
    at: float


class Gateway:
    """The account's state: messages, pending status changes, unconfirmed reports and replies,
    and the blacklist."""

    def __init__(self, settings: Settings, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        self.messages: dict[str, Outbound] = {}
        self.last_to: dict[str, Outbound] = {}  # destination -> latest message sent to it
        self.reports: dict[str, Report] = {}
        self.replies: dict[str, Reply] = {}
        self.blacklist: dict[str, float] = {}  # canonical number -> when it was added
        self.statuses: Counter[str] = Counter()
        self._due: list[tuple[float, int, str, int]] = []  # (when, seq, message_id, step)
        self._seq = itertools.count()
        self._random = random.Random(self.settings.seed)  # outcomes: reproducible per seed

    def new_id(self) -> str:
        """A random (version 4) UUID, ~3x cheaper than `uuid.uuid4()`, which was the biggest
        cost of a 100-message send. Not from the seed: ids must not repeat across restarts."""
        n = _ID_BITS.getrandbits(128) & _CLEAR_VERSION | _SET_VERSION
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    # ----- sending --------------------------------------------------------------------------
    def accept(self, batch: list[NewMessage]) -> list[Outbound]:
        now = self.clock()
        s = self.settings
        accepted = []
        for new in batch:
            roll = self._random.random()
            outcome = (
                "failed"
                if roll < s.failed_rate
                else "rejected"
                if roll < s.failed_rate + s.rejected_rate
                else "delivered"
            )
            later = new.scheduled_at is not None and new.scheduled_at > now
            msg = Outbound(
                self.new_id(),
                new.fields,
                new.destination,
                now,
                new.expires_at,
                outcome,
                "scheduled" if later else "queued",
                updated_at=now,
            )
            self.messages[msg.message_id] = msg
            self.last_to[msg.destination] = msg
            self.statuses[msg.status] += 1
            start = new.scheduled_at if later and new.scheduled_at is not None else now
            self._schedule(msg, start + s.enroute_after_s)
            accepted.append(msg)
        return accepted

    def find(self, message_id: str) -> Outbound | None:
        msg = self.messages.get(message_id)
        if msg is None:
            return None
        # Counted from the last change, so a message scheduled far ahead stays reachable.
        if msg.status != "scheduled" and self.clock() - msg.updated_at > RETENTION_S:
            return None
        return msg

    def cancel(self, msg: Outbound) -> bool:
        """Cancel a scheduled message; False if it is no longer scheduled."""
        if msg.status != "scheduled":
            return False
        self._set(msg, "cancelled", None, self.clock())
        return True

    # ----- time -----------------------------------------------------------------------------
    def advance(self) -> None:
        """Apply every status change due by now, oldest first."""
        now = self.clock()
        due = self._due
        while due and due[0][0] <= now:
            when, _, message_id, step = heapq.heappop(due)
            msg = self.messages[message_id]
            if msg.step == step:
                self._next_status(msg, when)

    def _schedule(self, msg: Outbound, when: float) -> None:
        heapq.heappush(self._due, (when, next(self._seq), msg.message_id, msg.step))

    def _next_status(self, msg: Outbound, when: float) -> None:
        s = self.settings
        if msg.expires_at is not None and when > msg.expires_at:
            # 320: expired before submission; 401: expired before delivery.
            self._set(msg, "expired", "401" if msg.status == "submitted" else "320", when)
        elif msg.status in ("queued", "scheduled"):
            if msg.destination in self.blacklist:
                self._set(msg, "rejected", s.blocked_error_code, when)
            else:
                self._set(msg, "enroute", CODES["enroute"], when)
                self._schedule(msg, when + s.submitted_after_s)
        elif msg.status == "enroute":
            self._set(msg, "submitted", CODES["submitted"], when)
            self._schedule(msg, when + s.delivered_after_s)
        elif msg.status == "submitted":
            self._set(msg, msg.outcome, CODES[msg.outcome], when)

    def _set(self, msg: Outbound, status: str, code: str | None, when: float) -> None:
        self.statuses[msg.status] -= 1
        self.statuses[status] += 1
        msg.status, msg.error_code, msg.updated_at = status, code, when
        msg.step += 1
        # Reports are for messages that asked for them; a client-side cancel is not reported.
        if msg.fields.get("delivery_report") is True and status != "cancelled":
            report = Report(self.new_id(), msg, status, when)
            self.reports[report.delivery_report_id] = report

    # ----- replies and the blacklist ---------------------------------------------------------
    def receive_reply(
        self,
        source_number: str,
        content: str,
        message: Outbound | None,
        destination_number: str | None = None,
    ) -> tuple[Reply, str | None]:
        """A handset's text arrives; an opt-out word blacklists the handset, as Sinch does
        ("a legal requirement", S1). Answers the reply and the opt-out word, if any."""
        keyword = opt_out_keyword(content, self.settings.opt_out_keywords)
        if keyword is not None:
            self.block(canonical_number(source_number))
        if message is not None:
            destination_number = message.fields.get("source_number")
        reply = Reply(
            self.new_id(), message, source_number, destination_number, content, self.clock()
        )
        if keyword is None or self.settings.list_opt_out_replies:
            self.replies[reply.reply_id] = reply
        return reply, keyword

    def block(self, number: str) -> bool:
        """Blacklist a canonical number; False if it already was."""
        if number in self.blacklist:
            return False
        self.blacklist[number] = self.clock()
        return True

    # ----- the wire's views -------------------------------------------------------------------
    def oldest_reports(self) -> Iterator[dict[str, Any]]:
        account = self.settings.account_id
        for report in itertools.islice(self.reports.values(), PAGE):
            msg = report.message
            doc: dict[str, Any] = {
                "delivery_report_id": report.delivery_report_id,
                "source_number": msg.fields["destination_number"],
                "date_received": iso_ms(report.at),
                "status": report.status,
                "delay": 0,
                "billing_units": billing_units(msg.fields["content"]),
                "submitted_date": iso_ms(report.at),
                "original_text": msg.fields["content"],
                "message_id": msg.message_id,
                "vendor_account_id": {"vendor_id": "SinchEU", "account_id": account},
                "metadata": msg.fields.get("metadata", {}),
            }
            if "callback_url" in msg.fields:
                doc["callback_url"] = msg.fields["callback_url"]
            yield doc

    def oldest_replies(self) -> Iterator[dict[str, Any]]:
        account = self.settings.account_id
        for reply in itertools.islice(self.replies.values(), PAGE):
            msg = reply.message
            doc: dict[str, Any] = {
                "reply_id": reply.reply_id,
                "date_received": iso_ms(reply.at),
                "source_number": reply.source_number,
                "vendor_account_id": {"vendor_id": "SinchEU", "account_id": account},
                "content": reply.content,
            }
            if reply.destination_number is not None:
                doc["destination_number"] = reply.destination_number
            if msg is not None:
                doc["message_id"] = msg.message_id
                doc["metadata"] = msg.fields.get("metadata", {})
                if "callback_url" in msg.fields:
                    doc["callback_url"] = msg.fields["callback_url"]
            yield doc

    @staticmethod
    def status_view(msg: Outbound) -> dict[str, Any]:
        """`GET /v1/messages/{id}`: the message as sent, with its id and current status."""
        return {**msg.fields, "message_id": msg.message_id, "status": msg.status}
