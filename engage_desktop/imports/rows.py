"""A CSV row -> a source record (source CSV, identified by its E.164 number), or the reason
it cannot be one.

A row without a usable number is not imported (it could neither be messaged nor merged): it
is a problem row, as is a row repeating a number already met in the file (the first one
counts) and a row whose yes/no column says neither. Values are cleaned like every source's
(control characters removed, long values cut — a 10 MB cell included — each with a note).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from engage_desktop.core.consent import SUBSCRIBED, UNSUBSCRIBED
from engage_desktop.core.fields import FieldType, coerce
from engage_desktop.core.text import MAX_DETAIL_CHARS, MAX_VALUE_CHARS, clean_text
from engage_desktop.imports.columns import ColumnPlan, Role
from engage_desktop.storage.merge_rows import dump_fields
from engage_desktop.sync.written_phones import written_phone

_YES = frozenset(("yes", "y", "true", "1", "x", "on", "oui"))
_NO = frozenset(("no", "n", "false", "0", "off", "", "-", "non"))
_OUT = frozenset(("opted out", "opted-out", "opt out", "optout", "unsubscribed", "stop"))
_IN = frozenset(("subscribed", "opted in", "opted-in", "opt in"))
# What a yes/no column's answer says: (subscribed column, opted-out column).
ANSWERS: dict[str, tuple[str | None, str | None]] = {
    **dict.fromkeys(_YES, (SUBSCRIBED, UNSUBSCRIBED)),
    **dict.fromkeys(_NO, (None, None)),
    **dict.fromkeys(_OUT, (UNSUBSCRIBED, UNSUBSCRIBED)),
    **dict.fromkeys(_IN, (SUBSCRIBED, None)),
}


@dataclass(frozen=True)
class RowProblem:
    """Why (part of) a row was not taken: its line, the column, the value, the reason."""

    line: int
    column: str | None
    value: str | None
    reason: str


class CsvRecord(NamedTuple):
    """A row as a source record (a named tuple: a million are made per import)."""

    line: int
    phone: str  # E.164: the record's identity
    phone_raw: str
    email: str | None
    first_name: str | None
    last_name: str | None
    fields: str  # JSON, sorted keys (as stored)
    consent: str | None  # UNSUBSCRIBED (opted out), SUBSCRIBED, or None


class RowReader:
    """Reads rows by one column plan, numbers in one default country."""

    def __init__(self, plan: ColumnPlan, region: str) -> None:
        self.region = region
        self._phone = plan.of(Role.PHONE)
        self._width = max((c.index for c in plan.columns), default=0) + 1
        self._details = [
            plan.of(role) for role in (Role.EMAIL, Role.FIRST_NAME, Role.LAST_NAME, Role.NAME)
        ]
        self._yes_no = [
            (k, c) for k, c in enumerate((plan.of(Role.SUBSCRIBED), plan.of(Role.OPTED_OUT))) if c
        ]
        self._fields = [
            (c.index, c.header, c.field or c.header, c.type)
            for c in plan.columns
            if c.role is Role.FIELD and c.field
        ]

    def read(self, line: int, cells: list[str]) -> tuple[CsvRecord | None, list[RowProblem]]:
        """The row as a record (None when it cannot be imported), and its problems."""
        if self._phone is None:
            return None, [RowProblem(line, None, None, "no phone column")]
        if len(cells) < self._width:
            cells = cells + [""] * (self._width - len(cells))
        problems: list[RowProblem] = []
        header = self._phone.header
        raw = cells[self._phone.index].strip()
        if len(raw) > 200:
            return None, [RowProblem(line, header, _shown(raw), "not a phone number")]
        if not raw.isprintable():
            raw = clean_text(raw, 200)[0]
        if not raw:
            return None, [RowProblem(line, header, None, "no phone number: row not imported")]
        phone = written_phone(raw, self.region)
        if phone is None:
            reason = (
                f"not a valid phone number (numbers without +country are read as "
                f"{self.region} numbers): row not imported"
            )
            return None, [RowProblem(line, header, raw, reason)]
        said: list[str | None] = []
        for k, column in self._yes_no:
            value = cells[column.index].strip()
            answer = ANSWERS.get(value.lower())
            if answer is None:
                reason = "neither yes nor no: row not imported (its contact is left as it was)"
                return None, [RowProblem(line, column.header, _shown(value), reason)]
            said.append(answer[k])
        # An opt-out in either column wins over a consent in the other.
        consent = (
            UNSUBSCRIBED if UNSUBSCRIBED in said else SUBSCRIBED if SUBSCRIBED in said else None
        )
        found: list[str | None] = []
        for c in self._details:
            value = cells[c.index].strip() if c is not None else ""
            if value and (len(value) > MAX_DETAIL_CHARS or not value.isprintable()):
                value = self._cleaned(line, c.header, value, problems)  # type: ignore[union-attr]
            found.append(value or None)
        email, first, last, full = found
        if full and not first and not last:
            first, _, rest = full.partition(" ")
            last = rest.strip() or None
        fields: dict[str, Any] = {}
        for index, column_name, name, kind in self._fields:
            value = cells[index].strip()
            if not value:
                continue
            if kind is FieldType.TEXT:
                if len(value) > MAX_VALUE_CHARS or not value.isprintable():
                    cleaned, note = clean_text(value)
                    if note:
                        problems.append(
                            RowProblem(line, column_name, _shown(value), f"{note}; kept")
                        )
                    value = cleaned
                fields[name] = value
                continue
            result = coerce(value, kind)
            if not result.ok:
                problems.append(
                    RowProblem(line, column_name, _shown(value), f"{result.reason}: left empty")
                )
                continue
            fields[name] = result.value
        return (
            CsvRecord(
                line,
                phone,
                raw,
                email,
                first or None,
                last,
                dump_fields(fields) if fields else "{}",
                consent,
            ),
            problems,
        )

    @staticmethod
    def _cleaned(line: int, header: str, value: str, problems: list[RowProblem]) -> str:
        cleaned, note = clean_text(value, MAX_DETAIL_CHARS)
        if note:
            problems.append(RowProblem(line, header, _shown(value), f"{note}; kept"))
        return cleaned


def _shown(value: str) -> str:
    """A value as a problem row keeps it: at most 200 characters, no control characters."""
    return clean_text(value[:400], 200)[0]
