"""The gateway's blacklist as we last saw it whole, compared with our opt-outs.

Both ways, consent first (docs/sms-gateway.md):

- A number that *appears* on the blacklist without us having put it there is an opt-out
  (a STOP the gateway heard, which may never show as a reply): it becomes a local opt-out
  (and reaches Klaviyo through the outbox) unless one already stands.
- Every standing local opt-out is added to the blacklist, as a net: the gateway then refuses
  that number whatever sends to it. Numbers are never taken off automatically; one whose local
  opt-out was lifted by a newer SUBSCRIBED stays blocked until a person unblocks it, and
  campaigns skip it as `gateway_blocked` meanwhile.

Only a complete listing is compared (a listing that failed half-way changes nothing), in
chunks, each its own short transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import peewee

from engage_desktop.core.messaging import SMS_ORIGIN
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.suppressions import standing

OPT_OUT_REASON = "on MessageMedia's blacklist (opted out at the gateway)"
_CHUNK = 2000
_MIN_PHONE_CHARS = 9  # the gateway takes 8 to 15 digits after the "+"


@dataclass(frozen=True)
class ListingApplied:
    """What comparing a complete listing did."""

    listed: int = 0
    appeared: int = 0  # new on the blacklist since the last complete listing
    opted_out: list[str] = field(default_factory=list)  # numbers that became local opt-outs
    gone: int = 0  # no longer listed (someone took them off at the gateway)


class BlacklistRepo:
    """Remembers the gateway's blacklist and what we did about each number."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def listed(self) -> set[str]:
        rows = self.db.execute_sql("SELECT phone FROM gateway_blacklist WHERE listed = 1")
        return {str(p) for (p,) in rows}

    def apply_listing(self, numbers: set[str], now: float) -> ListingApplied:
        """Compare a complete listing with the last one and with our opt-outs."""
        before = self.listed()
        appeared = sorted(numbers - before)
        gone = sorted(before - numbers)
        opted_out: list[str] = []
        contacts = ContactRepo(self.db)
        for i in range(0, len(appeared), _CHUNK):
            chunk = appeared[i : i + _CHUNK]
            with self.db.atomic():
                ours = self._added_by_us(chunk)
                stands = standing(self.db, chunk)
                for phone in chunk:
                    evidence = phone not in ours and phone not in stands
                    if evidence:
                        cid = contacts.find_by_phone(phone)
                        if cid is None:
                            contacts.add_opted_out(phone, OPT_OUT_REASON, now, SMS_ORIGIN)
                        else:
                            contacts.mark_opted_out(cid, OPT_OUT_REASON, now, SMS_ORIGIN)
                        opted_out.append(phone)
                    self.db.execute_sql(
                        "INSERT INTO gateway_blacklist (phone, listed, first_seen_at,"
                        " last_seen_at, opted_out_at) VALUES (?, 1, ?, ?, ?)"
                        " ON CONFLICT (phone) DO UPDATE SET listed = 1, last_seen_at = ?,"
                        " first_seen_at = coalesce(gateway_blacklist.first_seen_at, ?),"
                        " opted_out_at = coalesce(excluded.opted_out_at,"
                        " gateway_blacklist.opted_out_at)",
                        (phone, now, now, now if evidence else None, now, now),
                    )
        for i in range(0, len(gone), _CHUNK):
            with self.db.atomic():
                self.db.cursor().executemany(
                    "UPDATE gateway_blacklist SET listed = 0, last_seen_at = ? WHERE phone = ?",
                    [(now, p) for p in gone[i : i + _CHUNK]],
                )
        return ListingApplied(len(numbers), len(appeared), opted_out, len(gone))

    def _added_by_us(self, phones: list[str]) -> set[str]:
        marks = ",".join("?" * len(phones))
        rows = self.db.execute_sql(
            f"SELECT phone FROM gateway_blacklist WHERE added_at IS NOT NULL"
            f" AND phone IN ({marks})",
            phones,
        )
        return {str(p) for (p,) in rows}

    def to_add(self, limit: int) -> list[str]:
        """Standing local opt-outs the gateway's blacklist does not hold (as last seen)."""
        rows = self.db.execute_sql(
            "SELECT s.phone FROM suppressions s WHERE s.lifted_at IS NULL"
            f" AND length(s.phone) >= {_MIN_PHONE_CHARS} AND NOT EXISTS"
            " (SELECT 1 FROM gateway_blacklist b WHERE b.phone = s.phone AND b.listed = 1)"
            " ORDER BY s.opted_out_at DESC LIMIT ?",
            (limit,),
        )
        return [str(p) for (p,) in rows]

    def added(self, phones: Iterable[str], now: float) -> None:
        """We put these numbers on the blacklist (they are listed from now on)."""
        with self.db.atomic():
            self.db.cursor().executemany(
                "INSERT INTO gateway_blacklist (phone, listed, first_seen_at, last_seen_at,"
                " added_at) VALUES (?, 1, ?, ?, ?) ON CONFLICT (phone) DO UPDATE SET"
                " listed = 1, added_at = excluded.added_at, last_seen_at = excluded.last_seen_at",
                [(p, now, now, now) for p in phones],
            )

    def unblocked(self, phone: str, now: float) -> None:
        """A person took this number off the blacklist."""
        self.db.execute_sql(
            "UPDATE gateway_blacklist SET listed = 0, added_at = NULL, last_seen_at = ?"
            " WHERE phone = ?",
            (now, phone),
        )

    def blocked_but_subscribed(self) -> list[str]:
        """Numbers the blacklist holds whose opt-out here was lifted (a newer SUBSCRIBED):
        campaigns skip them until a person unblocks them at the gateway."""
        rows = self.db.execute_sql(
            "SELECT b.phone FROM gateway_blacklist b JOIN contacts c ON c.phone = b.phone"
            " WHERE b.listed = 1 AND c.sms_status = 'subscribed' AND NOT EXISTS"
            " (SELECT 1 FROM suppressions s WHERE s.phone = b.phone AND s.lifted_at IS NULL)"
            " ORDER BY b.phone"
        )
        return [str(p) for (p,) in rows]
