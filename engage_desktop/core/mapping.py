"""Field-mapping rules: parsing `Name=path[:type]`, the defaults, and what makes a mapping valid."""

from __future__ import annotations

from dataclasses import dataclass

from engage_desktop.core.fields import FieldType

STANDARD_ATTRIBUTES = (
    "email",
    "phone_number",
    "external_id",
    "first_name",
    "last_name",
    "organization",
    "locale",
    "title",
    "image",
    "created",
    "updated",
    "last_event_date",
    "location.address1",
    "location.address2",
    "location.city",
    "location.country",
    "location.region",
    "location.zip",
    "location.timezone",
)

# Columns of the contact itself, filled from these Klaviyo attributes on every sync.
CONTACT_COLUMNS = {
    "First name": "first_name",
    "Last name": "last_name",
    "Email": "email",
    "Phone": "phone_number",
}


@dataclass(frozen=True)
class MappingSpec:
    """One requested mapping: platform field name, Klaviyo path, platform type."""

    name: str
    path: str
    type: FieldType = FieldType.TEXT


class MappingError(ValueError):
    """A mapping that cannot be saved, with the reason in plain words."""


def parse_mapping(text: str) -> MappingSpec:
    """`Platform Field=klaviyo.path[:text|number|date]` (names are exact: case and spaces)."""
    name, sep, rest = text.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise MappingError(f"'{text}': write it as \"Platform Field=klaviyo.path[:type]\"")
    path, _, kind = rest.partition(":")
    try:
        ftype = FieldType(kind.strip().lower()) if kind.strip() else FieldType.TEXT
    except ValueError:
        raise MappingError(f"'{kind}' is not a field type (text, number or date)") from None
    return MappingSpec(name.strip(), path.strip(), ftype)


def validate_mappings(specs: list[MappingSpec]) -> list[str]:
    """Errors that block saving: an empty name or path, the same platform field twice."""
    errors: list[str] = []
    seen: set[str] = set()
    for spec in specs:
        if not spec.name:
            errors.append("A platform field name is empty.")
        if not spec.path:
            errors.append(f"'{spec.name}' has no Klaviyo field.")
        if spec.name in CONTACT_COLUMNS:
            errors.append(f"'{spec.name}' is always filled from {CONTACT_COLUMNS[spec.name]}.")
        if spec.name in seen:
            errors.append(f"'{spec.name}' is mapped twice.")
        seen.add(spec.name)
    return errors
