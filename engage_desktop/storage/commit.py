"""The commit: staged records become contacts in one write transaction.

Readers keep the previous state until it commits (WAL). Everything decided per contact (which
contact a record belongs to, the SMS status after the consent rules, which fields change) is
computed inside the transaction (`storage/merge.py`), so a local opt-out made during the fetch
is never lost. Staged rows are read in chunks in id order, so memory stays flat however large
the account. Removals happen only when the run proved its listing complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import peewee

from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.sources import source_label
from engage_desktop.storage.merge import RECORD_SELECT, Merge, Record, Tallies
from engage_desktop.storage.staging import STAGED_TABLES

CHUNK = 5000


@dataclass(frozen=True)
class SyncedList:
    """A source list this run covered."""

    external_id: str
    name: str
    member_count: int | None


@dataclass(frozen=True)
class SourceCommit:
    """What one source's staged records mean to the commit."""

    source: str
    full: bool  # every synced list was read whole
    lists: list[SyncedList]
    removals: bool = False  # the listing is proven complete: what it did not bring goes
    rederive: bool = False  # re-derive unchanged records' contacts too (the mode changed)


@dataclass(frozen=True)
class CommitResult:
    """What the commit changed for one source."""

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
    plans: Sequence[SourceCommit],
    modes: dict[str, ConsentMode],
    now: float,
) -> dict[str, CommitResult]:
    """Apply the staging area to the live tables in one transaction, then empty it."""
    out: dict[str, CommitResult] = {}
    with db.atomic():
        merge = Merge(db, run_id, now, modes)
        for plan in plans:
            tally = _commit_source(db, merge, plan)
            out[plan.source] = CommitResult(
                tally.created,
                tally.updated,
                tally.unchanged,
                tally.removed,
                tally.invalid,
                tally.opted_out,
                tally.issues,
            )
        merge.remove_orphans()
    with db.atomic():
        for plan in plans:
            for table in STAGED_TABLES:
                db.execute_sql(f"DELETE FROM {table} WHERE source = ?", (plan.source,))
    return out


def _commit_source(db: peewee.SqliteDatabase, merge: Merge, plan: SourceCommit) -> Tallies:
    sql = db.execute_sql
    src = plan.source
    # Only members of the synced lists become contacts; an incremental run also keeps
    # changed records of contacts we already have.
    keep_known = (
        ""
        if plan.full
        else " AND external_id NOT IN (SELECT external_id FROM contact_sources WHERE source = ?)"
    )
    sql(
        "DELETE FROM staged_records WHERE source = ? AND external_id NOT IN"
        " (SELECT external_id FROM staged_members WHERE source = ?)" + keep_known,
        (src, src) if plan.full else (src, src, src),
    )
    tally = Tallies()
    after = ""
    while True:
        rows = sql(
            f"{RECORD_SELECT} WHERE s.source = ? AND s.external_id > ?"
            f" ORDER BY s.external_id LIMIT {CHUNK}",
            (src, after),
        ).fetchall()
        if not rows:
            break
        merge.apply(src, [Record._make(r) for r in rows], tally, plan.rederive)
        after = rows[-1][0]
    _lists(db, plan, merge.now)
    if plan.removals:
        tally.removed = _removals(db, merge, plan)
    sql(
        "INSERT INTO sync_issues (run_id, source, profile_id, contact_id, field, value, reason)"
        " SELECT ?, i.source, i.external_id, l.contact_id, i.field, i.value, i.reason"
        " FROM staged_issues i LEFT JOIN contact_sources l"
        " ON l.source = i.source AND l.external_id = i.external_id WHERE i.source = ?",
        (merge.run_id, src),
    )
    tally.issues += int(
        sql("SELECT count(*) FROM staged_issues WHERE source = ?", (src,)).fetchone()[0]
    )
    return tally


def _lists(db: peewee.SqliteDatabase, plan: SourceCommit, now: float) -> None:
    """The synced lists, and their members as this run saw them (only what changed is
    written: most runs change few). Members are dropped only on a complete full listing."""
    sql = db.execute_sql
    src = plan.source
    for lst in plan.lists:
        sql(
            "INSERT INTO contact_lists (source, external_id, name, member_count, last_synced_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, external_id) DO UPDATE SET"
            " name = excluded.name, member_count = coalesce(excluded.member_count, member_count),"
            " last_synced_at = excluded.last_synced_at",
            (src, lst.external_id, f"{source_label(src)}: {lst.name}", lst.member_count, now),
        )
    synced = [lst.external_id for lst in plan.lists]
    marks = ",".join("?" * len(synced))
    seen = (
        "SELECT l.id, cs.contact_id FROM staged_members m"
        " JOIN contact_lists l ON l.source = m.source AND l.external_id = m.list_external_id"
        " JOIN contact_sources cs ON cs.source = m.source AND cs.external_id = m.external_id"
        " WHERE m.source = ?"
    )
    has_members = sql(
        f"SELECT EXISTS (SELECT 1 FROM list_members WHERE list_id IN (SELECT id FROM"
        f" contact_lists WHERE source = ? AND external_id IN ({marks})))",
        (src, *synced),
    ).fetchone()[0]
    if not has_members:  # these lists' first sync: nothing to compare, write them all
        sql(f"INSERT OR IGNORE INTO list_members (list_id, contact_id) {seen}", (src,))
        return
    sql(
        "CREATE TEMP TABLE IF NOT EXISTS seen_members (list_id INTEGER, contact_id INTEGER,"
        " PRIMARY KEY (list_id, contact_id)) WITHOUT ROWID"
    )
    sql("DELETE FROM seen_members")
    sql(f"INSERT OR IGNORE INTO seen_members (list_id, contact_id) {seen}", (src,))
    if plan.removals and synced:
        sql(
            f"DELETE FROM list_members WHERE list_id IN (SELECT id FROM contact_lists"
            f" WHERE source = ? AND external_id IN ({marks})) AND NOT EXISTS"
            f" (SELECT 1 FROM seen_members s WHERE s.list_id = list_members.list_id"
            f" AND s.contact_id = list_members.contact_id)",
            (src, *synced),
        )
    sql("INSERT OR IGNORE INTO list_members (list_id, contact_id) SELECT * FROM seen_members")
    sql("DELETE FROM seen_members")


def _removals(db: peewee.SqliteDatabase, merge: Merge, plan: SourceCommit) -> int:
    """A proven-complete full listing: records it did not bring go (their contacts follow
    when no source has them and they did not opt out). Returns the records removed."""
    sql = db.execute_sql
    src = plan.source
    synced = [lst.external_id for lst in plan.lists]
    marks = ",".join("?" * len(synced))
    # Lists no longer selected stop being synced lists: their copies go.
    sql(
        f"DELETE FROM contact_lists WHERE source = ? AND external_id NOT IN ({marks})",
        (src, *synced),
    )
    gone = sql(
        "DELETE FROM contact_sources WHERE source = ?"
        " AND external_id NOT IN (SELECT external_id FROM staged_records WHERE source = ?)"
        " AND external_id NOT IN (SELECT external_id FROM staged_kept WHERE source = ?)"
        " RETURNING contact_id",
        (src, src, src),
    ).fetchall()
    contacts = {int(r[0]) for r in gone}
    merge.orphans |= contacts
    merge.rederive(contacts)
    return len(gone)
