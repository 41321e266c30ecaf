"""What each column of a CSV file holds: guessed from its header and sample values, changed
with `COLUMN=FIELD` mappings.

Roles: the phone number (required), email, first and last name (or a full name, split at
the first space), opted out (yes/no: yes is an opt-out, for the number everywhere),
subscribed (yes/no: yes is an SMS consent; without one an imported contact is not
messageable), a platform field (with its type: text, number or date), or skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from engage_desktop.core.fields import FieldType, coerce
from engage_desktop.core.mapping import MappingError


class Role(StrEnum):
    """What a column holds."""

    PHONE = "phone"
    EMAIL = "email"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    NAME = "name"  # a full name: "Ann Lee"
    OPTED_OUT = "opted_out"
    SUBSCRIBED = "subscribed"
    FIELD = "field"  # a platform field
    SKIP = "skip"


_HEADERS: dict[str, Role] = {
    **dict.fromkeys(
        ("phone", "phone number", "mobile", "mobile phone", "mobile number", "cell",
         "cell phone", "cellphone", "tel", "telephone", "sms", "sms number", "msisdn",
         "phone no", "number", "whatsapp"),
        Role.PHONE,
    ),
    **dict.fromkeys(("email", "e mail", "email address", "mail", "courriel"), Role.EMAIL),
    **dict.fromkeys(
        ("first name", "firstname", "first", "given name", "forename", "prenom", "prénom"),
        Role.FIRST_NAME,
    ),
    **dict.fromkeys(
        ("last name", "lastname", "last", "surname", "family name", "nom"), Role.LAST_NAME
    ),
    **dict.fromkeys(("name", "full name", "fullname", "contact", "contact name"), Role.NAME),
    **dict.fromkeys(
        ("opted out", "optout", "opt out", "sms opt out", "unsubscribed", "sms unsubscribed",
         "do not text", "do not contact", "stop", "blocked"),
        Role.OPTED_OUT,
    ),
    **dict.fromkeys(
        ("subscribed", "sms subscribed", "opt in", "optin", "sms opt in", "consent",
         "sms consent", "marketing consent", "accepts sms", "accepts marketing"),
        Role.SUBSCRIBED,
    ),
}  # fmt: skip
_ROLE_NAMES = {r.value: r for r in Role} | {"opt_out": Role.OPTED_OUT, "optout": Role.OPTED_OUT}
PHONE_SHARE = 0.6  # a column whose sampled values are mostly phone numbers holds the phone


@dataclass(frozen=True)
class Column:
    """One column and what it holds."""

    index: int
    header: str
    role: Role
    field: str | None = None  # the platform field (role FIELD)
    type: FieldType = FieldType.TEXT


@dataclass(frozen=True)
class ColumnPlan:
    """Every column of a file and its role."""

    columns: tuple[Column, ...]

    def of(self, role: Role) -> Column | None:
        return next((c for c in self.columns if c.role is role), None)

    def problems(self) -> list[str]:
        """What stops an import: no phone column, a role given to two columns, a field
        named twice."""
        out: list[str] = []
        if self.of(Role.PHONE) is None:
            out.append(
                "No column holds phone numbers: name it with --map COLUMN=phone (contacts are "
                "merged by their number)."
            )
        for role in Role:
            if role in (Role.FIELD, Role.SKIP):
                continue
            cols = [c.header for c in self.columns if c.role is role]
            if len(cols) > 1:
                out.append(f"Columns {', '.join(cols)} are all {role.value}: keep one.")
        fields = [c.field for c in self.columns if c.role is Role.FIELD]
        for name in sorted({f for f in fields if fields.count(f) > 1 and f}):
            out.append(f"The field '{name}' is filled from two columns: keep one.")
        return out


def header_key(text: str) -> str:
    """A header as the guess reads it: lower case, `_ - .` as spaces, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"[_\-.]", " ", text.strip().lower())).strip()


def guess_columns(
    header: Sequence[str],
    samples: Sequence[Sequence[str]],
    is_phone: Callable[[str], bool],
    known_fields: dict[str, FieldType],
) -> ColumnPlan:
    """Roles from the header; the phone column from the values when no header names it;
    the other columns become fields of the type their sampled values fit (an existing
    platform field keeps its type)."""
    columns: list[Column] = []
    taken: set[Role] = set()
    for i, name in enumerate(header):
        role = _HEADERS.get(header_key(name), Role.FIELD)
        if role in taken:
            role = Role.FIELD
        if role is not Role.FIELD:
            taken.add(role)
        columns.append(_column(i, name, role, _values(samples, i), known_fields))
    if Role.PHONE not in taken:
        best, share = None, 0.0
        for c in columns:
            values = _values(samples, c.index)
            if c.role is Role.FIELD and values:
                found = sum(1 for v in values if is_phone(v)) / len(values)
                if found > share:
                    best, share = c, found
        if best is not None and share >= PHONE_SHARE:
            columns[best.index] = Column(best.index, best.header, Role.PHONE)
    return ColumnPlan(tuple(columns))


def _values(samples: Sequence[Sequence[str]], i: int) -> list[str]:
    return [row[i].strip() for row in samples if i < len(row) and row[i].strip()]


def _column(
    i: int, header: str, role: Role, values: list[str], known: dict[str, FieldType]
) -> Column:
    if role is not Role.FIELD:
        return Column(i, header, role)
    name = header.strip() or f"Column {i + 1}"
    if name in known:
        return Column(i, header, role, name, known[name])
    return Column(i, header, role, name, guess_type(values))


def guess_type(values: list[str]) -> FieldType:
    """Number when every sampled value is one, date when every one is an ISO 8601 date,
    text otherwise (and for a column with no values)."""
    if not values:
        return FieldType.TEXT
    for kind in (FieldType.NUMBER, FieldType.DATE):
        if all(coerce(v, kind).ok for v in values):
            return kind
    return FieldType.TEXT


def apply_maps(plan: ColumnPlan, specs: Sequence[str]) -> ColumnPlan:
    """`COLUMN=FIELD` mappings over the guess. COLUMN: a header (case and spaces do not
    matter) or a 1-based position. FIELD: phone, email, first_name, last_name, name,
    opted_out, subscribed, skip, or a platform field `Name[:text|number|date]`."""
    columns = list(plan.columns)
    for spec in specs:
        column, sep, target = spec.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise MappingError(f"'{spec}': write it as COLUMN=FIELD (e.g. \"Mobile=phone\")")
        i = _find(columns, column.strip())
        role = _ROLE_NAMES.get(target.strip().lower())
        if role is not None and role is not Role.FIELD:
            if role not in (Role.SKIP,):  # the role moves here from any other column
                columns = [
                    replace(c, role=Role.FIELD, field=c.header.strip() or f"Column {c.index + 1}")
                    if c.role is role
                    else c
                    for c in columns
                ]
            columns[i] = Column(i, columns[i].header, role)
            continue
        name, _, kind = target.partition(":")
        try:
            ftype = FieldType(kind.strip().lower()) if kind.strip() else FieldType.TEXT
        except ValueError:
            raise MappingError(f"'{kind}' is not a field type (text, number or date)") from None
        columns[i] = Column(i, columns[i].header, Role.FIELD, name.strip(), ftype)
    return ColumnPlan(tuple(columns))


def _find(columns: list[Column], text: str) -> int:
    if text.isdigit() and 1 <= int(text) <= len(columns):
        return int(text) - 1
    key = header_key(text)
    for c in columns:
        if header_key(c.header) == key:
            return c.index
    names = ", ".join(c.header for c in columns)
    raise MappingError(f"No column called '{text}'. Columns: {names}.")
