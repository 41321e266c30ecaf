"""CSV import: encodings and delimiters, guessed columns, bad rows, a 10 MB cell, dry runs
that write nothing, re-imports that change nothing, the sync lock, replacing a group."""

from __future__ import annotations

import codecs
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from engage_desktop.actions.imports import ImportActions
from engage_desktop.actions.outcomes import ActionError, Exit
from engage_desktop.core.consent import SmsStatus
from engage_desktop.core.fields import FieldType
from engage_desktop.imports.columns import Role
from engage_desktop.imports.csvfile import detect
from engage_desktop.storage import suppressions
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import Database, open_database
from engage_desktop.storage.lease import LeaseRepo
from engage_desktop.sync.lock import SyncLock

ROWS = [
    ("Phone", "Email", "First name", "Last name", "Opted out", "City", "Points", "Joined"),
    ("+1 415 555 0101", "ann@x.test", "Zoë", "Lefèvre", "", "Lyon", "12", "2024-05-01"),
    ("(415) 555-0102", "bob@x.test", "Bob", "Smith", "yes", "Paris", "3.5", "2023-01-02"),
    ("415.555.0103", "", "Chloé", "", "no", "", "", ""),
]


pytestmark = pytest.mark.usefixtures("engine")  # every import, on SQLite and on the team database


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(tmp_path / "data")
    yield database  # type: ignore[misc]
    database.close()


def write(
    path: Path, rows: Sequence[Sequence[str]], delimiter: str = ",", encoding: str = "utf-8"
) -> Path:
    text = "\r\n".join(delimiter.join(r) for r in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    tables = {
        "contacts": "SELECT id, phone, phone_raw, email, first_name, last_name, fields,"
        " sms_status, sms_changed_at, sms_reason, updated_at FROM contacts ORDER BY id",
        "contact_sources": "SELECT * FROM contact_sources ORDER BY source, external_id",
        "list_members": "SELECT * FROM list_members ORDER BY list_id, contact_id",
        "record_members": "SELECT * FROM record_members ORDER BY list_id, external_id",
        "contact_lists": "SELECT id, source, external_id, name FROM contact_lists ORDER BY id",
        "suppressions": "SELECT * FROM suppressions ORDER BY phone",
        "optout_outbox": "SELECT * FROM optout_outbox ORDER BY id",
    }
    return {k: db.execute_sql(q).fetchall() for k, q in tables.items()}


@pytest.mark.parametrize(
    ("encoding", "delimiter", "expected"),
    [
        ("utf-8", ",", "utf-8"),
        ("utf-8-sig", ";", "utf-8-sig"),
        ("cp1252", "\t", "cp1252"),
        ("utf-16", "\t", "utf-16"),
        ("utf-8", "|", "utf-8"),
    ],
)
def test_encodings_and_delimiters_are_recognised(
    db: Database, tmp_path: Path, encoding: str, delimiter: str, expected: str
) -> None:
    path = write(tmp_path / "c.csv", ROWS, delimiter, encoding)
    fmt = detect(path)
    assert (fmt.encoding, fmt.delimiter) == (expected, delimiter)
    actions = ImportActions(db)
    done = actions.run(actions.prepare(path, "Trade show 2026"))
    assert done.report.counts.new == 3 and done.report.counts.problems == 0
    people = {c.phone: c for c in ContactRepo(db).search()}
    assert people["+14155550101"].first_name == "Zoë"
    assert people["+14155550101"].last_name == "Lefèvre"
    assert people["+14155550103"].first_name == "Chloé"
    assert all(c.lists == ["CSV: Trade show 2026"] for c in people.values())


def test_the_preview_guesses_columns_and_types(db: Database, tmp_path: Path) -> None:
    rows = [("Mobile number", "mail", "Given name", "STOP", "Misc", "Score", "Since", "x")]
    rows += [
        (
            f"+4479111234{i:02d}",
            f"u{i}@x.test",
            "Al",
            "",
            "a b",
            str(i),
            f"2024-01-0{1 + i % 9}",
            "",
        )
        for i in range(30)
    ]
    path = write(tmp_path / "p.csv", rows)
    preview = ImportActions(db).preview(path, region="GB")
    roles = {c.column.header: c.column.role for c in preview.columns}
    assert roles == {
        "Mobile number": Role.PHONE,
        "mail": Role.EMAIL,
        "Given name": Role.FIRST_NAME,
        "STOP": Role.OPTED_OUT,
        "Misc": Role.FIELD,
        "Score": Role.FIELD,
        "Since": Role.FIELD,
        "x": Role.FIELD,
    }
    types = {c.column.header: c.column.type for c in preview.columns}
    assert (types["Score"], types["Since"], types["Misc"]) == (
        FieldType.NUMBER,
        FieldType.DATE,
        FieldType.TEXT,
    )
    phone = next(c for c in preview.columns if c.column.role is Role.PHONE)
    assert phone.phones == phone.filled == 30 and preview.estimated_rows == 30
    unnamed = write(
        tmp_path / "u.csv", [("a", "b")] + [(f"+1415555{i:04d}", "x") for i in range(10)]
    )
    assert ImportActions(db).preview(unnamed).plan.of(Role.PHONE) is not None  # by its values


def test_bad_rows_are_problems_and_a_dry_run_writes_nothing(db: Database, tmp_path: Path) -> None:
    rows = [
        ("Phone", "Name", "Opted out"),
        ("+14155550101", "Ann Lee", ""),
        ("", "No Number", ""),
        ("call me", "Junk", ""),
        ("+14155550101", "Twin", ""),  # the same number again
        ("+14155550104", "Maybe", "perhaps"),
        ("+14155550105",),  # a short row: the missing cells are empty
    ]
    path = write(tmp_path / "bad.csv", rows)
    actions = ImportActions(db)
    prepared = actions.prepare(path, "Fair")
    before = state(db)
    report = actions.dry_run(prepared)
    assert state(db) == before  # nothing written
    c = report.counts
    assert (c.rows, c.new, c.invalid, c.duplicates) == (6, 2, 3, 1)
    lines = {p.line: p.reason for p in report.problems}
    assert set(lines) == {3, 4, 5, 6}
    assert "no phone number" in lines[3] and "not a valid phone number" in lines[4]
    assert "earlier row" in lines[5] and "neither yes nor no" in lines[6]
    done = actions.run(prepared)
    assert done.report.counts.new == 2 and done.report.import_id is not None
    ann = next(x for x in ContactRepo(db).search() if x.phone == "+14155550101")
    assert (ann.first_name, ann.last_name) == ("Ann", "Lee")  # a full name, split
    kept = actions.issues(done.report.import_id)
    assert [i.row for i in kept] == [3, 4, 5, 6]


def test_a_ten_megabyte_cell_is_cut_with_a_note(db: Database, tmp_path: Path) -> None:
    big = "x" * (10 * 1024 * 1024)
    path = write(tmp_path / "big.csv", [("Phone", "Notes"), ("+14155550101", big)])
    actions = ImportActions(db)
    done = actions.run(actions.prepare(path, "Big"))
    assert done.report.counts.new == 1
    (note,) = done.report.problems
    assert note.column == "Notes" and "cut to 10,000 of its 10,485,760 characters" in note.reason
    (person,) = ContactRepo(db).search()
    assert len(person.fields["Notes"]) == 10_000


def test_importing_the_same_file_again_changes_nothing(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", ROWS)
    actions = ImportActions(db)
    first = actions.run(actions.prepare(path, "Trade show 2026"))
    assert first.report.counts.new == 3 and first.report.counts.opted_out == 1
    before = state(db)
    again = actions.run(actions.prepare(path, "trade show  2026"))  # the same group
    assert again.report.counts.unchanged == 3 and not again.changes.contacts
    assert state(db) == before
    assert [h.status for h in actions.history()] == ["succeeded", "succeeded"]


def test_an_opted_out_row_opts_the_number_out_for_good(db: Database, tmp_path: Path) -> None:
    actions = ImportActions(db)
    actions.run(actions.prepare(write(tmp_path / "c.csv", ROWS), "Trade show 2026"))
    bob = next(c for c in ContactRepo(db).search() if c.phone == "+14155550102")
    assert bob.sms_status is SmsStatus.OPTED_OUT and "CSV" in (bob.sms_reason or "")
    later = [ROWS[0], ("(415) 555-0102", "bob@x.test", "Bob", "Smith", "", "", "", "")]
    actions.run(actions.prepare(write(tmp_path / "d.csv", later), "Other", replace=True))
    bob = next(c for c in ContactRepo(db).search() if c.phone == "+14155550102")
    assert bob.sms_status is SmsStatus.OPTED_OUT  # a later file without the flag lifts nothing
    others = [c.sms_status for c in ContactRepo(db).search() if c.phone != "+14155550102"]
    assert SmsStatus.SUBSCRIBED not in others  # CSV rows are Explicit: no consent, none given


def test_a_first_import_keeps_numbers_opted_out_before_it(db: Database, tmp_path: Path) -> None:
    """No contact at all, but an opt-out remembered for a number (its contact is gone): the
    first import, which writes new numbers in bulk, still finds it, and a consent in the file
    (undated) lifts nothing."""
    suppressions.suppress(db, "+14155550102", 1_700_000_000.0, "STOP reply", "local")
    rows = [("Phone", "SMS consent")] + [(f"+1415555{100 + i:04d}", "yes") for i in range(12)]
    actions = ImportActions(db)
    done = actions.run(actions.prepare(write(tmp_path / "c.csv", rows), "Fair"))
    assert done.report.counts.new == 12
    status = {c.phone: c.sms_status for c in ContactRepo(db).search()}
    assert status.pop("+14155550102") is SmsStatus.OPTED_OUT
    assert set(status.values()) == {SmsStatus.SUBSCRIBED}


def test_a_subscribed_column_is_a_consent(db: Database, tmp_path: Path) -> None:
    rows = [("Phone", "SMS consent"), ("+14155550101", "yes"), ("+14155550102", "no")]
    actions = ImportActions(db)
    actions.run(actions.prepare(write(tmp_path / "s.csv", rows), "Opt-ins"))
    status = {c.phone: c.sms_status for c in ContactRepo(db).search()}
    assert status == {
        "+14155550101": SmsStatus.SUBSCRIBED,
        "+14155550102": SmsStatus.NEVER_SUBSCRIBED,
    }


def test_replacing_a_group_drops_who_is_not_in_the_file(db: Database, tmp_path: Path) -> None:
    actions = ImportActions(db)
    actions.run(actions.prepare(write(tmp_path / "c.csv", ROWS), "Fair"))
    actions.run(actions.prepare(write(tmp_path / "o.csv", ROWS[:2]), "Other"))
    done = actions.run(actions.prepare(write(tmp_path / "f.csv", ROWS[:2]), "Fair", replace=True))
    assert done.report.counts.left_group == 2
    people = {c.phone: c for c in ContactRepo(db).search()}
    assert sorted(people["+14155550101"].lists) == ["CSV: Fair", "CSV: Other"]
    assert "+14155550103" not in people  # no group, no source: gone
    assert people["+14155550102"].lists == []  # opted out: remembered, in no group


def test_an_import_waits_for_no_sync_it_refuses_while_one_runs(
    db: Database, tmp_path: Path
) -> None:
    actions = ImportActions(db)
    prepared = actions.prepare(write(tmp_path / "c.csv", ROWS), "Fair")
    lock = SyncLock(LeaseRepo(db), "a sync in another window", time.time)
    lock.pid = os.getppid()  # held by another live process on this machine
    lock.acquire()
    try:
        with pytest.raises(ActionError) as refused:
            actions.run(prepared)
        assert refused.value.exit is Exit.LOCKED and "already running" in refused.value.message
        assert ContactRepo(db).search() == []
    finally:
        lock.release()
    assert actions.run(prepared).report.counts.new == 3


def test_a_cancelled_import_leaves_nothing(db: Database, tmp_path: Path) -> None:
    rows = [("Phone",)] + [(f"+1415555{i:04d}",) for i in range(12_000)]
    actions = ImportActions(db)
    prepared = actions.prepare(write(tmp_path / "many.csv", rows), "Many")
    with pytest.raises(ActionError, match="cancelled"):
        actions.run(prepared, should_stop=lambda: bool(ContactRepo(db).counts()["total"] >= 0))
    assert state(db)["contacts"] == [] and actions.history()[0].status == "cancelled"


def test_columns_can_be_mapped_by_hand(db: Database, tmp_path: Path) -> None:
    rows = [("Ref", "Code"), ("+14155550101", "007")]
    actions = ImportActions(db)
    with pytest.raises(ActionError, match="No column holds phone numbers"):
        actions.prepare(write(tmp_path / "m.csv", [*rows[:1], ("x", "007")]), "Codes")
    prepared = actions.prepare(
        write(tmp_path / "n.csv", rows), "Codes", maps=("Code=Agent code:text",)
    )
    actions.run(prepared)
    (person,) = ContactRepo(db).search()
    assert person.fields == {"Agent code": "007"}  # text: the leading zeros stay
    with pytest.raises(ActionError, match="No column called 'Nope'"):
        actions.prepare(write(tmp_path / "n.csv", rows), "Codes", maps=("Nope=phone",))


def test_a_file_that_is_not_a_csv_is_said_so(db: Database, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(codecs.BOM_UTF8 + b"\x00\x01\x02")
    for path, words in ((empty, "is empty"), (binary, "not a text file")):
        with pytest.raises(ActionError, match=words):
            ImportActions(db).prepare(path, "X")


def indexes(db: Database) -> dict[str, str]:
    found = db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
    return {name: sql for name, sql in found.fetchall()}


@pytest.mark.sqlite_only  # SQLite's deferred indexes (bulk_indexes.py)
def test_a_first_import_builds_every_index_again(db: Database, tmp_path: Path) -> None:
    """Into empty tables the secondary indexes are set aside and built at the end: after
    an import, and after one cancelled half-way, each is there as the migrations made it."""
    before = indexes(db)
    assert "contacts_email" in before and "contact_sources_contact" in before
    rows = [("Phone", "Email")] + [(f"+1415555{i:04d}", f"p{i}@x.test") for i in range(10_000)]
    actions = ImportActions(db)
    prepared = actions.prepare(write(tmp_path / "many.csv", rows), "Many")
    calls = iter(range(10**6))
    with pytest.raises(ActionError, match="cancelled"):
        actions.run(prepared, should_stop=lambda: next(calls) >= 1)  # after the first chunk
    assert indexes(db) == before
    actions.run(prepared)
    assert indexes(db) == before
    plan = db.execute_sql(
        "EXPLAIN QUERY PLAN SELECT id FROM contacts WHERE email = 'p7@x.test'"
    ).fetchall()
    assert "contacts_email" in str(plan)
    assert ContactRepo(db).counts()["total"] == 10_000
