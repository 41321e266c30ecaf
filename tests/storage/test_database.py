"""Opening, migrating and the repositories' invariants."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engage_desktop.core.consent import ConsentMode, SmsStatus
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import open_database
from engage_desktop.storage.migrations import STEPS, current_version, migrate
from engage_desktop.storage.outbox import OutboxRepo


@pytest.mark.sqlite_only
def test_new_database_is_wal_at_the_latest_version(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    assert current_version(db) == STEPS[-1][0]
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert (tmp_path / "engage.sqlite3").exists()


def test_an_older_database_is_upgraded_in_place(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    ContactRepo(db).add_opted_out("+14155550100", "test", 1.0)
    db.close()

    def later(database) -> None:  # type: ignore[no-untyped-def]
        database.execute_sql("ALTER TABLE contacts ADD COLUMN nickname TEXT")

    db = open_database(tmp_path)
    nxt = len(STEPS) + 1
    assert migrate(db, [*STEPS, (nxt, later)]) == nxt
    assert migrate(db, [*STEPS, (nxt, later)]) == nxt  # each step runs once
    row = db.execute_sql("SELECT phone, nickname FROM contacts").fetchone()
    assert row == ("+14155550100", None)  # data kept, column added


def test_connection_never_stores_the_key_and_list_change_forces_full(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    repo = ConnectionRepo(db)
    conn = Connection("ACC", "Shop", "http://x", ConsentMode.INFERRED, ("a",), needs_full=False)
    repo.save(conn)
    assert repo.get() == conn
    repo.save(
        Connection("ACC", "Shop", "http://x", ConsentMode.INFERRED, ("a", "b"), needs_full=False)
    )
    got = repo.get()
    assert got is not None and got.needs_full
    repo.record_sync(None, {}, 10, 2.0)
    got = repo.get()
    assert got is not None and not got.needs_full
    repo.save(
        Connection("ACC", "Shop", "http://x", ConsentMode.EXPLICIT, ("a", "b"), needs_full=False)
    )
    got = repo.get()
    assert got is not None and got.needs_full  # a new consent mode re-derives every status
    dump = "\n".join(sqlite3.connect(tmp_path / "engage.sqlite3").iterdump())
    assert "pk_" not in dump


def test_opt_out_writes_its_outbox_row_in_the_same_transaction(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    contacts, outbox = ContactRepo(db), OutboxRepo(db)
    cid = contacts.add_opted_out("+14155550101", "stop", 10.0)
    assert outbox.pending_count() == 1
    assert contacts.mark_opted_out(cid, "again", 11.0) is False  # never queued twice
    assert outbox.pending_count() == 1
    (entry,) = outbox.claim("a", now=10.0, limit=100)
    assert outbox.claim("b", now=10.0, limit=100) == []  # claimed: nobody else sends it
    outbox.mark_failed([entry.id], "a", "offline", next_attempt_at=100.0)
    assert outbox.claim("a", now=50.0, limit=100) == []
    assert outbox.claim("a", now=100.0, limit=100)[0].attempts == 1
    outbox.mark_sent([entry.id], "b", 101.0)  # not b's claim: nothing happens
    assert outbox.pending_count() == 1
    outbox.mark_sent([entry.id], "a", 101.0)
    outbox.mark_sent([entry.id], "a", 102.0)
    assert outbox.pending_count() == 0 and outbox.claim("a", now=1e12, limit=100) == []
    (contact,) = contacts.search()
    assert contact.sms_status is SmsStatus.OPTED_OUT


def test_phone_is_unique(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    ContactRepo(db).add_opted_out("+14155550102", "x", 1.0)
    with pytest.raises(Exception, match=r"UNIQUE|unique"):
        ContactRepo(db).add_opted_out("+14155550102", "x", 2.0)
