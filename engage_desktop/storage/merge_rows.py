"""The rows merging reads and writes: a staged record beside its stored self, a stored source
record, a contact as derived. Named rows (never read as `r[9]`), and their SQL."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from engage_desktop.core.consent import ConsentMode, RecordConsent, Verdict, derive_status


class Record(NamedTuple):
    """A staged record beside the stored one (`old_*` are None for a new record)."""

    external_id: str
    phone: str | None
    phone_raw: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    fields: str
    consent: str | None
    consent_at: float | None
    old_contact: int | None
    old_phone: str | None
    old_phone_raw: str | None
    old_email: str | None
    old_first_name: str | None
    old_last_name: str | None
    old_fields: str | None
    old_consent: str | None
    old_consent_at: float | None
    old_linked_at: float | None
    old_links: int  # how many records the old contact has (this one included)

    @property
    def unchanged(self) -> bool:
        return self.old_contact is not None and self[1:9] == self[10:18]


NOTHING_STORED = (None,) * 10 + (0,)  # a Record's old_* for a record stored nowhere


RECORD_SELECT = (
    "SELECT s.external_id, s.phone, s.phone_raw, s.email, s.first_name, s.last_name, s.fields,"
    " s.consent, s.consent_at, l.contact_id, l.phone, l.phone_raw, l.email, l.first_name,"
    " l.last_name, l.fields, l.consent, l.consent_at, l.linked_at,"
    " (SELECT count(*) FROM contact_sources c WHERE c.contact_id = l.contact_id)"
    " FROM staged_records s"
    " LEFT JOIN contact_sources l ON l.source = s.source AND l.external_id = s.external_id"
)
# The stored side of records given by id (an import builds the staged side itself).
STORED_SELECT = (
    "SELECT l.external_id, l.contact_id, l.phone, l.phone_raw, l.email, l.first_name,"
    " l.last_name, l.fields, l.consent, l.consent_at, l.linked_at,"
    " (SELECT count(*) FROM contact_sources c WHERE c.contact_id = l.contact_id)"
    " FROM contact_sources l WHERE l.source = ? AND l.external_id IN "
)


class Link(NamedTuple):
    """A stored source record, as the derivation reads it."""

    contact_id: int
    source: str
    external_id: str
    phone_raw: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    fields: str
    consent: str | None
    consent_at: float | None
    linked_at: float


LINK_COLS = (
    "contact_id, source, external_id, phone_raw, email, first_name, last_name, fields, consent,"
    " consent_at, linked_at"
)


class ContactState(NamedTuple):
    """A contact's stored row, as the derivation compares it."""

    id: int
    phone: str | None
    phone_raw: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    fields: str
    sms_status: str
    sms_changed_at: float | None
    sms_reason: str | None


CONTACT_COLS = (
    "id, phone, phone_raw, email, first_name, last_name, fields, sms_status, sms_changed_at,"
    " sms_reason"
)


@dataclass
class Tallies:
    """What a commit changed, for one source."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    invalid: int = 0
    opted_out: int = 0
    issues: int = 0


_LINK_DATA = (
    "phone = ?, phone_raw = ?, email = ?, first_name = ?, last_name = ?, fields = ?,"
    " consent = ?, consent_at = ?"
)
LINK_INSERT = (
    "INSERT INTO contact_sources (contact_id, source, external_id, phone, phone_raw, email,"
    " first_name, last_name, fields, consent, consent_at, linked_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Only what changed is set: SQLite rewrites the entries of every index a SET names.
LINK_UPDATE = f"UPDATE contact_sources SET {_LINK_DATA} WHERE source = ? AND external_id = ?"
LINK_MOVE = (
    f"UPDATE contact_sources SET contact_id = ?, linked_at = ?, {_LINK_DATA}"
    f" WHERE source = ? AND external_id = ?"
)
CONTACT_INSERT = (
    "INSERT INTO contacts (id, phone, phone_raw, email, first_name, last_name, fields,"
    " sms_status, sms_changed_at, sms_reason, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def dump_fields(fields: dict[str, Any]) -> str:
    """Field values as stored: JSON with sorted keys (compared as text to find changes)."""
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS).decode()


def merged_fields(old: str, new: str) -> str:
    """A record's new field values over its old ones (a value that failed its field's type
    is not staged: the old one stays)."""
    if new == "{}":
        return old
    before, after = orjson.loads(old), orjson.loads(new)
    if before.keys() <= after.keys():
        return new
    return dump_fields({**before, **after})


@functools.lru_cache(maxsize=512)
def plain_verdict(source: str, consent: str | None, mode: ConsentMode) -> Verdict:
    return derive_status([RecordConsent(source, consent, None, mode)], None, 0.0)


@functools.lru_cache(maxsize=2048)
def plain_verdicts(says: tuple[tuple[str, str | None, ConsentMode], ...]) -> Verdict:
    """The verdict of records none of which says UNSUBSCRIBED, for a number without a
    standing opt-out: it depends on each record's source, consent and mode, in order, and
    on no time (times only date an opt-out or lift one), so it is computed once."""
    return derive_status([RecordConsent(s, c, None, m) for s, c, m in says], None, 0.0)


def blank(cid: int, phone: str | None) -> ContactState:
    return ContactState(cid, phone, None, None, None, None, "{}", "never_subscribed", None, None)


def chunks(values: Sequence[Any], size: int = 5000) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
