"""Mailjet's rows as typed values, read defensively: a row that cannot be read is a
`MalformedRow` naming what was wrong, never a guess.

Recorded facts (docs/emulators/mailjet.md): IDs are integers, unset times are `""`, set ones
RFC 3339; contactdata values come back as text whatever the property's type (parse them);
a property never set is absent from a contact's `Data`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

DATATYPES = ("str", "int", "float", "bool", "datetime")


class MalformedRow(ValueError):
    """A row without what it must have; `row_id` when its ID at least could be read."""

    def __init__(self, reason: str, row_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.row_id = row_id


@dataclass(frozen=True)
class MailjetList:
    """A `contactslist`: one of the account's lists (our groups)."""

    id: int
    name: str
    subscriber_count: int | None
    deleted: bool


@dataclass(frozen=True)
class Property:
    """A `contactmetadata` definition: a contact property and its type."""

    id: int
    name: str
    datatype: str  # str | int | float | bool | datetime
    namespace: str


@dataclass(frozen=True)
class MailjetContact:
    """A `contact`: the e-mail-keyed person (Mailjet has no phone field)."""

    id: int
    email: str | None
    name: str | None
    excluded: bool  # IsExcludedFromCampaigns: out of marketing e-mail (not SMS)
    updated: float | None  # LastUpdateAt, else CreatedAt (epoch seconds)


@dataclass(frozen=True)
class ContactData:
    """A `contactdata` row: a contact's property values, by property name."""

    contact_id: int
    values: dict[str, Any]


@dataclass(frozen=True)
class Recipient:
    """A `listrecipient`: one membership, and whether the contact left that list."""

    id: int
    contact_id: int
    list_id: int
    active: bool
    unsubscribed: bool


def _id(row: Any, key: str = "ID") -> int:
    if not isinstance(row, dict):
        raise MalformedRow(f"not an object ({type(row).__name__})")
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.isdigit():
            return int(value)
        raise MalformedRow(f"no readable {key}")
    return value


def _flag(row: dict[str, Any], key: str, row_id: int) -> bool:
    value = row.get(key)
    if isinstance(value, bool):
        return value
    raise MalformedRow(f"{key} is not true or false", row_id)


def _text(row: dict[str, Any], key: str) -> str | None:
    value = row.get(key)
    return value if isinstance(value, str) and value != "" else None


def epoch(value: Any) -> float | None:
    """An RFC 3339 time as epoch seconds; None when unset (`""`) or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def parse_list(row: Any) -> MailjetList:
    list_id = _id(row)
    name = _text(row, "Name")
    if name is None:
        raise MalformedRow("a list without a name", list_id)
    count = row.get("SubscriberCount")
    return MailjetList(
        list_id,
        name,
        count if isinstance(count, int) and not isinstance(count, bool) else None,
        row.get("IsDeleted") is True,
    )


def parse_property(row: Any) -> Property:
    prop_id = _id(row)
    name = _text(row, "Name")
    datatype = _text(row, "Datatype") or "str"
    if name is None:
        raise MalformedRow("a property without a name", prop_id)
    return Property(prop_id, name, datatype, _text(row, "NameSpace") or "static")


def parse_contact(row: Any) -> MailjetContact:
    contact_id = _id(row)
    email = _text(row, "Email")
    return MailjetContact(
        contact_id,
        email,
        _text(row, "Name"),
        _flag(row, "IsExcludedFromCampaigns", contact_id),
        epoch(row.get("LastUpdateAt")) or epoch(row.get("CreatedAt")),
    )


def parse_contact_data(row: Any) -> ContactData:
    contact_id = _id(row, "ContactID")
    data = row.get("Data")
    if not isinstance(data, list):
        raise MalformedRow("its property values (Data) are not a list", contact_id)
    values: dict[str, Any] = {}
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str):
            raise MalformedRow("a property value without a name", contact_id)
        values[item["Name"]] = item.get("Value")
    return ContactData(contact_id, values)


def parse_recipient(row: Any) -> Recipient:
    rid = _id(row)
    return Recipient(
        rid,
        _id(row, "ContactID"),
        _id(row, "ListID"),
        _flag(row, "IsActive", rid),
        _flag(row, "IsUnsubscribed", rid),
    )


def property_value(values: dict[str, Any], name: str) -> Any:
    """A property's value by name, as Mailjet matches names (case does not matter)."""
    if name in values:
        return values[name]
    lowered = name.lower()
    for key, value in values.items():
        if key.lower() == lowered:
            return value
    return None
