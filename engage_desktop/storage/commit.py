"""The commit: staged records of every source become contacts in one write transaction.

Readers keep the previous state until it commits (WAL). Everything decided per contact (which
contact a record belongs to, the SMS status after the consent rules, which fields change, its
groups) is computed inside the transaction (`storage/merge.py`, `storage/groups.py`), so a
local opt-out made during the fetch is never lost. Staged rows are read in chunks in id
order, so memory stays flat however large the account. Removals happen only when the run
proved its listing complete. What merged across sources goes to the run's merge report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import peewee

from engage_desktop.core.consent import ConsentMode
from engage_desktop.storage import groups
from engage_desktop.storage.dialect import not_among, refresh_statistics
from engage_desktop.storage.merge import RECORD_SELECT, Merge, Record, Tallies
from engage_desktop.storage.merge_report import (
    MergeReport,
    numbers_read_differently,
    prepare_raw_read,
)
from engage_desktop.storage.staging import clear_sources
from engage_desktop.storage.unlisted_opt_outs import keep_unlisted_opt_outs

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


STAGING_TABLES = ("staged_records", "staged_members", "staged_issues", "staged_kept")


def commit_staged(
    db: peewee.Database,
    run_id: int,
    plans: Sequence[SourceCommit],
    modes: dict[str, ConsentMode],
    now: float,
    report: MergeReport | None = None,
) -> dict[str, CommitResult]:
    """Apply the staging area to the live tables in one transaction, then empty it.
    `modes`: consent modes that differ from the stored ones (the others are read)."""
    out: dict[str, CommitResult] = {}
    report = report if report is not None else MergeReport(db, run_id=run_id)
    refresh_statistics(db, STAGING_TABLES)  # the staging area was just filled
    with db.atomic():
        groups.prepare(db)
        merge = Merge(db, run_id, now, modes, report=report)
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
        groups.mark(db, merge.regroup)
        groups.regroup(db)
        merge.remove_orphans()
        report.flush()
    with db.atomic():
        clear_sources(db, [plan.source for plan in plans])
    return out


def _commit_source(db: peewee.Database, merge: Merge, plan: SourceCommit) -> Tallies:
    sql = db.execute_sql
    src = plan.source
    # Only members of the synced lists become contacts; an incremental run also keeps
    # changed records of contacts we already have. The others' opt-outs still count.
    keep_unlisted_opt_outs(db, merge, src, plan.full)
    keep_known = (
        ""
        if plan.full
        else " AND "
        + not_among(
            db, "staged_records.external_id", "contact_sources", "external_id", "x.source = ?"
        )
    )
    sql(
        "DELETE FROM staged_records WHERE source = ? AND "
        + not_among(
            db, "staged_records.external_id", "staged_members", "external_id", "x.source = ?"
        )
        + keep_known,
        (src, src) if plan.full else (src, src, src),
    )
    tally = Tallies()
    shared = _first_sync_shared_numbers(db, src)
    after = ""
    while True:
        rows = sql(
            f"{RECORD_SELECT} WHERE s.source = ? AND s.external_id > ?"
            f" ORDER BY s.external_id LIMIT {CHUNK}",
            (src, after),
        ).fetchall()
        if not rows:
            break
        records = [Record._make(r) for r in rows]
        if shared is not None:  # a first sync: a number met once (or none) is a new
            # contact, in bulk
            merge.add_new(src, [r for r in records if r.phone not in shared], tally)
            records = [r for r in records if r.phone in shared]
        merge.apply(src, records, tally, plan.rederive)
        after = rows[-1][0]
    if merge.report is not None:
        _read_differently(db, merge.report, src)
    synced = [lst.external_id for lst in plan.lists]
    groups.upsert_lists(
        db, src, [(x.external_id, x.name, x.member_count) for x in plan.lists], merge.now
    )
    groups.apply_memberships(db, src, synced, complete=plan.removals)
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


def _first_sync_shared_numbers(db: peewee.Database, source: str) -> set[str] | None:
    """For a commit into a database without contacts: the numbers two or more of this
    source's records share (those records go the usual way: twins become one contact). None
    when there are contacts already (every record goes the usual way)."""
    (empty,) = db.execute_sql("SELECT NOT EXISTS (SELECT 1 FROM contacts)").fetchone()
    if not empty:
        return None
    return {
        phone
        for (phone,) in db.execute_sql(
            "SELECT phone FROM staged_records WHERE source = ? AND phone IS NOT NULL"
            " GROUP BY phone HAVING count(*) > 1",
            (source,),
        )
    }


def _read_differently(db: peewee.Database, report: MergeReport, source: str) -> None:
    """Numbers this source wrote nationally (or could not read) that another source wrote
    the same way and read otherwise: the same person may be two contacts."""
    prepare_raw_read(db)
    db.execute_sql(
        "INSERT OR IGNORE INTO raw_read (phone_raw, phone) SELECT phone_raw, phone"
        " FROM staged_records WHERE source = ? AND phone_raw IS NOT NULL"
        " AND (phone IS NULL OR phone != phone_raw)",
        (source,),
    )
    numbers_read_differently(db, source, report)


def _removals(db: peewee.Database, merge: Merge, plan: SourceCommit) -> int:
    """A proven-complete full listing: records it did not bring go (their contacts follow
    when no source has them and they did not opt out). Returns the records removed."""
    sql = db.execute_sql
    src = plan.source
    synced = [lst.external_id for lst in plan.lists]
    marks = ",".join("?" * len(synced))
    # Lists no longer selected stop being synced lists: their copies go (and, with them,
    # every record's membership of them).
    lost = sql(
        "SELECT DISTINCT cs.contact_id FROM record_members rm JOIN contact_lists l"
        " ON l.id = rm.list_id JOIN contact_sources cs ON cs.source = rm.source"
        f" AND cs.external_id = rm.external_id WHERE l.source = ? AND l.external_id NOT IN"
        f" ({marks})",
        (src, *synced),
    ).fetchall()
    groups.mark(db, (int(r[0]) for r in lost))
    sql(
        f"DELETE FROM contact_lists WHERE source = ? AND external_id NOT IN ({marks})",
        (src, *synced),
    )
    gone = sql(
        "DELETE FROM contact_sources WHERE source = ?"
        " AND "
        + not_among(
            db, "contact_sources.external_id", "staged_records", "external_id", "x.source = ?"
        )
        + " AND "
        + not_among(db, "contact_sources.external_id", "staged_kept", "external_id", "x.source = ?")
        + " RETURNING contact_id",
        (src, src, src),
    ).fetchall()
    contacts = {int(r[0]) for r in gone}
    if contacts:
        groups.forget_records(db, src)
        groups.mark(db, contacts)
    merge.orphans |= contacts
    merge.rederive(contacts)
    return len(gone)
