"""Request bodies checked against the spec's schemas, every problem reported at once.

`POST /v1/messages` is all-or-nothing ("If any messages in the request are invalid, no messages
will be sent", S1): every message is checked and the 400 lists each problem as
`<JSON pointer>: <what is wrong>`. Only the destination-number wording is documented (the
spec's example); the other phrases follow the JSON-schema validator style of that example.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from engage_desktop.emulator.messagemedia.protocol import (
    bad_request,
    canonical_number,
    international_problems,
    is_international,
    iso_ms,
    parse_timestamp,
)

MAX_MESSAGES = 100  # per request (S1 prose; the response schema's maxItems)
MAX_IDS = 100  # per confirm request (schema maxItems)
MAX_BLACKLIST_ADD = 10  # numbers per blacklist request (S1 prose)
FORMATS = ("SMS", "TTS", "MMS")
SOURCE_TYPES = ("INTERNATIONAL", "ALPHANUMERIC", "SHORTCODE")
_STRINGS = {"callback_url": 2048, "source_number": 15, "subject": 64}


@dataclass(frozen=True, slots=True)
class NewMessage:
    """One valid message of a send request, as it will be stored and echoed."""

    fields: dict[str, Any]
    destination: str  # canonical, for the blacklist and replies
    scheduled_at: float | None
    expires_at: float | None


_TYPE_NAMES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)  # bool before int: True is an int


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return next((name for kind, name in _TYPE_NAMES if isinstance(value, kind)), "unknown")


def _wrong_type(pointer: str, value: Any, allowed: str) -> str:
    return (
        f"{pointer}: instance type ({_type_name(value)}) does not match any allowed primitive "
        f'type (allowed: ["{allowed}"])'
    )


def send_request(doc: Any) -> list[NewMessage]:
    """The messages of a valid `POST /v1/messages` body; a 400 listing every problem if not."""
    if not isinstance(doc, dict):
        raise bad_request(
            f"instance type ({_type_name(doc)}) does not match any allowed primitive type "
            '(allowed: ["object"])'
        )
    items = doc.get("messages")
    if items is None:
        raise bad_request('object has missing required properties (["messages"])')
    if not isinstance(items, list):
        raise bad_request(_wrong_type("/messages", items, "array"))
    if not items:
        raise bad_request(
            "/messages: array is too short: must have at least 1 elements but instance has 0 "
            "elements"
        )
    if len(items) > MAX_MESSAGES:
        raise bad_request(
            f"/messages: array is too long: must have at most {MAX_MESSAGES} elements but "
            f"instance has {len(items)} elements"
        )
    problems: list[str] = []
    accepted = [_message(i, item, problems) for i, item in enumerate(items)]
    if problems:
        raise bad_request(*problems)
    return [m for m in accepted if m is not None]


def _message(i: int, item: Any, problems: list[str]) -> NewMessage | None:
    at = f"/messages/{i}"
    if not isinstance(item, dict):
        problems.append(_wrong_type(at, item, "object"))
        return None
    before = len(problems)
    missing = [k for k in ("content", "destination_number") if k not in item]
    if missing:
        names = ",".join(f'"{k}"' for k in missing)
        problems.append(f"{at}: object has missing required properties ([{names}])")
    fields: dict[str, Any] = {}
    times: dict[str, float | None] = {"scheduled": None, "message_expiry_timestamp": None}
    for key, value in item.items():
        ptr = f"{at}/{key}"
        if key == "content":
            if not isinstance(value, str):
                problems.append(_wrong_type(ptr, value, "string"))
            elif not 1 <= len(value) <= 5000:
                problems.append(f"{ptr}: string length {len(value)} is not between 1 and 5000")
        elif key == "destination_number":
            if not isinstance(value, str):
                problems.append(_wrong_type(ptr, value, "string"))
            elif not is_international(value):
                problems.append(f"{ptr}: {', '.join(international_problems(value))}.")
        elif key == "delivery_report":
            if not isinstance(value, bool):
                problems.append(_wrong_type(ptr, value, "boolean"))
        elif key in ("format", "source_number_type"):
            allowed = FORMATS if key == "format" else SOURCE_TYPES
            if value not in allowed:
                names = ",".join(f'"{a}"' for a in allowed)
                problems.append(
                    f"{ptr}: instance value ({_json_text(value)}) not found in enum "
                    f"(possible values: [{names}])"
                )
        elif key in _STRINGS:
            if not isinstance(value, str):
                problems.append(_wrong_type(ptr, value, "string"))
            elif not 1 <= len(value) <= _STRINGS[key]:
                problems.append(
                    f"{ptr}: string length {len(value)} is not between 1 and {_STRINGS[key]}"
                )
        elif key in times:
            try:
                if not isinstance(value, str):
                    raise ValueError
                times[key] = parse_timestamp(value)
                value = iso_ms(times[key] or 0.0)
            except ValueError:
                problems.append(f"{ptr}: {_json_text(value)} is not a valid ISO 8601 date-time")
        elif key == "metadata":
            problems += _metadata_problems(ptr, value)
        elif key == "media":
            if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
                problems.append(f"{ptr}: must be an array of URL strings")
        else:
            continue  # message_id / status are response-only; unknown keys are not kept
        fields[key] = value
    if len(problems) > before:
        return None
    fields.setdefault("format", "SMS")
    fields.setdefault("delivery_report", False)
    return NewMessage(
        fields,
        canonical_number(fields["destination_number"]),
        times["scheduled"],
        times["message_expiry_timestamp"],
    )


def _metadata_problems(ptr: str, value: Any) -> list[str]:
    if not isinstance(value, dict):
        return [_wrong_type(ptr, value, "object")]
    problems = []
    if len(value) > 10:
        problems.append(f"{ptr}: at most 10 metadata keys are allowed, found {len(value)}")
    for key, item in value.items():
        if len(key) > 100:
            problems.append(f"{ptr}: metadata key longer than 100 characters")
        if not isinstance(item, str):
            problems.append(_wrong_type(f"{ptr}/{key}", item, "string"))
        elif len(item) > 256:
            problems.append(f"{ptr}/{key}: metadata value longer than 256 characters")
    return problems


def id_list(doc: Any, key: str) -> list[str]:
    """The ids of a confirm body (`reply_ids` / `delivery_report_ids`): ≤100 UUIDs."""
    if not isinstance(doc, dict) or key not in doc:
        raise bad_request(f'object has missing required properties (["{key}"])')
    ids = doc[key]
    if not isinstance(ids, list):
        raise bad_request(_wrong_type(f"/{key}", ids, "array"))
    if len(ids) > MAX_IDS:
        raise bad_request(
            f"/{key}: array is too long: must have at most {MAX_IDS} elements but instance has "
            f"{len(ids)} elements"
        )
    problems = [
        f'/{key}/{i}: string "{v}" is not a valid UUID'
        if isinstance(v, str)
        else _wrong_type(f"/{key}/{i}", v, "string")
        for i, v in enumerate(ids)
        if not (isinstance(v, str) and _is_uuid(v))
    ]
    if problems:
        raise bad_request(*problems)
    return [str(v) for v in ids]


def cancel_request(doc: Any) -> None:
    """`PUT /v1/messages/{id}` takes exactly `{"status": "cancelled"}`."""
    if not isinstance(doc, dict) or "status" not in doc:
        raise bad_request('object has missing required properties (["status"])')
    if doc["status"] != "cancelled":
        raise bad_request(
            f'/status: instance value ({_json_text(doc["status"])}) must be "cancelled"'
        )


def blacklist_numbers(doc: Any) -> list[str]:
    """The numbers of `POST /v1/number_authorisation/mt/blacklist`: 1 to 10, international
    (with or without the `+`: the prose asks for it, the spec's example omits it)."""
    if not isinstance(doc, dict) or "numbers" not in doc:
        raise bad_request('object has missing required properties (["numbers"])')
    numbers = doc["numbers"]
    if not isinstance(numbers, list):
        raise bad_request(_wrong_type("/numbers", numbers, "array"))
    if not 1 <= len(numbers) <= MAX_BLACKLIST_ADD:
        raise bad_request(f"/numbers: between 1 and {MAX_BLACKLIST_ADD} numbers are allowed")
    problems = [
        f"/numbers/{i}: {_json_text(n)} is not an international number"
        for i, n in enumerate(numbers)
        if not (isinstance(n, str) and is_international(n))
    ]
    if problems:
        raise bad_request(*problems)
    return [str(n) for n in numbers]


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return repr(value)
