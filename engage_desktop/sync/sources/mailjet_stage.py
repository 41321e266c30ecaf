"""A Mailjet contact and its property values -> a staged record: E.164 phone from the
property the user picked, SMS consent from the boolean property the user picked, mapped and
coerced fields, and an issue for everything that could not be taken.

Consent (docs/SOURCES.md): the consent property `true` is SUBSCRIBED and `false` is
UNSUBSCRIBED — an opt-out, which holds for the number everywhere; a contact without a value
has no consent statement (the consent mode decides). Mailjet records no time for a property
value, so a Mailjet SUBSCRIBED never lifts an opt-out. A value that is not true or false
makes the contact unreadable: it is kept as it was (never read as "no consent").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engage_desktop.core.consent import SUBSCRIBED, UNSUBSCRIBED
from engage_desktop.core.fields import FieldType, coerce
from engage_desktop.core.mapping import CONTACT_COLUMNS, MappingSpec
from engage_desktop.core.text import MAX_DETAIL_CHARS, clean_text
from engage_desktop.mailjet.models import ContactData, MailjetContact, property_value
from engage_desktop.storage.staging import StagedIssue, StagedRecord
from engage_desktop.sync.written_phones import written_phone

FIRST_NAME_PROPERTY = "firstname"  # the properties every Mailjet account has
LAST_NAME_PROPERTY = "name"
_TRUE = ("true", "1", "yes", "y")
_FALSE = ("false", "0", "no", "n")


@dataclass(frozen=True)
class MailjetRules:
    """How this account's contacts are read (its connection's settings)."""

    phone_property: str
    region: str
    consent_property: str | None
    mappings: tuple[MappingSpec, ...]


class UnreadableConsent(ValueError):
    """A consent property value that is neither true nor false."""


def read_consent(value: Any) -> str | None:
    """SUBSCRIBED for true, UNSUBSCRIBED for false, None when unset; UnreadableConsent for
    anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return SUBSCRIBED if value else UNSUBSCRIBED
    text = str(value).strip().lower()
    if text in _TRUE:
        return SUBSCRIBED
    if text in _FALSE:
        return UNSUBSCRIBED
    raise UnreadableConsent(text[:40])


def stage_contact(
    contact: MailjetContact, data: ContactData, rules: MailjetRules, seen: set[str]
) -> tuple[StagedRecord | None, list[StagedIssue]]:
    """The staged record (None when the contact cannot be read: keep it as it was) and its
    issues. `seen` collects the mapped properties some contact had."""
    cid = str(contact.id)
    issues: list[StagedIssue] = []
    values = data.values
    consent = None
    if rules.consent_property:
        raw_consent = property_value(values, rules.consent_property)
        try:
            consent = read_consent(raw_consent)
        except UnreadableConsent:
            issues.append(
                StagedIssue(
                    cid,
                    rules.consent_property,
                    _shown(raw_consent),
                    "SMS consent is neither true nor false: contact kept as it was",
                )
            )
            return None, issues
    first = property_value(values, FIRST_NAME_PROPERTY)
    last = property_value(values, LAST_NAME_PROPERTY)
    if first is None and last is None and contact.name:
        first, _, rest = contact.name.strip().partition(" ")
        last = rest or None
    details: dict[str, Any] = {"email": contact.email, "first_name": first, "last_name": last}
    fields: dict[str, object] = {}
    for m in rules.mappings:
        raw = property_value(values, m.path)
        column = CONTACT_COLUMNS.get(m.name)
        if raw is None or raw == "":
            continue
        seen.add(m.path.lower())
        if column in ("first_name", "last_name", "email"):
            details[column] = raw if isinstance(raw, str) else str(raw)
            continue
        if column is not None:  # "Phone": the phone property decides
            continue
        result = coerce(raw, m.type)
        if not result.ok:
            issues.append(StagedIssue(cid, m.name, _shown(raw), result.reason))
            continue
        value = result.value
        if m.type is FieldType.TEXT and isinstance(value, str):
            value, note = clean_text(value)
            if note:
                issues.append(StagedIssue(cid, m.name, _shown(raw), f"{note}; kept"))
        fields[m.name] = value
    shown = {"email": "Email", "first_name": "First name", "last_name": "Last name"}
    for key, label in shown.items():
        raw = details[key]
        if raw is not None and not isinstance(raw, str):
            raw = str(raw)
        if raw:
            cleaned, note = clean_text(raw, MAX_DETAIL_CHARS)
            if note:
                issues.append(StagedIssue(cid, label, _shown(raw), f"{note}; kept"))
            raw = cleaned
        details[key] = raw or None
    phone_raw, phone = read_phone(property_value(values, rules.phone_property), rules.region)
    if phone_raw and phone is None:
        issues.append(
            StagedIssue(
                cid,
                "Phone",
                phone_raw[:200],
                "not a valid phone number; kept without an SMS number",
            )
        )
    return (
        StagedRecord(
            external_id=cid,
            phone=phone,
            phone_raw=phone_raw,
            email=details["email"],
            first_name=details["first_name"],
            last_name=details["last_name"],
            fields=fields,
            consent=consent,
            consent_at=None,  # Mailjet keeps no consent time: it never lifts an opt-out
            updated_at=contact.updated,
        ),
        issues,
    )


def read_phone(value: Any, region: str) -> tuple[str | None, str | None]:
    """(as written, E.164 or None): a number written any way, national ones read in
    `region`; nothing written (None, "", spaces) is no number at all."""
    if value is None or isinstance(value, bool):
        return None, None
    text = clean_text(str(value).strip(), 200)[0]
    if not text:
        return None, None
    return text, written_phone(text, region)


def _shown(value: object) -> str:
    """A value as an issue row keeps it: text, at most 200 characters, no control characters."""
    text = value if isinstance(value, str) else repr(value)
    return clean_text(text, 200)[0]
