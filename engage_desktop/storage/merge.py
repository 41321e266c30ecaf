"""Merging source records into contacts: one contact per phone number, for every source.

A source record (a Klaviyo profile, a Mailjet contact, a CSV row) is stored as its source gave
it, in `contact_sources`, and belongs to the contact of its phone number. A contact is then
derived from all of its records: details field by field in source priority order (a stored
setting, storage/source_settings.py; the oldest record of a source first), the SMS status by
the consent rules of `core/consent.py`, with the opt-out that stands for its number in
`suppressions`. Deriving instead of copying is what makes the result independent of the order
records arrive in (twins in one page, a duplicate number months later, a record that moves to
another number, the same person in Klaviyo, Mailjet and a CSV file).

An opt-out from any source holds for the number everywhere; Klaviyo hears of it whenever the
number has a Klaviyo profile (storage/writeback.py). What merged across sources goes to the
run's merge report (storage/merge_report.py). Runs inside the commit's transaction; rows are
handled a chunk at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

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
from engage_desktop.core.groups import DEFAULT_PRIORITY
from engage_desktop.core.sources import KLAVIYO, LOCAL, source_label
from engage_desktop.storage import suppressions, writeback
from engage_desktop.storage.merge_report import MergeReport
from engage_desktop.storage.merge_rows import (
    CONTACT_COLS,
    CONTACT_INSERT,
    LINK_COLS,
    LINK_INSERT,
    LINK_MOVE,
    LINK_UPDATE,
    NOTHING_STORED,
    RECORD_SELECT,
    ContactState,
    Link,
    Record,
    Tallies,
    blank,
    chunks,
    dump_fields,
    merged_fields,
    plain_verdict,
    plain_verdicts,
)
from engage_desktop.storage.source_settings import consent_modes, load_priority

__all__ = ["DEFAULT_PRIORITY", "RECORD_SELECT", "Merge", "Record", "Tallies", "dump_fields"]


@dataclass
class Merge:
    """Applies records to contacts and re-derives every contact they touch."""

    db: peewee.Database
    run_id: int | None
    now: float
    modes: dict[str, ConsentMode]  # consent modes; sources not named: as connected now
    priority: Sequence[str] | None = None  # None: the stored source priority
    report: MergeReport | None = None  # what merged across sources, for the run's report
    issue_sink: list[tuple[Any, ...]] | None = None  # issues kept here instead of a run's
    linked: dict[str, int] | None = None  # when given: each applied record's contact
    # False: no stored contact can have these records' numbers (an import of numbers met once
    # each into a database that had no contacts), so none is looked up.
    numbers_known: bool = True
    orphans: set[int] = field(default_factory=set)  # contacts that lost a record
    regroup: set[int] = field(default_factory=set)  # contacts a record moved out of or into
    _next_id: int = 0
    _none_standing: bool | None = None  # no opt-out stood when `add_new` was first called
    _opted_out: int = 0  # contacts that became opted out, since the last `apply`
    _order: dict[str, int] = field(default_factory=dict)
    _suppressed: list[tuple[str, float, str, str]] = field(default_factory=list)  # new opt-outs
    _told: list[tuple[int, str, float]] = field(default_factory=list)  # … Klaviyo must hear of

    def __post_init__(self) -> None:
        row = self.db.execute_sql("SELECT coalesce(max(id), 0) + 1 FROM contacts").fetchone()
        self._next_id = int(row[0])
        order = tuple(self.priority) if self.priority is not None else load_priority(self.db)
        self.priority = order
        self._order = {source: i for i, source in enumerate(order)}
        self.modes = {**consent_modes(self.db), **self.modes}

    # ----- records --------------------------------------------------------------------------
    def apply(
        self, source: str, rows: Sequence[Record], tally: Tallies, rederive: bool = False
    ) -> None:
        """Store a chunk of one source's records and re-derive the contacts they touch.
        `rederive`: also the contacts of unchanged records (the consent mode changed)."""
        # A value that failed its field's type is not staged: the old one stays.
        rows = [
            r._replace(fields=merged_fields(r.old_fields, r.fields))
            if r.old_fields is not None and r.fields != r.old_fields
            else r
            for r in rows
        ]
        # Only changed records need their contacts (a run that changes nothing reads none).
        changing = [r for r in rows if not r.unchanged]
        current = self._contacts(
            ids=[r.old_contact for r in changing if r.old_contact is not None],
            phones=[r.phone for r in changing if r.phone] if self.numbers_known else [],
        )
        by_phone = {c.phone: c.id for c in current.values() if c.phone}
        # Contacts whose records are all known here are derived in memory: new ones, and
        # those whose only record is this one ("solo"); the others read theirs after writing.
        created: dict[int, list[Link]] = {}
        solo: dict[int, Link] = {}
        touched: set[int] = set()  # existing contacts whose records changed
        same: set[int] = set()  # contacts of unchanged records, when re-deriving
        unchanged: list[int] = []
        joins: list[tuple[Record, int]] = []  # records joining a stored contact
        link_inserts: list[tuple[Any, ...]] = []
        link_moves: list[tuple[Any, ...]] = []
        link_updates: list[tuple[Any, ...]] = []
        phone_sets: list[tuple[str, float, int]] = []
        issues: list[tuple[Any, ...]] = []
        for r in rows:
            tally.invalid += bool(r.phone_raw and not r.phone)
            if r.unchanged:
                if self.linked is not None:
                    self.linked[r.external_id] = r.old_contact  # type: ignore[assignment]
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
                current[target] = blank(target, r.phone)
                if r.phone:
                    by_phone[r.phone] = target
            elif r.old_contact != target and target in created:
                self._note_join(source, r, target, {lk.source for lk in created[target]}, issues)
            elif r.old_contact != target:
                joins.append((r, target))
            if old is not None and old.id != target:
                touched.add(old.id)
                self.orphans.add(old.id)
                self.regroup |= {old.id, target}
                phone = current[target].phone
                if phone:
                    self._carry_opt_out(old, phone)
            if self.linked is not None:
                self.linked[r.external_id] = target
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
        if joins:  # before this chunk's records are written: who each contact had
            before = self._sources_of(sorted({t for _, t in joins}))
            for r, target in joins:
                self._note_join(source, r, target, before.setdefault(target, set()), issues)
                before[target].add(source)
        for cid in touched & solo.keys():  # another record joined it: read them all
            del solo[cid]
        standing = self._standing([c.phone for c in current.values() if c.phone])
        new_rows = [self._created(current[cid], links, standing) for cid, links in created.items()]
        cursor = self.db.cursor()
        cursor.executemany(CONTACT_INSERT, [(*row, self.now, self.now) for row in new_rows])
        cursor.executemany("UPDATE contacts SET phone = ?, updated_at = ? WHERE id = ?", phone_sets)
        cursor.executemany(LINK_INSERT, link_inserts)
        cursor.executemany(LINK_MOVE, link_moves)
        cursor.executemany(LINK_UPDATE, link_updates)
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
        self._flush()

    def add_new(self, source: str, rows: Sequence[Sequence[Any]], tally: Tallies) -> None:
        """Records new to the database whose numbers no stored contact has and no other of
        these records shares (an import of numbers met once each into a database without
        contacts): one new contact each, derived as `_created` derives one, written in bulk.
        A record that opts out, or whose number has an opt-out standing goes the usual way
        (`apply`). Rows are `Record`s or tuples of a staged record's nine fields, in
        `Record`'s order (a first import's rows, read that way by the reading process)."""
        if self._none_standing is None:
            # No opt-out stood when the first of these records came: none can stand for the
            # later ones, whose numbers are each met once (an opt-out this merge writes is
            # for a number it has met).
            self._none_standing = not suppressions.any_standing(self.db)
        standing = {} if self._none_standing else self._standing([r[1] for r in rows if r[1]])
        mode = self.modes.get(source, ConsentMode.EXPLICIT)
        now, linked = self.now, self.linked
        usual: list[Record] = []
        contacts: list[tuple[Any, ...]] = []
        links: list[tuple[Any, ...]] = []
        answers: dict[str | None, tuple[str, bool, str]] = {}  # by consent: one verdict each
        for r in rows:
            # (external_id, phone, phone_raw, email, first_name, last_name, fields, consent,
            # consent_at): the staged fields of a Record, read by place (a million a run)
            phone, consent = r[1], r[7]
            if phone is None:
                tally.invalid += bool(r[2])  # a number written that is not one
            if consent == UNSUBSCRIBED or (phone is not None and phone in standing):
                usual.append(
                    r if isinstance(r, Record) else Record._make((*r[:9], *NOTHING_STORED))
                )
                continue
            answer = answers.get(consent)
            if answer is None:
                verdict = plain_verdict(source, consent, mode)
                # moved: not a blank contact's status (never subscribed)
                status = verdict.status.value
                answer = answers[consent] = (status, status != "never_subscribed", verdict.reason)
            status, moved, reason = answer
            cid = self._next_id
            self._next_id += 1
            contacts.append(
                (
                    cid,
                    phone,
                    r[2] or None,
                    r[3] or None,
                    r[4] or None,
                    r[5] or None,
                    r[6],
                    status,
                    now if moved else None,
                    reason if moved else None,
                    now,
                    now,
                )
            )
            links.append((cid, source, r[0], *r[1:9], now))
            if linked is not None:
                linked[r[0]] = cid
        cursor = self.db.cursor()
        cursor.executemany(CONTACT_INSERT, contacts)
        cursor.executemany(LINK_INSERT, links)
        tally.created += len(contacts)
        if usual:
            self.apply(source, usual, tally)

    def _note_join(
        self, source: str, r: Record, target: int, before: set[str], issues: list[tuple[Any, ...]]
    ) -> None:
        """A record joins a contact of its number: twins within a source (or a contact no
        source has, such as a number opted out by hand) are an issue; a record of another
        source meeting the contact is what merging is for, and goes to the merge report."""
        if source in before or not before:
            issues.append(self._joined(source, r, target))
        elif self.report is not None:
            self.report.merged(target, r.phone, source, r.external_id, before)

    def _sources_of(self, cids: list[int]) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {}
        for chunk in chunks(cids):
            marks = ",".join("?" * len(chunk))
            for cid, source in self.db.execute_sql(
                f"SELECT contact_id, source FROM contact_sources WHERE contact_id IN ({marks})",
                chunk,
            ):
                out.setdefault(cid, set()).add(source)
        return out

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
        for chunk in chunks(ids):
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute_sql(
                f"SELECT {LINK_COLS} FROM contact_sources WHERE contact_id IN ({marks})", chunk
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
        changed = self._write_derived(derived, current)
        self._flush()
        return changed

    def _flush(self) -> None:
        """What deriving a chunk decided beside the contacts: new opt-outs (and which of them
        Klaviyo must hear of), the merge report's rows."""
        if self._suppressed:
            suppressions.suppress_many(self.db, self._suppressed)
            self._suppressed = []
        if self._told:
            writeback.queue_new(self.db, self._told)
            self._told = []
        if self.report is not None:
            self.report.flush()

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
            raw = email = first = last = None
            for r in reversed(recs):  # the first record with a value (highest priority) wins
                raw, email = r.phone_raw or raw, r.email or email
                first, last = r.first_name or first, r.last_name or last
            details = {"phone_raw": raw, "email": email, "first_name": first, "last_name": last}
            values = [orjson.loads(r.fields) for r in recs]
            if len(recs) == 2 and not values[1]:  # the other record adds no field
                fields = recs[0].fields if values[0] else "{}"
            else:
                merged: dict[str, Any] = {}
                for v in reversed(values):  # the first record is written last
                    merged.update(v)
                fields = dump_fields(merged)
            if self.report is not None and len({r.source for r in recs}) > 1:
                self.report.conflicts(old.id, old.phone, recs, values)
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
            if phone is not None:  # a new opt-out (none stood): written with the chunk
                origin = _origin(recs)
                self._suppressed.append((phone, verdict.opt_out_at, verdict.reason, origin))
                standing[phone] = (verdict.opt_out_at, verdict.reason)
                if origin != KLAVIYO and writeback.klaviyo_unaware(recs):
                    self._told.append((old.id, phone, verdict.opt_out_at))
        elif verdict.lifted_at is not None:
            changed_at, reason = self.now, verdict.reason
            if phone is not None:
                self.lift(phone, verdict.lifted_at, verdict.reason)
                standing.pop(phone, None)
        elif held is not None and verdict.status is SmsStatus.OPTED_OUT:
            changed_at, reason = held  # the standing opt-out, as it was recorded
            # One from Mailjet, a CSV file or here, and a Klaviyo profile that may not know
            # it (new to the number): Klaviyo hears, once.
            if phone is not None and writeback.klaviyo_unaware(recs):
                writeback.queue_unheard(self.db, old.id, phone)
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

    def _created(
        self, new: ContactState, links: list[Link], standing: dict[str, tuple[float, str]]
    ) -> ContactState:
        """A new contact: `_derive` of a blank row, without its detours for the common case
        (one record that does not opt out, of a number with no opt-out standing)."""
        if len(links) != 1 or links[0].consent == UNSUBSCRIBED or new.phone in standing:
            return self._derive(new, sorted(links, key=self._rank), standing)
        r = links[0]
        verdict = plain_verdict(r.source, r.consent, self.modes.get(r.source, ConsentMode.EXPLICIT))
        status = verdict.status.value
        moved = status != new.sms_status
        return ContactState(
            new.id,
            new.phone,
            r.phone_raw or None,
            r.email or None,
            r.first_name or None,
            r.last_name or None,
            r.fields,
            status,
            self.now if moved else new.sms_changed_at,
            verdict.reason if moved else new.sms_reason,
        )

    def _verdict(self, recs: list[Link], held_at: float | None) -> Verdict:
        modes = self.modes
        if held_at is None:
            if len(recs) == 1 and recs[0].consent != UNSUBSCRIBED:
                r = recs[0]  # the answer depends on nothing but these three: computed once
                return plain_verdict(r.source, r.consent, modes.get(r.source, ConsentMode.EXPLICIT))
            if all(r.consent != UNSUBSCRIBED for r in recs):
                return plain_verdicts(
                    tuple(
                        (r.source, r.consent, modes.get(r.source, ConsentMode.EXPLICIT))
                        for r in recs
                    )
                )
        records = [
            RecordConsent(
                r.source, r.consent, r.consent_at, self.modes.get(r.source, ConsentMode.EXPLICIT)
            )
            for r in recs
        ]
        return derive_status(records, held_at, self.now)

    def _rank(self, link: Link) -> tuple[int, float, str]:
        return self._order.get(link.source, 99), link.linked_at, link.external_id

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
        for chunk in chunks(ids):
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
        if self.issue_sink is not None:
            self.issue_sink.extend(rows)
            return
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
            "Phone",
            r.phone,
            f"same number as another contact: merged into one ({source_label(source)})",
        )

    def _contacts(self, ids: list[int], phones: list[str]) -> dict[int, ContactState]:
        """Contacts by id, and by number for the numbers those did not have."""
        found: dict[int, ContactState] = {}
        for chunk in chunks(ids):
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute_sql(
                f"SELECT {CONTACT_COLS} FROM contacts WHERE id IN ({marks})", chunk
            ):
                found[row[0]] = ContactState._make(row)
        known = {c.phone for c in found.values()}
        rest = [p for p in phones if p not in known]
        for chunk in chunks(rest):
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute_sql(
                f"SELECT {CONTACT_COLS} FROM contacts WHERE phone IN ({marks})", chunk
            ):
                found[row[0]] = ContactState._make(row)
        return found


def _origin(recs: list[Link]) -> str:
    """Where a new opt-out came from: Klaviyo when one of its profiles says so (it knows and
    is not told again), else the first source that says UNSUBSCRIBED."""
    said = [r.source for r in recs if r.consent == UNSUBSCRIBED]
    return KLAVIYO if KLAVIYO in said else said[0]
