"""The commit: staged profiles become contacts in one write transaction.

Readers keep the previous state until it commits (WAL). Everything decided per contact (which
contact a profile is, the SMS status after the consent rules, which fields change) is computed
inside the transaction, so a local opt-out made during the fetch is never lost. Staged rows are
read in chunks in profile-id order, so memory stays flat however large the account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import peewee

from engage_desktop.core.consent import ConsentMode, SmsStatus, resolve
from engage_desktop.storage.contacts import utc

SOURCE = "KLAVIYO"
CHUNK = 5000
_CONTACT_COLS = (
    "id, phone, phone_raw, email, first_name, last_name, fields, sms_status, sms_changed_at"
)


@dataclass(frozen=True)
class SyncedList:
    """A Klaviyo list this run covered."""

    external_id: str
    name: str
    member_count: int | None


@dataclass(frozen=True)
class CommitResult:
    """What the commit changed."""

    created: int
    updated: int
    unchanged: int
    removed: int
    invalid: int
    opted_out: int
    issues: int


def commit_staged(
    db: peewee.SqliteDatabase,
    run_id: int,
    full: bool,
    lists: list[SyncedList],
    mode: ConsentMode,
    now: float,
    allow_removals: bool = True,
) -> CommitResult:
    """Apply the staging area to the live tables in one transaction, then empty it."""
    with db.atomic():
        result = _Commit(db, run_id, mode, now).run(full, lists, allow_removals)
    with db.atomic():
        for table in ("staged_profiles", "staged_members", "staged_issues"):
            db.execute_sql(f"DELETE FROM {table}")
    return result


@dataclass
class _Commit:
    db: peewee.SqliteDatabase
    run_id: int
    mode: ConsentMode
    now: float
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("created", "updated", "unchanged", "invalid", "opted_out", "issues"), 0
        )
    )
    # Contacts whose details a profile of this run already set: a bit per contact id (a
    # million contacts cost 125 KB; staged profile ids are unique, so a set bit means a twin).
    claimed: bytearray = field(default_factory=bytearray)
    next_id: int = 0

    def run(self, full: bool, lists: list[SyncedList], allow_removals: bool) -> CommitResult:
        sql = self.db.execute_sql
        # Only members of the synced lists become contacts; an incremental run also keeps
        # changed profiles of contacts we already have.
        keep_known = (
            ""
            if full
            else (
                " AND profile_id NOT IN (SELECT external_id FROM contact_sources WHERE source = ?)"
            )
        )
        sql(
            "DELETE FROM staged_profiles WHERE profile_id NOT IN"
            " (SELECT profile_id FROM staged_members)" + keep_known,
            () if full else (SOURCE,),
        )
        self.next_id = int(sql("SELECT coalesce(max(id), 0) + 1 FROM contacts").fetchone()[0])
        after = ""
        while True:
            rows = sql(
                "SELECT s.profile_id, s.phone, s.phone_raw, s.email, s.first_name, s.last_name,"
                " s.fields, s.consent, s.consent_at, cs.contact_id FROM staged_profiles s"
                " LEFT JOIN contact_sources cs ON cs.source = ? AND cs.external_id = s.profile_id"
                " WHERE s.profile_id > ? ORDER BY s.profile_id LIMIT ?",
                (SOURCE, after, CHUNK),
            ).fetchall()
            if not rows:
                break
            self._chunk(rows)
            after = rows[-1][0]
        removed = _lists_and_removals(self.db, lists, full, allow_removals, self.now)
        sql(
            "INSERT INTO sync_issues (run_id, profile_id, contact_id, field, value, reason)"
            " SELECT ?, i.profile_id, cs.contact_id, i.field, i.value, i.reason"
            " FROM staged_issues i LEFT JOIN contact_sources cs"
            " ON cs.source = ? AND cs.external_id = i.profile_id",
            (self.run_id, SOURCE),
        )
        staged_issues = int(sql("SELECT count(*) FROM staged_issues").fetchone()[0])
        c = self.counts
        return CommitResult(
            c["created"],
            c["updated"],
            c["unchanged"],
            removed,
            c["invalid"],
            c["opted_out"],
            c["issues"] + staged_issues,
        )

    def _current(self, rows: list[tuple[Any, ...]]) -> dict[int, tuple[Any, ...]]:
        ids = [r[9] for r in rows if r[9] is not None]
        phones = [r[1] for r in rows if r[1]]
        found: dict[int, tuple[Any, ...]] = {}
        for column, values in (("id", ids), ("phone", phones)):
            if values:
                marks = ",".join("?" * len(values))
                for row in self.db.execute_sql(
                    f"SELECT {_CONTACT_COLS} FROM contacts WHERE {column} IN ({marks})", values
                ):
                    found[row[0]] = row
        return found

    def _chunk(self, rows: list[tuple[Any, ...]]) -> None:
        now, c = self.now, self.counts
        current = self._current(rows)
        by_phone = {row[1]: cid for cid, row in current.items() if row[1]}
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        phone_moves: list[tuple[int]] = []
        opt_outs: list[tuple[Any, ...]] = []
        links: list[tuple[int, str, str]] = []
        issues: list[tuple[Any, ...]] = []
        for pid, phone, raw, email, first, last, fields_json, consent, consent_at, cid in rows:
            if raw and not phone:
                c["invalid"] += 1
            owner = by_phone.get(phone) if phone else None
            clash = None
            if cid is None and owner is not None:
                cid = owner  # the same number on another profile: one contact, both source ids
                clash = "same number as another Klaviyo profile: one contact for both"
            elif cid is not None and owner is not None and owner != cid:
                clash = "number already belongs to another contact; kept without it"
            if clash:
                issues.append((self.run_id, pid, cid, "phone", phone, clash))
                phone = None
            if cid is not None and _has(self.claimed, cid):
                # A twin: the contact keeps the first profile's details, but an opt-out on
                # any of its profiles counts.
                links.append((cid, SOURCE, pid))
                if consent == "UNSUBSCRIBED" and current[cid][7] != SmsStatus.OPTED_OUT.value:
                    opt_outs.append((SmsStatus.OPTED_OUT.value, now, _reason(consent), now, cid))
                    current[cid] = (*current[cid][:7], SmsStatus.OPTED_OUT.value, now)
                    c["opted_out"] += 1
                continue
            if cid is None:
                cid = self.next_id
                self.next_id += 1
                status = resolve(None, None, consent, utc(consent_at), self.mode)
                row = (phone, raw, email, first, last, fields_json, status.value)
                inserts.append((cid, *row, now, _reason(consent), now, now))
                current[cid] = (cid, *row, now)
                if phone:
                    by_phone[phone] = cid
                c["created"] += 1
                c["opted_out"] += status is SmsStatus.OPTED_OUT
            else:
                old = current[cid]
                local = SmsStatus(old[7])
                status = resolve(local, utc(old[8]), consent, utc(consent_at), self.mode)
                merged = old[6]
                if fields_json != "{}":  # staged fields arrive as sorted JSON; merge only then
                    old_fields = json.loads(old[6])
                    new_fields = {**old_fields, **json.loads(fields_json)}
                    if new_fields != old_fields:
                        merged = _dump(new_fields)
                row = (phone, raw, email, first, last, merged, status.value)
                if row == old[1:8]:
                    c["unchanged"] += 1
                else:
                    changed_at = old[8] if status is local else now
                    reason = _reason(consent) if status is not local else None
                    updates.append((*row, changed_at, reason, now, cid))
                    if old[1] != phone:
                        phone_moves.append((cid,))
                        by_phone.pop(old[1], None)
                    if phone:
                        by_phone[phone] = cid
                    current[cid] = (cid, *row, changed_at)
                    c["updated"] += 1
                    c["opted_out"] += status is SmsStatus.OPTED_OUT and local is not status
            _mark(self.claimed, cid)
            links.append((cid, SOURCE, pid))
        self._write(inserts, updates, phone_moves, opt_outs, links, issues)
        c["issues"] += len(issues)

    def _write(
        self,
        inserts: list[tuple[Any, ...]],
        updates: list[tuple[Any, ...]],
        phone_moves: list[tuple[int]],
        opt_outs: list[tuple[Any, ...]],
        links: list[tuple[int, str, str]],
        issues: list[tuple[Any, ...]],
    ) -> None:
        cursor = self.db.cursor()
        # Numbers can move between contacts: free the moving ones first, then write.
        cursor.executemany("UPDATE contacts SET phone = NULL WHERE id = ?", phone_moves)
        cursor.executemany(
            "UPDATE contacts SET phone = ?, phone_raw = ?, email = ?, first_name = ?,"
            " last_name = ?, fields = ?, sms_status = ?, sms_changed_at = ?,"
            " sms_reason = coalesce(?, sms_reason), updated_at = ? WHERE id = ?",
            updates,
        )
        cursor.executemany(
            "UPDATE contacts SET sms_status = ?, sms_changed_at = ?, sms_reason = ?,"
            " updated_at = ? WHERE id = ?",
            opt_outs,
        )
        cursor.executemany(
            "INSERT INTO contacts (id, phone, phone_raw, email, first_name, last_name, fields,"
            " sms_status, sms_changed_at, sms_reason, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            inserts,
        )
        cursor.executemany(
            "INSERT OR IGNORE INTO contact_sources (contact_id, source, external_id)"
            " VALUES (?, ?, ?)",
            links,
        )
        cursor.executemany(
            "INSERT INTO sync_issues (run_id, profile_id, contact_id, field, value, reason)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            issues,
        )


def _lists_and_removals(
    db: peewee.SqliteDatabase,
    lists: list[SyncedList],
    full: bool,
    allow_removals: bool,
    now: float,
) -> int:
    sql = db.execute_sql
    for lst in lists:
        sql(
            "INSERT INTO contact_lists (source, external_id, name, member_count, last_synced_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, external_id) DO UPDATE SET"
            " name = excluded.name, member_count = coalesce(excluded.member_count, member_count),"
            " last_synced_at = excluded.last_synced_at",
            (SOURCE, lst.external_id, f"Klaviyo: {lst.name}", lst.member_count, now),
        )
    synced = [lst.external_id for lst in lists]
    marks = ",".join("?" * len(synced))
    reconcile = full and allow_removals
    seen = (
        "SELECT l.id, cs.contact_id FROM staged_members m"
        " JOIN contact_lists l ON l.source = ? AND l.external_id = m.list_external_id"
        " JOIN contact_sources cs ON cs.source = ? AND cs.external_id = m.profile_id"
    )
    has_members = sql(
        f"SELECT EXISTS (SELECT 1 FROM list_members WHERE list_id IN (SELECT id FROM"
        f" contact_lists WHERE source = ? AND external_id IN ({marks})))",
        (SOURCE, *synced),
    ).fetchone()[0]
    if not has_members:  # these lists' first sync: nothing to compare, write them all
        sql(f"INSERT OR IGNORE INTO list_members (list_id, contact_id) {seen}", (SOURCE, SOURCE))
        return _removals(db, synced, marks) if reconcile else 0
    # The memberships this run saw, then only the difference is written: most runs change few.
    sql(
        "CREATE TEMP TABLE IF NOT EXISTS seen_members (list_id INTEGER, contact_id INTEGER,"
        " PRIMARY KEY (list_id, contact_id)) WITHOUT ROWID"
    )
    sql("DELETE FROM seen_members")
    sql(f"INSERT OR IGNORE INTO seen_members (list_id, contact_id) {seen}", (SOURCE, SOURCE))
    if reconcile and synced:
        sql(
            f"DELETE FROM list_members WHERE list_id IN (SELECT id FROM contact_lists"
            f" WHERE source = ? AND external_id IN ({marks})) AND NOT EXISTS"
            f" (SELECT 1 FROM seen_members s WHERE s.list_id = list_members.list_id"
            f" AND s.contact_id = list_members.contact_id)",
            (SOURCE, *synced),
        )
    sql("INSERT OR IGNORE INTO list_members (list_id, contact_id) SELECT * FROM seen_members")
    sql("DELETE FROM seen_members")
    return _removals(db, synced, marks) if reconcile else 0


def _removals(db: peewee.SqliteDatabase, synced: list[str], marks: str) -> int:
    """A full reconcile: what this run did not see goes; returns the profiles removed."""
    sql = db.execute_sql
    # Lists no longer selected stop being synced lists: their Klaviyo copies go.
    sql(
        f"DELETE FROM contact_lists WHERE source = ? AND external_id NOT IN ({marks})",
        (SOURCE, *synced),
    )
    gone = sql(
        "DELETE FROM contact_sources WHERE source = ?"
        " AND external_id NOT IN (SELECT profile_id FROM staged_profiles)",
        (SOURCE,),
    ).rowcount
    # A contact with no source left goes too, unless it opted out: that must be remembered.
    sql(
        "DELETE FROM contacts WHERE sms_status != ? AND id NOT IN"
        " (SELECT contact_id FROM contact_sources)",
        (SmsStatus.OPTED_OUT.value,),
    )
    return int(gone)


def _has(bits: bytearray, n: int) -> bool:
    return n >> 3 < len(bits) and bool(bits[n >> 3] & (1 << (n & 7)))


def _mark(bits: bytearray, n: int) -> None:
    if n >> 3 >= len(bits):
        bits.extend(bytes((n >> 3) - len(bits) + 1 + len(bits) // 2))
    bits[n >> 3] |= 1 << (n & 7)


def _dump(fields: dict[str, Any]) -> str:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True)


def _reason(consent: str | None) -> str:
    return f"Klaviyo SMS consent: {consent or 'none'}"
