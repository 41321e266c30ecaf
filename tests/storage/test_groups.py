"""A sync after the first: memberships the records already had are skipped, and what changed
still lands — a record joining another list, a new record on a known list, a record that
moves to another number taking its groups along, a list the record left (on both engines)."""

from __future__ import annotations

import time
from pathlib import Path

from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.sources import KLAVIYO
from engage_desktop.storage.commit import SourceCommit, SyncedList, commit_staged
from engage_desktop.storage.database import Database, open_database
from engage_desktop.storage.runs import RunRepo
from engage_desktop.storage.staging import StagedRecord, StagingRepo

A, B, C = "+14155550101", "+14155550102", "+14155550103"


def _sync(db: Database, records: dict[str, str], members: list[tuple[str, str]]) -> None:
    StagingRepo(db, KLAVIYO).add(
        [
            StagedRecord(pid, phone, phone, None, pid, None, {}, "SUBSCRIBED", 1.7e9, 1.7e9)
            for pid, phone in records.items()
        ],
        members,
    )
    lists = [SyncedList(x, f"List {x}", None) for x in ("L1", "L2")]
    run = RunRepo(db).start("test", True, time.time())
    plan = SourceCommit(KLAVIYO, True, lists, removals=True)
    commit_staged(db, run, [plan], {KLAVIYO: ConsentMode.INFERRED}, time.time())


def _groups(db: Database) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for phone, list_id in db.execute_sql(
        "SELECT c.phone, l.external_id FROM contacts c"
        " LEFT JOIN list_members m ON m.contact_id = c.id"
        " LEFT JOIN contact_lists l ON l.id = m.list_id"
    ):
        out.setdefault(phone, set()).update([list_id] if list_id else [])
    return out


def test_a_later_sync_keeps_the_groups_it_had_and_adds_and_moves_what_changed(
    tmp_path: Path, engine: str
) -> None:
    db = open_database(tmp_path)
    _sync(db, {"P1": A, "P2": B}, [("L1", "P1"), ("L1", "P2"), ("L2", "P1")])
    assert _groups(db) == {A: {"L1", "L2"}, B: {"L1"}}

    # The same again: nothing to add, nothing changes.
    _sync(db, {"P1": A, "P2": B}, [("L1", "P1"), ("L1", "P2"), ("L2", "P1")])
    assert _groups(db) == {A: {"L1", "L2"}, B: {"L1"}}

    # P1 leaves L2; P2 joins L2 and moves to number C; P3 arrives on L2.
    _sync(
        db,
        {"P1": A, "P2": C, "P3": B},
        [("L1", "P1"), ("L1", "P2"), ("L2", "P2"), ("L2", "P3")],
    )
    assert _groups(db) == {A: {"L1"}, C: {"L1", "L2"}, B: {"L2"}}
    stored = db.execute_sql(
        "SELECT l.external_id, rm.external_id FROM record_members rm"
        " JOIN contact_lists l ON l.id = rm.list_id"
    ).fetchall()
    assert sorted(stored) == [("L1", "P1"), ("L1", "P2"), ("L2", "P2"), ("L2", "P3")]
