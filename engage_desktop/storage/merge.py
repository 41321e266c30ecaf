"""Merging source records into contacts: one contact per phone number, for every source.

A source record (a Klaviyo profile, a Mailjet contact, a CSV row) is stored as its source gave
it, in `contact_sources`, and belongs to the contact of its phone number. A contact is then
derived from all of its records: details field by field in source priority order (the oldest
record of a source first), the SMS status by the consent rules of `core/consent.py`, with the
opt-out that stands for its number in `suppressions`. Deriving instead of copying is what
makes the result independent of the order records arrive in (twins in one page, a duplicate
number months later, a record that moves to another number).

Runs inside the commit's transaction; rows are handled a chunk at a time.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
import peewee

from engage_desktop.core.consent import (
    UNSUBSCRIBED,
    ConsentMode,
    RecordConsent,
    SmsStatus,
    Verdict,
    derive_status,
)
from engage_desktop.core.sources import LOCAL, source_label
from engage_desktop.storage import suppressions

DEFAULT_PRIORITY = ("KLAVIYO", "MAILJET", "CSV")
_DETAILS = ("phone_raw", "email", "first_name", "last_name")


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


RECORD_SELECT = (
    "SELECT s.external_id, s.phone, s.phone_raw, s.email, s.first_name, s.last_name, s.fields,"
    " s.consent, s.consent_at, l.contact_id, l.phone, l.phone_raw, l.email, l.first_name,"
    " l.last_name, l.fields, l.consent, l.consent_at, l.linked_at,"
    " (SELECT count(*) FROM contact_sources c WHERE c.contact_id = l.contact_id)"
    " FROM staged_records s"
    " LEFT JOIN contact_sources l ON l.source = s.source AND l.external_id = s.external_id"
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


_LINK_COLS = (
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


_CONTACT_COLS = (
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


@dataclass
class Merge:
    """Applies records to contacts and re-derives every contact they touch."""

    db: peewee.SqliteDatabase
    run_id: int | None
    now: float
    modes: dict[str, ConsentMode]  # each source's consent mode; unknown sources: Explicit
    priority: Sequence[str] = DEFAULT_PRIORITY
    orphans: set[int] = field(default_factory=set)  # contacts that lost a record
    _next_id: int = 0
    _opted_out: int = 0  # contacts that became opted out, since the last `apply`

    def __post_init__(self) -> None:
        row = self.db.execute_sql("SELECT coalesce(max(id), 0) + 1 FROM contacts").fetchone()
        self._next_id = int(row[0])

    # ----- records --------------------------------------------------------------------------
    def apply(
        self, source: str, rows: Sequence[Record], tally: Tallies, rederive: bool = False
    ) -> None:
        """Store a chunk of one source's records and re-derive the contacts they touch.
        `rederive`: also the contacts of unchanged records (the consent mode changed)."""
        current = self._contacts(
            ids=[r.old_contact for r in rows if r.old_contact is not None],
            phones=[r.phone for r in rows if r.phone],
        )
        by_phone = {c.phone: c.id for c in current.values() if c.phone}
        # Contacts whose records are all known here are derived in memory: new ones, and
        # those whose only record is this one ("solo"); the others read theirs after writing.
        created: dict[int, list[Link]] = {}
        solo: dict[int, Link] = {}
        touched: set[int] = set()  # existing contacts whose records changed
        same: set[int] = set()  # contacts of unchanged records, when re-deriving
        unchanged: list[int] = []
        link_inserts: list[tuple[Any, ...]] = []
        link_moves: list[tuple[Any, ...]] = []
        link_updates: list[tuple[Any, ...]] = []
        phone_sets: list[tuple[str, float, int]] = []
        issues: list[tuple[Any, ...]] = []
        for r in rows:
            tally.invalid += bool(r.phone_raw and not r.phone)
            if r.old_fields is not None and r.fields != r.old_fields:
                # A value that failed its field's type is not staged: the old one stays.
                r = r._replace(fields=_merged_fields(r.old_fields, r.fields))
            if r.unchanged:
                unchanged.append(r.old_contact)  # type: ignore[arg-type]
                if rederive:
                    same.add(r.old_contact)  # type: ignore[arg-type]
                continue
            old = current.get(r.old_contact) if r.old_contact is not None else None
            target = by_phone.get(r.phone) if r.phone else None
            if target is None and old is not None and old.phone is None:
                target = old.id  # a contact without a number keeps its record, or gets one
                if r.phone:
                    phone_sets.append((r.phone, self.now, target))
                    by_phone[r.phone] = target
                    self._carry_opt_out(old, r.phone)
                    current[target] = old._replace(phone=r.phone)
            elif target is None:
                target = self._next_id
                self._next_id += 1
                created[target] = []
                current[target] = _blank(target, r.phone)
                if r.phone:
                    by_phone[r.phone] = target
            elif r.old_contact != target and (target not in created or created[target]):
                issues.append(self._joined(source, r, target))
            if old is not None and old.id != target:
                touched.add(old.id)
                self.orphans.add(old.id)
                phone = current[target].phone
                if phone:
                    self._carry_opt_out(old, phone)
            link = Link(
                target,
                source,
                r.external_id,
                r.phone_raw,
                r.email,
                r.first_name,
                r.last_name,
                r.fields,
                r.consent,
                r.consent_at,
                r.old_linked_at if r.old_contact == target and r.old_linked_at else self.now,
            )
            if target in created:
                created[target].append(link)
            elif r.old_contact == target and r.old_links == 1 and target not in touched:
                solo[target] = link
            else:
                touched.add(target)
            data = (r.phone, *r[2:9])  # phone, phone_raw, email, names, fields, consent, time
            if r.old_contact is None:
                link_inserts.append((target, source, r.external_id, *data, self.now))
            elif r.old_contact == target:
                link_updates.append((*data, source, r.external_id))
            else:  # moved to another contact: linked there from now
                link_moves.append((target, self.now, *data, source, r.external_id))
        for cid in touched & solo.keys():  # another record joined it: read them all
            del solo[cid]
        standing = self._standing([c.phone for c in current.values() if c.phone])
        new_rows = [
            self._derive(current[cid], sorted(links, key=self._rank), standing)
            for cid, links in created.items()
        ]
        cursor = self.db.cursor()
        cursor.executemany(
            "INSERT INTO contacts (id, phone, phone_raw, email, first_name, last_name, fields,"
            " sms_status, sms_changed_at, sms_reason, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row, self.now, self.now) for row in new_rows],
        )
        cursor.executemany("UPDATE contacts SET phone = ?, updated_at = ? WHERE id = ?", phone_sets)
        cursor.executemany(_LINK_INSERT, link_inserts)
        cursor.executemany(_LINK_MOVE, link_moves)
        cursor.executemany(_LINK_UPDATE, link_updates)
        self.add_issues(issues)
        changed = self._write_derived(
            {cid: self._derive(current[cid], [link], standing) for cid, link in solo.items()},
            current,
        )
        changed |= self.rederive(touched | same, current, standing)
        tally.created += len(created)
        tally.opted_out += sum(row.sms_status == "opted_out" for row in new_rows)
        tally.updated += len(touched | solo.keys() | (changed & same))
        tally.unchanged += sum(1 for cid in unchanged if cid not in changed)
        tally.issues += len(issues)
        tally.opted_out += self._opted_out
        self._opted_out = 0

    # ----- deriving contacts ------------------------------------------------------------------
    def rederive(
        self,
        cids: Iterable[int],
        known: dict[int, ContactState] | None = None,
        standing: dict[str, tuple[float, str]] | None = None,
    ) -> set[int]:
        """Derive these contacts again from their records; returns those whose row changed."""
        ids = sorted(set(cids))
        if not ids:
            return set()
        known = known or {}
        missing = [cid for cid in ids if cid not in known]
        current = {**known, **self._contacts(ids=missing, phones=[])} if missing else known
        links: dict[int, list[Link]] = defaultdict(list)
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute_sql(
                f"SELECT {_LINK_COLS} FROM contact_sources WHERE contact_id IN ({marks})", chunk
            ):
                links[row[0]].append(Link._make(row))
        # The opt-outs standing for these numbers: all of them, or those of contacts read here.
        unknown = ids if standing is None else missing
        standing = {} if standing is None else standing
        standing.update(
            self._standing(
                [p for c in unknown if c in current and (p := current[c].phone) is not None]
            )
        )
        derived: dict[int, ContactState] = {}
        for cid in ids:
            old = current.get(cid)
            recs = links.get(cid)
            if old is None or not recs:
                if old is not None:
                    self.orphans.add(cid)
                continue
            derived[cid] = self._derive(old, sorted(recs, key=self._rank), standing)
        return self._write_derived(derived, current)

    def _write_derived(
        self, derived: dict[int, ContactState], current: dict[int, ContactState]
    ) -> set[int]:
        """Write the contacts whose derived row differs from the stored one; returns them."""
        # Grouped by the columns that changed: SQLite rewrites the entries of every index a
        # SET names, so a changed status must not rewrite the name, email and phone indexes.
        groups: dict[tuple[int, ...], list[tuple[Any, ...]]] = defaultdict(list)
        for cid, row in derived.items():
            old = current[cid]
            if row != old:
                cols = tuple(i for i in range(1, len(row)) if row[i] != old[i])
                groups[cols].append((*(row[i] for i in cols), self.now, cid))
                if row.sms_status == "opted_out" != old.sms_status:
                    self._opted_out += 1
        cursor = self.db.cursor()
        changed: set[int] = set()
        for cols, rows in groups.items():
            sets = ", ".join(f"{ContactState._fields[i]} = ?" for i in cols)
            cursor.executemany(f"UPDATE contacts SET {sets}, updated_at = ? WHERE id = ?", rows)
            changed.update(r[-1] for r in rows)
        return changed

    def _derive(
        self, old: ContactState, recs: list[Link], standing: dict[str, tuple[float, str]]
    ) -> ContactState:
        if len(recs) == 1:  # nearly every contact: its one record is its details
            r = recs[0]
            details = {
                "phone_raw": r.phone_raw or None,
                "email": r.email or None,
                "first_name": r.first_name or None,
                "last_name": r.last_name or None,
            }
            fields = r.fields
        else:
            details = {
                k: next((getattr(r, k) for r in recs if getattr(r, k)), None) for k in _DETAILS
            }
            merged: dict[str, Any] = {}
            for r in reversed(recs):  # the first record (highest priority) is written last
                merged.update(orjson.loads(r.fields))
            fields = dump_fields(merged)
        phone = old.phone
        held: tuple[float, str] | None = None
        if phone is not None:
            held = standing.get(phone)
        elif old.sms_status == "opted_out":
            held = (old.sms_changed_at or self.now, old.sms_reason or "opted out")
        verdict = self._verdict(recs, held[0] if held else None)
        status, changed_at, reason = verdict.status.value, old.sms_changed_at, old.sms_reason
        if verdict.opt_out_at is not None:
            changed_at, reason = verdict.opt_out_at, verdict.reason
            if phone is not None:
                self.suppress(phone, verdict.opt_out_at, verdict.reason, recs[0].source)
                standing[phone] = (verdict.opt_out_at, verdict.reason)
        elif verdict.lifted_at is not None:
            changed_at, reason = self.now, verdict.reason
            if phone is not None:
                self.lift(phone, verdict.lifted_at, verdict.reason)
                standing.pop(phone, None)
        elif held is not None and verdict.status is SmsStatus.OPTED_OUT:
            changed_at, reason = held  # the standing opt-out, as it was recorded
        elif status != old.sms_status:
            changed_at, reason = self.now, verdict.reason
        return ContactState(
            old.id,
            phone,
            details["phone_raw"],
            details["email"],
            details["first_name"],
            details["last_name"],
            fields,
            status,
            changed_at,
            reason,
        )

    def _verdict(self, recs: list[Link], held_at: float | None) -> Verdict:
        if len(recs) == 1 and held_at is None and recs[0].consent != UNSUBSCRIBED:
            r = recs[0]  # the answer depends on nothing but these three: computed once
            return _plain_verdict(
                r.source, r.consent, self.modes.get(r.source, ConsentMode.EXPLICIT)
            )
        records = [
            RecordConsent(
                r.source, r.consent, r.consent_at, self.modes.get(r.source, ConsentMode.EXPLICIT)
            )
            for r in recs
        ]
        return derive_status(records, held_at, self.now)

    def _rank(self, link: Link) -> tuple[int, float, str]:
        order = self.priority.index(link.source) if link.source in self.priority else 99
        return order, link.linked_at, link.external_id

    # ----- opt-outs that stand for a number ---------------------------------------------------
    def _standing(self, phones: list[str]) -> dict[str, tuple[float, str]]:
        return suppressions.standing(self.db, phones)

    def suppress(self, phone: str, at: float, reason: str, origin: str) -> None:
        suppressions.suppress(self.db, phone, at, reason, origin)

    def lift(self, phone: str, consent_at: float, reason: str) -> None:
        suppressions.lift(self.db, phone, consent_at, reason, self.now)

    def _carry_opt_out(self, old: ContactState, phone: str) -> None:
        """A contact without a number that opted out (a click) gets a number, or its record
        moves to one: the person's opt-out goes with them."""
        if old.phone is not None or old.sms_status != "opted_out":
            return
        at = old.sms_changed_at or self.now
        self.suppress(phone, at, old.sms_reason or "opted out", LOCAL)
        suppressions.queue_write_back(self.db, old.id, phone, at)

    # ----- the rest ---------------------------------------------------------------------------
    def remove_orphans(self) -> int:
        """Contacts no source has any more go, unless they opted out (their number's
        suppression record stays either way)."""
        ids = sorted(self.orphans)
        gone = 0
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            gone += self.db.execute_sql(
                f"DELETE FROM contacts WHERE id IN ({marks}) AND sms_status != 'opted_out'"
                f" AND NOT EXISTS (SELECT 1 FROM contact_sources s"
                f" WHERE s.contact_id = contacts.id)"
                f" AND (phone IS NULL OR phone NOT IN"
                f" (SELECT phone FROM suppressions WHERE lifted_at IS NULL))",
                chunk,
            ).rowcount
        self.orphans.clear()
        return int(gone)

    def add_issues(self, rows: list[tuple[Any, ...]]) -> None:
        self.db.cursor().executemany(
            "INSERT INTO sync_issues (run_id, source, profile_id, contact_id, field, value,"
            " reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def _joined(self, source: str, r: Record, target: int) -> tuple[Any, ...]:
        return (
            self.run_id,
            source,
            r.external_id,
            target,
            "phone",
            r.phone,
            f"same number as another contact: merged into one ({source_label(source)})",
        )

    def _contacts(self, ids: list[int], phones: list[str]) -> dict[int, ContactState]:
        """Contacts by id, and by number for the numbers those did not have."""
        found: dict[int, ContactState] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute_sql(
                f"SELECT {_CONTACT_COLS} FROM contacts WHERE id IN ({marks})", chunk
            ):
                found[row[0]] = ContactState._make(row)
        known = {c.phone for c in found.values()}
        rest = [p for p in phones if p not in known]
        for chunk in _chunks(rest):
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute_sql(
                f"SELECT {_CONTACT_COLS} FROM contacts WHERE phone IN ({marks})", chunk
            ):
                found[row[0]] = ContactState._make(row)
        return found


_LINK_DATA = (
    "phone = ?, phone_raw = ?, email = ?, first_name = ?, last_name = ?, fields = ?,"
    " consent = ?, consent_at = ?"
)
_LINK_INSERT = (
    "INSERT INTO contact_sources (contact_id, source, external_id, phone, phone_raw, email,"
    " first_name, last_name, fields, consent, consent_at, linked_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Only what changed is set: SQLite rewrites the entries of every index a SET names.
_LINK_UPDATE = f"UPDATE contact_sources SET {_LINK_DATA} WHERE source = ? AND external_id = ?"
_LINK_MOVE = (
    f"UPDATE contact_sources SET contact_id = ?, linked_at = ?, {_LINK_DATA}"
    f" WHERE source = ? AND external_id = ?"
)


def dump_fields(fields: dict[str, Any]) -> str:
    """Field values as stored: JSON with sorted keys (compared as text to find changes)."""
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS).decode()


def _merged_fields(old: str, new: str) -> str:
    if new == "{}":
        return old
    before, after = orjson.loads(old), orjson.loads(new)
    if before.keys() <= after.keys():
        return new
    return dump_fields({**before, **after})


@functools.lru_cache(maxsize=512)
def _plain_verdict(source: str, consent: str | None, mode: ConsentMode) -> Verdict:
    return derive_status([RecordConsent(source, consent, None, mode)], None, 0.0)


def _blank(cid: int, phone: str | None) -> ContactState:
    return ContactState(cid, phone, None, None, None, None, "{}", "never_subscribed", None, None)


def _chunks(values: Sequence[Any], size: int = 5000) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
