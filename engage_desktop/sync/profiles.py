"""A fetched Klaviyo profile -> a staged row: E.164 phone, mapped and coerced fields, issues."""

from __future__ import annotations

from engage_desktop.core.fields import coerce
from engage_desktop.core.mapping import CONTACT_COLUMNS
from engage_desktop.klaviyo.models import Profile
from engage_desktop.storage.fields import FieldMapping
from engage_desktop.storage.staging import StagedIssue, StagedProfile
from engage_desktop.sync.phones import normalize_phone


def stage_profile(
    profile: Profile, mappings: list[FieldMapping], region: str, seen_paths: set[str]
) -> tuple[StagedProfile, list[StagedIssue]]:
    issues: list[StagedIssue] = []
    builtin = {
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "email": profile.email,
        "phone_number": profile.phone_number,
    }
    values: dict[str, object] = {}
    for m in mappings:
        raw = profile.value_at(m.path)
        column = CONTACT_COLUMNS.get(m.name)
        if column is not None:  # a built-in column filled from another attribute
            builtin[column] = None if raw is None else str(raw)
        if raw is None:
            continue
        seen_paths.add(m.path)
        if column is not None:
            continue
        result = coerce(raw, m.type)
        if result.ok:
            values[m.name] = result.value
        else:
            issues.append(StagedIssue(profile.id, m.name, str(raw)[:200], result.reason))
    phone_raw = builtin["phone_number"]
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
        StagedProfile(
            profile_id=profile.id,
            phone=phone,
            phone_raw=phone_raw,
            email=builtin["email"],
            first_name=builtin["first_name"],
            last_name=builtin["last_name"],
            fields=values,
            consent=sms.consent if sms else None,
            consent_at=sms.timestamp.timestamp() if sms and sms.timestamp else None,
            updated_at=profile.updated.timestamp() if profile.updated else None,
        ),
        issues,
    )
