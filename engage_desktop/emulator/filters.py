"""Klaviyo's `filter` query syntax: `op(field,value)` expressions joined by commas (AND)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engage_desktop.emulator.timeutil import parse_iso


class FilterError(ValueError):
    """A filter the API would answer with 400."""


@dataclass(frozen=True)
class Condition:
    """One `op(field,value)`; value is a str, float (a time), bool, number or list of str."""

    op: str
    field: str
    value: Any


_EXPR = re.compile(r"\s*([a-z-]+)\(\s*([A-Za-z_.$]+)\s*,\s*")


def _parse_value(text: str, pos: int) -> tuple[Any, int]:
    if pos >= len(text):
        raise FilterError("missing value")
    ch = text[pos]
    if ch in "\"'":
        end = pos + 1
        out = []
        while end < len(text) and text[end] != ch:
            if text[end] == "\\" and end + 1 < len(text):
                end += 1
            out.append(text[end])
            end += 1
        if end >= len(text):
            raise FilterError("unterminated string")
        return "".join(out), end + 1
    if ch == "[":
        items: list[Any] = []
        pos += 1
        while True:
            while pos < len(text) and text[pos] == " ":
                pos += 1
            if pos < len(text) and text[pos] == "]":
                return items, pos + 1
            value, pos = _parse_value(text, pos)
            items.append(value)
            while pos < len(text) and text[pos] == " ":
                pos += 1
            if pos < len(text) and text[pos] == ",":
                pos += 1
            elif pos < len(text) and text[pos] == "]":
                return items, pos + 1
            else:
                raise FilterError("malformed list")
    m = re.compile(r"[^,)\]]+").match(text, pos)
    if not m:
        raise FilterError("missing value")
    raw = m.group(0).strip()
    if raw in ("true", "false"):
        return raw == "true", m.end()
    if raw == "null":
        return None, m.end()
    try:
        return ("datetime", parse_iso(raw)), m.end()
    except ValueError:
        pass
    try:
        return float(raw), m.end()
    except ValueError as exc:
        raise FilterError(f"invalid value '{raw}'") from exc


def parse(text: str) -> list[Condition]:
    conditions: list[Condition] = []
    pos = 0
    while pos < len(text):
        m = _EXPR.match(text, pos)
        if not m:
            raise FilterError(f"cannot parse filter at position {pos}")
        value, pos = _parse_value(text, m.end())
        while pos < len(text) and text[pos] == " ":
            pos += 1
        if pos >= len(text) or text[pos] != ")":
            raise FilterError("expected ')'")
        pos += 1
        conditions.append(Condition(m.group(1), m.group(2), value))
        while pos < len(text) and text[pos] == " ":
            pos += 1
        if pos < len(text):
            if text[pos] != ",":
                raise FilterError("expected ',' between filter expressions")
            pos += 1
    if not conditions:
        raise FilterError("empty filter")
    return conditions


def as_time(cond: Condition) -> float:
    """The value of a comparison on a date-time field."""
    v = cond.value
    if isinstance(v, tuple) and v[0] == "datetime":
        return float(v[1])
    if isinstance(v, str):
        try:
            return parse_iso(v)
        except ValueError:
            pass
    raise FilterError(f"'{cond.field}' needs a date-time value")


def compare_time(value: float, cond: Condition) -> bool:
    """Whether a time satisfies a comparison condition."""
    t, op = as_time(cond), cond.op
    if op == "greater-than":
        return value > t
    if op == "greater-or-equal":
        return value >= t
    if op == "less-than":
        return value < t
    return op == "less-or-equal" and value <= t


def as_strings(cond: Condition) -> list[str]:
    """The value(s) of an equals/any on a string field."""
    v = cond.value
    values = v if isinstance(v, list) else [v]
    if cond.op == "any" and not isinstance(v, list):
        raise FilterError(f"any({cond.field}, …) needs a list")
    if not all(isinstance(x, str) for x in values):
        raise FilterError(f"'{cond.field}' needs string values")
    return [str(x) for x in values]


def validate(conditions: list[Condition], allowed: dict[str, list[str]]) -> None:
    for c in conditions:
        if c.field not in allowed:
            raise FilterError(f"'{c.field}' is not a valid field for filtering")
        if c.op not in allowed[c.field]:
            raise FilterError(f"operator '{c.op}' is not allowed for field '{c.field}'")
