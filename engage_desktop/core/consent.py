"""The SMS consent rules: one table, used by the sync engine and shown in the UI."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


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
    if consent == "UNSUBSCRIBED":
        return SmsStatus.OPTED_OUT
    if consent == "SUBSCRIBED":
        return SmsStatus.SUBSCRIBED
    return SmsStatus.SUBSCRIBED if mode is ConsentMode.INFERRED else SmsStatus.NEVER_SUBSCRIBED


def consent_table(mode: ConsentMode) -> list[tuple[str, SmsStatus]]:
    """The rows a person sees: Klaviyo's SMS consent -> what it becomes here."""
    rows: list[tuple[str, str | None]] = [
        ("SUBSCRIBED", "SUBSCRIBED"),
        ("UNSUBSCRIBED", "UNSUBSCRIBED"),
        ("NEVER_SUBSCRIBED", "NEVER_SUBSCRIBED"),
        ("no SMS consent", None),
    ]
    return [(label, status_from_klaviyo(value, mode)) for label, value in rows]


def resolve(
    local: SmsStatus | None,
    local_opted_out_at: datetime | None,
    klaviyo_consent: str | None,
    klaviyo_consent_at: datetime | None,
    mode: ConsentMode,
) -> SmsStatus:
    """The status after a sync. A local opt-out wins over an older Klaviyo SUBSCRIBED; a
    SUBSCRIBED newer than the opt-out (the person re-subscribed) wins."""
    incoming = status_from_klaviyo(klaviyo_consent, mode)
    if local is not SmsStatus.OPTED_OUT or incoming is SmsStatus.OPTED_OUT:
        return incoming
    resubscribed = (
        klaviyo_consent == "SUBSCRIBED"
        and klaviyo_consent_at is not None
        and local_opted_out_at is not None
        and klaviyo_consent_at > local_opted_out_at
    )
    return SmsStatus.SUBSCRIBED if resubscribed else SmsStatus.OPTED_OUT
