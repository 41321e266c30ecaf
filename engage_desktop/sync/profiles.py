"""A fetched Klaviyo profile -> a staged record: E.164 phone, mapped and coerced fields, issues.

Nothing is dropped in silence: a value of the wrong kind, invisible control characters or a
value over the size cap each leave an issue on the run, naming the profile and the field.
"""

from __future__ import annotations

from typing import Any

from engage_desktop.core.fields import FieldType, coerce
from engage_desktop.core.mapping import CONTACT_COLUMNS, MappingSpec
from engage_desktop.core.text import MAX_DETAIL_CHARS, clean_text
from engage_desktop.klaviyo.models import Profile
from engage_desktop.storage.staging import StagedIssue, StagedRecord
from engage_desktop.sync.phones import normalize_phone

_SHOWN = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone_number": "Phone",
}


def stage_profile(
    profile: Profile, mappings: list[MappingSpec], region: str, seen_paths: set[str]
) -> tuple[StagedRecord, list[StagedIssue]]:
    issues: list[StagedIssue] = []
    attrs = profile.attributes
    builtin: dict[str, Any] = {k: attrs.get(k) for k in _SHOWN}
    values: dict[str, object] = {}
    for m in mappings:
        raw = profile.value_at(m.path)
        column = CONTACT_COLUMNS.get(m.name)
        if column is not None:  # a built-in column filled from another attribute
            builtin[column] = raw if raw is None or isinstance(raw, str) else str(raw)
        if raw is None:
            continue
        seen_paths.add(m.path)
        if column is not None:
            continue
        result = coerce(raw, m.type)
        if not result.ok:
            issues.append(StagedIssue(profile.id, m.name, _shown(raw), result.reason))
            continue
        value = result.value
        if m.type is FieldType.TEXT and isinstance(value, str):
            value, note = clean_text(value)
            if note:
                issues.append(StagedIssue(profile.id, m.name, _shown(raw), f"{note}; kept"))
        values[m.name] = value
    details: dict[str, str | None] = {}
    for key, shown in _SHOWN.items():
        raw = builtin[key]
        if raw is not None and not isinstance(raw, str):
            issues.append(
                StagedIssue(
                    profile.id, shown, _shown(raw), f"not text ({type(raw).__name__}): left empty"
                )
            )
            raw = None
        if raw is not None:
            raw, note = clean_text(raw, MAX_DETAIL_CHARS)
            if note:
                issues.append(StagedIssue(profile.id, shown, _shown(builtin[key]), f"{note}; kept"))
        details[key] = raw or None
    phone_raw = details["phone_number"]
    phone = None
    if phone_raw:
        phone = normalize_phone(phone_raw, region)
        if phone is None:
            issues.append(
                StagedIssue(
                    profile.id,
                    "Phone",
                    phone_raw[:200],
                    "not a valid phone number; kept without an SMS number",
                )
            )
    sms = profile.sms
    return (
        StagedRecord(
            external_id=profile.id,
            phone=phone,
            phone_raw=phone_raw,
            email=details["email"],
            first_name=details["first_name"],
            last_name=details["last_name"],
            fields=values,
            consent=sms.consent if sms else None,
            consent_at=sms.timestamp.timestamp() if sms and sms.timestamp else None,
            updated_at=profile.updated.timestamp() if profile.updated else None,
        ),
        issues,
    )


def _shown(value: object) -> str:
    """A value as an issue row keeps it: text, at most 200 characters, no control characters."""
    text = value if isinstance(value, str) else repr(value)
    return clean_text(text, 200)[0]
