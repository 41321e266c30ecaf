"""The SMS consent rules: one table, used by the sync engine and shown in the UI.

A contact's SMS status is derived, never merely copied: from what each of its source records
says (a Klaviyo profile's SMS consent, with its time) and from the opt-out remembered for its
number. The rules, in order (docs/CONSENT.md states them as the engine's promises):

1. A source record that says UNSUBSCRIBED makes the number opted out, whichever record it is.
2. A number already opted out stays opted out unless a source recorded SUBSCRIBED *after* the
   opt-out (the person re-subscribed) and no source still says UNSUBSCRIBED.
3. Otherwise: subscribed when a source says SUBSCRIBED; a record without consent (or
   NEVER_SUBSCRIBED) counts as subscribed under Inferred consent and not under Explicit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from engage_desktop.core.sources import source_label

UNSUBSCRIBED = "UNSUBSCRIBED"
SUBSCRIBED = "SUBSCRIBED"


class SmsStatus(StrEnum):
    """A contact's SMS status on our side."""

    SUBSCRIBED = "subscribed"
    NEVER_SUBSCRIBED = "never_subscribed"  # not messageable
    OPTED_OUT = "opted_out"

    @property
    def label(self) -> str:
        """As shown to people."""
        return {
            "subscribed": "Subscribed",
            "never_subscribed": "Never subscribed",
            "opted_out": "Opted out",
        }[self.value]


class ConsentMode(StrEnum):
    """How a profile without an SMS consent record is treated."""

    INFERRED = "inferred"
    EXPLICIT = "explicit"


def status_from_klaviyo(consent: str | None, mode: ConsentMode) -> SmsStatus:
    """Klaviyo UNSUBSCRIBED -> opted out; SUBSCRIBED -> subscribed; anything else by mode."""
    if consent == UNSUBSCRIBED:
        return SmsStatus.OPTED_OUT
    if consent == SUBSCRIBED:
        return SmsStatus.SUBSCRIBED
    return SmsStatus.SUBSCRIBED if mode is ConsentMode.INFERRED else SmsStatus.NEVER_SUBSCRIBED


def consent_table(mode: ConsentMode) -> list[tuple[str, SmsStatus]]:
    """The rows a person sees: Klaviyo's SMS consent -> what it becomes here."""
    rows: list[tuple[str, str | None]] = [
        ("SUBSCRIBED", SUBSCRIBED),
        ("UNSUBSCRIBED", UNSUBSCRIBED),
        ("NEVER_SUBSCRIBED", "NEVER_SUBSCRIBED"),
        ("no SMS consent", None),
    ]
    return [(label, status_from_klaviyo(value, mode)) for label, value in rows]


@dataclass(frozen=True)
class RecordConsent:
    """What one source record (a Klaviyo profile, a Mailjet contact, a CSV row) says."""

    source: str  # KLAVIYO, MAILJET, CSV
    consent: str | None  # SUBSCRIBED | UNSUBSCRIBED | NEVER_SUBSCRIBED | None
    consent_at: float | None  # when the source recorded it (epoch seconds)
    mode: ConsentMode  # how that source's records without consent count


@dataclass(frozen=True)
class Verdict:
    """A contact's derived status, and what changes about its number's opt-out."""

    status: SmsStatus
    reason: str
    opt_out_at: float | None = None  # a new opt-out starts (rule 1), at this time
    lifted_at: float | None = None  # the standing opt-out is lifted by this newer SUBSCRIBED


def derive_status(
    records: Sequence[RecordConsent], opted_out_at: float | None, now: float
) -> Verdict:
    """The status of a contact with these source records, given the opt-out that stands for
    it (its number's, or the contact's own when it has no number) since `opted_out_at`."""
    unsubscribed = [r for r in records if r.consent == UNSUBSCRIBED]
    if unsubscribed:
        reason = f"{source_label(unsubscribed[0].source)} SMS consent: UNSUBSCRIBED"
        if opted_out_at is not None:
            return Verdict(SmsStatus.OPTED_OUT, reason)
        known = [r.consent_at for r in unsubscribed if r.consent_at is not None]
        return Verdict(SmsStatus.OPTED_OUT, reason, opt_out_at=max(known) if known else now)
    subscribed = [r for r in records if r.consent == SUBSCRIBED]
    if opted_out_at is not None:
        newer = [r for r in subscribed if r.consent_at is not None and r.consent_at > opted_out_at]
        if not newer:
            return Verdict(SmsStatus.OPTED_OUT, "")  # the standing opt-out keeps its reason
        latest = max(newer, key=lambda r: r.consent_at or 0.0)
        return Verdict(
            SmsStatus.SUBSCRIBED,
            f"{source_label(latest.source)} SMS consent: SUBSCRIBED after the opt-out",
            lifted_at=latest.consent_at,
        )
    if subscribed:
        first = source_label(subscribed[0].source)
        return Verdict(SmsStatus.SUBSCRIBED, f"{first} SMS consent: SUBSCRIBED")
    inferred = [r for r in records if r.mode is ConsentMode.INFERRED]
    if inferred:
        what = inferred[0].consent or "none"
        return Verdict(
            SmsStatus.SUBSCRIBED,
            f"{source_label(inferred[0].source)} SMS consent: {what} (inferred)",
        )
    what = records[0].consent or "none" if records else "none"
    source = source_label(records[0].source) if records else "No source"
    return Verdict(SmsStatus.NEVER_SUBSCRIBED, f"{source} SMS consent: {what}")
