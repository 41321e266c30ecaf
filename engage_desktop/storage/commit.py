"""The commit: staged profiles become contacts in one short write transaction.

Readers keep the previous state until it commits (WAL). Everything it decides per contact
(which contact a profile is, the SMS status after consent rules, which fields change) is
computed inside the transaction, so a local opt-out made during the fetch is never lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import peewee

from engage_desktop.core.consent import ConsentMode, SmsStatus, resolve
from engage_desktop.storage.contacts import utc

SOURCE = "KLAVIYO"


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
        result = _apply(db, run_id, full, lists, mode, now, allow_removals)
    with db.atomic():
        for table in ("staged_profiles", "staged_members", "staged_issues"):
            db.execute_sql(f"DELETE FROM {table}")
    return result


def _apply(
    db: peewee.SqliteDatabase,
    run_id: int,
    full: bool,
    lists: list[SyncedList],
    mode: ConsentMode,
    now: float,
    allow_removals: bool,
) -> CommitResult:
    sql = db.execute_sql
    cursor = db.cursor()
    if not full:
        # An incremental run also fetched profiles that changed outside the synced lists:
        # keep only contacts we already have and newly joined members.
        sql(
            "DELETE FROM staged_profiles WHERE profile_id NOT IN"
            " (SELECT external_id FROM contact_sources WHERE source = ?)"
            " AND profile_id NOT IN (SELECT profile_id FROM staged_members)",
            (SOURCE,),
        )
    staged = sql(
        "SELECT s.profile_id, s.phone, s.phone_raw, s.email, s.first_name, s.last_name,"
        " s.fields, s.consent, s.consent_at, cs.contact_id"
        " FROM staged_profiles s LEFT JOIN contact_sources cs"
        " ON cs.source = ? AND cs.external_id = s.profile_id ORDER BY s.profile_id",
        (SOURCE,),
    ).fetchall()
    current: dict[int, tuple[Any, ...]] = {
        row[0]: row
        for row in sql(
            "SELECT c.id, c.phone, c.phone_raw, c.email, c.first_name, c.last_name, c.fields,"
            " c.sms_status, c.sms_changed_at FROM contacts c WHERE c.id IN"
            " (SELECT cs.contact_id FROM contact_sources cs JOIN staged_profiles s"
            "  ON cs.source = ? AND cs.external_id = s.profile_id)"
            " OR c.phone IN (SELECT phone FROM staged_profiles WHERE phone IS NOT NULL)",
            (SOURCE,),
        )
    }
    by_phone = {row[1]: cid for cid, row in current.items() if row[1]}
    next_id = int(sql("SELECT coalesce(max(id), 0) + 1 FROM contacts").fetchone()[0])
    claimed: dict[int, str] = {}  # contact id -> the profile that set its details this run
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    phone_moves: list[tuple[int]] = []
    opt_outs: list[tuple[Any, ...]] = []
    links: list[tuple[int, str, str]] = []
    issues: list[tuple[Any, ...]] = []
    created = updated = unchanged = invalid = opted_out = 0
    for pid, phone, raw, email, first, last, fields_json, consent, consent_at, cid in staged:
        if raw and not phone:
            invalid += 1
        owner = by_phone.get(phone) if phone else None
        if cid is None and owner is not None:
            cid = owner  # the same number on another profile: one contact, both source ids
            issues.append(
                (
                    run_id,
                    pid,
                    cid,
                    "phone",
                    phone,
                    "same number as another Klaviyo profile: one contact for both",
                )
            )
        elif cid is not None and owner is not None and owner != cid:
            issues.append(
                (
                    run_id,
                    pid,
                    cid,
                    "phone",
                    phone,
                    "number already belongs to another contact; kept without it",
                )
            )
            phone = None
        if cid is not None and cid in claimed and claimed[cid] != pid:
            # A twin: the contact keeps the first profile's details, but an opt-out on any
            # of its profiles counts.
            links.append((cid, SOURCE, pid))
            if consent == "UNSUBSCRIBED" and current[cid][7] != SmsStatus.OPTED_OUT.value:
                opt_outs.append((SmsStatus.OPTED_OUT.value, now, _reason(consent), now, cid))
                opted_out += 1
            continue
        fields_new = json.loads(fields_json)
        if cid is None:
            cid = next_id
            next_id += 1
            status = resolve(None, None, consent, utc(consent_at), mode)
            inserts.append(
                (
                    cid,
                    phone,
                    raw,
                    email,
                    first,
                    last,
                    _dump(fields_new),
                    status.value,
                    now,
                    _reason(consent),
                    now,
                    now,
                )
            )
            if phone:
                by_phone[phone] = cid
            current[cid] = (
                cid,
                phone,
                raw,
                email,
                first,
                last,
                _dump(fields_new),
                status.value,
                now,
            )
            created += 1
            opted_out += status is SmsStatus.OPTED_OUT
        else:
            old = current[cid]
            local = SmsStatus(old[7])
            status = resolve(local, utc(old[8]), consent, utc(consent_at), mode)
            row = (
                phone,
                raw,
                email,
                first,
                last,
                _dump({**json.loads(old[6]), **fields_new}),
                status.value,
            )
            if row == (*old[1:6], _dump(json.loads(old[6])), old[7]):
                unchanged += 1
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
                updated += 1
                opted_out += status is SmsStatus.OPTED_OUT and local is not SmsStatus.OPTED_OUT
        claimed[cid] = pid
        links.append((cid, SOURCE, pid))

    # Numbers can move between contacts: free the moving ones first, then write.
    cursor.executemany("UPDATE contacts SET phone = NULL WHERE id = ?", phone_moves)
    cursor.executemany(
        "UPDATE contacts SET phone = ?, phone_raw = ?, email = ?, first_name = ?, last_name = ?,"
        " fields = ?, sms_status = ?, sms_changed_at = ?,"
        " sms_reason = coalesce(?, sms_reason), updated_at = ? WHERE id = ?",
        updates,
    )
    cursor.executemany(
        "UPDATE contacts SET sms_status = ?, sms_changed_at = ?, sms_reason = ?, updated_at = ?"
        " WHERE id = ?",
        opt_outs,
    )
    cursor.executemany(
        "INSERT INTO contacts (id, phone, phone_raw, email, first_name, last_name, fields,"
        " sms_status, sms_changed_at, sms_reason, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        inserts,
    )
    cursor.executemany(
        "INSERT OR IGNORE INTO contact_sources (contact_id, source, external_id) VALUES (?, ?, ?)",
        links,
    )
    removed = _lists_and_removals(db, lists, full, allow_removals, now)
    cursor.executemany(
        "INSERT INTO sync_issues (run_id, profile_id, contact_id, field, value, reason)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        issues,
    )
    sql(
        "INSERT INTO sync_issues (run_id, profile_id, contact_id, field, value, reason)"
        " SELECT ?, i.profile_id, cs.contact_id, i.field, i.value, i.reason FROM staged_issues i"
        " LEFT JOIN contact_sources cs ON cs.source = ? AND cs.external_id = i.profile_id",
        (run_id, SOURCE),
    )
    staged_issues = int(sql("SELECT count(*) FROM staged_issues").fetchone()[0])
    return CommitResult(
        created, updated, unchanged, removed, invalid, opted_out, len(issues) + staged_issues
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
    if full and allow_removals and synced:
        sql(
            f"DELETE FROM list_members WHERE list_id IN (SELECT id FROM contact_lists"
            f" WHERE source = ? AND external_id IN ({marks}))",
            (SOURCE, *synced),
        )
    sql(
        "INSERT OR IGNORE INTO list_members (list_id, contact_id)"
        " SELECT l.id, cs.contact_id FROM staged_members m"
        " JOIN contact_lists l ON l.source = ? AND l.external_id = m.list_external_id"
        " JOIN contact_sources cs ON cs.source = ? AND cs.external_id = m.profile_id",
        (SOURCE, SOURCE),
    )
    if not (full and allow_removals):
        return 0
    # Lists no longer selected stop being synced lists: their Klaviyo copies go.
    sql(
        f"DELETE FROM contact_lists WHERE source = ? AND external_id NOT IN ({marks})",
        (SOURCE, *synced),
    )
    gone = sql(
        "SELECT contact_id, external_id FROM contact_sources WHERE source = ?"
        " AND external_id NOT IN (SELECT profile_id FROM staged_profiles)",
        (SOURCE,),
    ).fetchall()
    db.cursor().executemany(
        "DELETE FROM contact_sources WHERE source = ? AND external_id = ?",
        [(SOURCE, pid) for _, pid in gone],
    )
    # A contact with no source left goes too, unless it opted out: that must be remembered.
    sql(
        "DELETE FROM contacts WHERE sms_status != ? AND id NOT IN"
        " (SELECT contact_id FROM contact_sources)",
        (SmsStatus.OPTED_OUT.value,),
    )
    return len(gone)


def _dump(fields: dict[str, Any]) -> str:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True)


def _reason(consent: str | None) -> str:
    return f"Klaviyo SMS consent: {consent or 'none'}"
