"""SMS gateway rules without I/O: credentials, recipient and campaign states, skip reasons,
opt-out keywords and gateway numbers.

These are the words the sender, the reply processor, the actions and the screens share: a
recipient is `pending` until its batch is claimed (`sending`), then `submitted` (the gateway
answered 202) or `unknown` (the answer was lost: it may or may not have gone, and is never
resent without a person deciding). The opt-out words follow shared/messagemedia/NOTES.md §7:
the whole reply, trimmed, case-folded and without trailing punctuation, is the keyword.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

# Sinch MessageMedia's hosts (NOTES §1): EU and APAC for Sinch Engage accounts, and the
# pre-rebrand host that the SDKs and Sinch's own 2026 integration still use.
BASE_URLS = {
    "eu": "https://eu.app.api.sinch.com",
    "apac": "https://au.app.api.sinch.com",
    "legacy": "https://api.messagemedia.com",
}
DEFAULT_GATEWAY_URL = BASE_URLS["legacy"]

# No stored source lists MessageMedia's own words; these are the carrier/CTIA words (NOTES §7).
DEFAULT_OPT_OUT_KEYWORDS: tuple[str, ...] = (
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
)
_TRAILING_PUNCTUATION = ".!?,;:'\"“”‘’ \t\r\n"
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
SMS_ORIGIN = "SMS"  # suppressions.origin of an opt-out heard through the SMS gateway


class GatewayCredentials:
    """A MessageMedia API key and secret; repr and str never show either."""

    __slots__ = ("_key", "_secret")

    def __init__(self, key: str, secret: str) -> None:
        self._key = key.strip()
        self._secret = secret.strip()

    @property
    def key(self) -> str:
        return self._key

    def reveal_secret(self) -> str:
        return self._secret

    @property
    def masked(self) -> str:
        """The key as it may be shown: its last four characters only; the secret never."""
        return f"…{self._key[-4:]}" if len(self._key) > 8 else "…"

    def __repr__(self) -> str:
        return f"GatewayCredentials(key={self.masked}, secret=***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, GatewayCredentials)
            and other._key == self._key
            and other._secret == self._secret
        )

    def __hash__(self) -> int:
        return hash(("GatewayCredentials", self._key, self._secret))


class RecipientState(StrEnum):
    """Where one recipient of a campaign is."""

    PENDING = "pending"  # to be sent
    SENDING = "sending"  # its batch is claimed and (maybe) on the wire
    SUBMITTED = "submitted"  # the gateway accepted it (202)
    UNKNOWN = "unknown"  # the batch's answer was lost: a person decides (resend or drop)
    SKIPPED = "skipped"  # never sent, for `reason`
    FAILED = "failed"  # the gateway refused it (400): never sent


class SkipReason(StrEnum):
    """Why a recipient is not sent the message; the first that applies, in this order."""

    OPTED_OUT = "opted_out"
    NEVER_SUBSCRIBED = "never_subscribed"
    NO_VALID_PHONE = "no_valid_phone"
    GATEWAY_BLOCKED = "gateway_blocked"  # subscribed here, on MessageMedia's blacklist
    MISSING_FIELD = "missing_field"  # a placeholder without fallback has no value
    REMOVED = "removed"  # the contact was deleted after the campaign was prepared
    CANCELLED = "cancelled"  # the campaign was cancelled before its turn
    DROPPED = "dropped"  # its outcome was unknown and a person chose not to resend

    @property
    def label(self) -> str:
        return _REASON_LABELS[self]


_REASON_LABELS = {
    SkipReason.OPTED_OUT: "opted out",
    SkipReason.NEVER_SUBSCRIBED: "never subscribed",
    SkipReason.NO_VALID_PHONE: "no valid phone",
    SkipReason.GATEWAY_BLOCKED: "blocked by MessageMedia's blacklist",
    SkipReason.MISSING_FIELD: "a field of the message is empty",
    SkipReason.REMOVED: "no longer a contact",
    SkipReason.CANCELLED: "campaign cancelled",
    SkipReason.DROPPED: "outcome unknown, not resent",
}


class CampaignStatus(StrEnum):
    """A campaign's life."""

    PREPARING = "preparing"  # recipients being written (a crash here leaves it unusable)
    READY = "ready"  # prepared, nothing sent yet
    SENDING = "sending"  # a sender holds it (or held it and died: resume recovers)
    CANCELLING = "cancelling"  # asked to stop; the sender finishes the batches on the wire
    PAUSED = "paused"  # stopped by an error (credentials, network): resume continues
    FINISHED = "finished"  # nothing left to send (unknown recipients may await a decision)
    CANCELLED = "cancelled"  # stopped for good; what was not sent is skipped


class Delivery(StrEnum):
    """What the gateway's delivery reports say about a submitted message."""

    ENROUTE = "enroute"
    SUBMITTED = "submitted"
    DELIVERED = "delivered"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset({Delivery.DELIVERED, Delivery.FAILED, Delivery.REJECTED, Delivery.EXPIRED})


def parse_keywords(words: Iterable[str]) -> tuple[str, ...]:
    """Opt-out words as they are matched: upper case, trimmed, no empties, no repeats."""
    out: list[str] = []
    for word in words:
        w = word.strip().upper()
        if w and w not in out:
            out.append(w)
    return tuple(out)


def opt_out_keyword(content: str, keywords: Iterable[str] = DEFAULT_OPT_OUT_KEYWORDS) -> str | None:
    """The opt-out word a reply consists of, if it is one: the whole text, trimmed,
    case-folded, trailing punctuation stripped ("Stop." opts out, "don't stop" does not)."""
    word = content.strip().rstrip(_TRAILING_PUNCTUATION).strip().casefold()
    for keyword in keywords:
        if word == keyword.casefold():
            return keyword.upper()
    return None


def is_e164(number: str) -> bool:
    """`+`, a country code and 8 to 15 digits in all: what the gateway takes as a number."""
    return _E164.fullmatch(number) is not None


def canonical_number(number: str) -> str | None:
    """A number from the gateway in E.164 (its blacklist may drop the `+`); None if it is
    not one."""
    n = number.strip().replace(" ", "")
    if n and not n.startswith("+"):
        n = "+" + n
    return n if is_e164(n) else None
