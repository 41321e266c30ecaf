"""Platform field types and the coercion of Klaviyo values into them."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any


class FieldType(StrEnum):
    """The type of a platform field."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"


@dataclass(frozen=True)
class Coerced:
    """A value made to fit a field type, or the reason it does not fit."""

    ok: bool
    value: str | float | None
    reason: str = ""


_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def coerce(value: Any, field_type: FieldType) -> Coerced:
    """Text takes anything; Number numbers and numeric strings; Date ISO 8601 and epoch seconds.

    None stays None (an empty field). Dates come out as ISO 8601 text: `YYYY-MM-DD` for dates,
    UTC date-times otherwise.
    """
    if value is None:
        return Coerced(True, None)
    if field_type is FieldType.TEXT:
        if isinstance(value, str):
            return Coerced(True, value)
        if isinstance(value, bool):
            return Coerced(True, "true" if value else "false")
        return Coerced(
            True,
            json.dumps(value, ensure_ascii=False, sort_keys=True)
            if isinstance(value, dict | list)
            else str(value),
        )
    if field_type is FieldType.NUMBER:
        return _number(value)
    return _date(value)


def _number(value: Any) -> Coerced:
    if isinstance(value, bool):
        return Coerced(False, None, "a true/false value is not a number")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return Coerced(False, None, "not a finite number")
        return Coerced(True, float(value))
    if isinstance(value, str) and _NUMERIC.match(value.strip()):
        number = float(value.strip())
        if not math.isfinite(number):  # "1e400": not a number JSON can carry
            return Coerced(False, None, f"'{value[:40]}' is too large to be a number")
        return Coerced(True, number)
    return Coerced(False, None, f"{_kind(value)} is not a number")


def _date(value: Any) -> Coerced:
    if isinstance(value, bool):
        return Coerced(False, None, "a true/false value is not a date")
    if isinstance(value, int | float):
        try:
            return Coerced(True, datetime.fromtimestamp(float(value), UTC).isoformat())
        except (OverflowError, OSError, ValueError):
            return Coerced(False, None, "epoch seconds out of range")
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return Coerced(True, date.fromisoformat(text).isoformat())
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            return Coerced(False, None, f"'{value[:40]}' is not an ISO 8601 date")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return Coerced(True, parsed.astimezone(UTC).isoformat())
    return Coerced(False, None, f"{_kind(value)} is not a date")


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value[:40]}'"
    return {"dict": "an object", "list": "a list"}.get(type(value).__name__, type(value).__name__)
