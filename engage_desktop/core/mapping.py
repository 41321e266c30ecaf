"""Field-mapping rules: parsing `Name=path[:type]`, the defaults, and what makes a mapping valid."""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from engage_desktop.core.fields import FieldType, coerce

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

# Columns of the contact itself, filled from these Klaviyo attributes unless a mapping of the
# same name points elsewhere (always as text).
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


EMPTY_ROW = "Name a platform field and its Klaviyo field, or remove the row."


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
    return [message for _, message in mapping_row_errors(specs)]


def mapping_row_errors(specs: list[MappingSpec]) -> list[tuple[int, str]]:
    """The blocking errors with the row each belongs to (a row that is still empty is one
    error, not one for its name and one for its Klaviyo field)."""
    errors: list[tuple[int, str]] = []
    seen: set[str] = set()
    for row, spec in enumerate(specs):
        if not spec.name and not spec.path:
            errors.append((row, EMPTY_ROW))
            continue
        if not spec.name:
            errors.append((row, "A platform field name is empty."))
        if not spec.path:
            errors.append((row, f"'{spec.name}' has no Klaviyo field."))
        if spec.name in CONTACT_COLUMNS and spec.type is not FieldType.TEXT:
            errors.append((row, f"'{spec.name}' is a built-in text field."))
        if spec.name and spec.name in seen:
            errors.append((row, f"'{spec.name}' is mapped twice."))
        seen.add(spec.name)
    return errors


@dataclass(frozen=True)
class MappingWarning:
    """A problem worth showing next to a mapping row; never blocks saving."""

    row: int
    kind: str  # "type" | "no_exact_match" | "not_seen"
    message: str
    suggestion: str | None = None  # a Klaviyo field to use instead (one click applies it)


def mapping_warnings(
    specs: list[MappingSpec],
    sample: list[dict[str, Any]],
    known_paths: list[str],
    new_fields: Collection[str] = (),
) -> list[MappingWarning]:
    """Warnings from sampled profiles' attributes: values that do not fit the platform type,
    a Klaviyo name with no exact match (with a near match to suggest), one not in the sample.
    `new_fields` are created on save: their contacts have no old value to keep."""
    out: list[MappingWarning] = []
    for row, spec in enumerate(specs):
        values = [v for v in (value_at(a, spec.path) for a in sample) if v is not None]
        if spec.path not in known_paths:
            near = difflib.get_close_matches(spec.path, known_paths, n=1, cutoff=0.75)
            if not near:
                near = [p for p in known_paths if p.lower() == spec.path.lower()]
            hint = f' Did you mean "{near[0]}"?' if near else ""
            out.append(
                MappingWarning(
                    row,
                    "no_exact_match",
                    f'No Klaviyo field is named exactly "{spec.path}".{hint}',
                    near[0] if near else None,
                )
            )
        elif not values:
            out.append(
                MappingWarning(row, "not_seen", f'"{spec.path}" is not set on any sampled profile.')
            )
        bad = [v for v in values if not coerce(v, spec.type).ok]
        if bad:
            outcome = (
                "those contacts get no value for it"
                if spec.name in new_fields
                else "those contacts keep their old value"
            )
            out.append(
                MappingWarning(
                    row,
                    "type",
                    f'{len(bad)} of {len(values)} sampled values of "{spec.path}" are not '
                    f"{spec.type.value}s (e.g. {str(bad[0])[:40]!r}); {outcome}.",
                )
            )
    return out


def row_label(spec: MappingSpec) -> str:
    """How a mapping row is named in a list of problems: "Shoe size ← properties.shoe"."""
    if not spec.name and not spec.path:
        return "Empty row"
    return f"{spec.name or '(no name)'} ← {spec.path or '(no Klaviyo field)'}"


# The endings of the reasons `core.fields.coerce` gives for a value of the wrong type (with or
# without the quoted value before them), and the start of a built-in text field's.
_TYPE_REASON_ENDINGS = (
    "not a number",
    "not a date",
    "not an ISO 8601 date",
    "too large to be a number",
    "not a finite number",
    "epoch seconds out of range",
)
_BUILTIN_NOT_TEXT = "not text ("


def is_type_problem(reason: str) -> bool:
    """Whether a sync issue's reason says a value did not fit its field's type: the mapping
    (the field's type, or the Klaviyo field it reads) is where to fix it."""
    return reason.startswith(_BUILTIN_NOT_TEXT) or reason.endswith(_TYPE_REASON_ENDINGS)


def value_at(attributes: dict[str, Any], path: str) -> Any:
    """A standard attribute or `properties.X.Y` of a profile's attributes; None when absent."""
    node: Any = attributes
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def discovered_paths(sample: list[dict[str, Any]]) -> dict[str, int]:
    """Custom property paths seen in sampled profiles, with how many profiles had each
    (nested objects give dotted paths: `properties.preferences.store.city`)."""
    seen: dict[str, int] = {}

    def walk(prefix: str, node: Any, found: set[str]) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(f"{prefix}.{key}", value, found)
        else:
            found.add(prefix)

    for attrs in sample:
        found: set[str] = set()
        walk("properties", attrs.get("properties") or {}, found)
        for path in found - {"properties"}:
            seen[path] = seen.get(path, 0) + 1
    return dict(sorted(seen.items()))
