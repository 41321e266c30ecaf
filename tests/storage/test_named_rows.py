"""Reads come back as named rows: each field is the column of the same name."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engage_desktop.core.consent import SmsStatus
from engage_desktop.core.fields import FieldType
from engage_desktop.core.mapping import MappingSpec
from engage_desktop.core.runs import RUN_COUNTS
from engage_desktop.storage.contact_table import ContactTable, ListChoice, ListRow, SourceId
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import Database, open_database
from engage_desktop.storage.fields import FieldRepo, PlatformField
from engage_desktop.storage.lease import Lease, LeaseRepo
from engage_desktop.storage.runs import IssueRow, RunRepo


def contacts(tmp_path: Path) -> Database:
    db = open_database(tmp_path)
    db.execute_sql(
        "INSERT INTO contacts (id, phone, phone_raw, email, first_name, last_name, fields,"
        " sms_status, sms_changed_at, sms_reason, created_at, updated_at) VALUES"
        " (1, '+14155550101', '(415) 555-0101', 'ann@x.io', 'Ann', 'Lee', '{\"Points\": 3}',"
        " 'opted_out', 5.0, 'STOP', 1.0, 6.0),"
        " (2, NULL, 'nope', NULL, NULL, NULL, '{}', 'never_subscribed', NULL, NULL, 2.0, 2.0)"
    )
    db.execute_sql(
        "INSERT INTO contact_sources (contact_id, source, external_id) VALUES"
        " (1, 'KLAVIYO', 'P1'), (1, 'CSV', 'row 7'), (2, 'KLAVIYO', 'P2')"
    )
    db.execute_sql(
        "INSERT INTO contact_lists (id, source, external_id, name, member_count, last_synced_at)"
        " VALUES (1, 'KLAVIYO', 'L1', 'Klaviyo: VIP', 40, 9.0),"
        " (2, 'KLAVIYO', 'L2', 'Klaviyo: All', NULL, NULL)"
    )
    db.execute_sql("INSERT INTO list_members (list_id, contact_id) VALUES (1, 1), (2, 1), (2, 2)")
    return db


def test_issues_are_named_and_still_read_as_tuples(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    runs = RunRepo(db)
    run = runs.start("manual", True, 1.0)
    runs.add_issues(run, [("Phone", "12", "not a valid phone number")])
    db.execute_sql(
        "INSERT INTO sync_issues (run_id, source, profile_id, contact_id, field, value, reason)"
        " VALUES (?, 'KLAVIYO', 'P9', 4, NULL, NULL, 'could not be read')",
        (run,),
    )
    runs.finish(run, "succeeded", {"created": 3, "throttled": 1}, 2.5, suspicious="few")
    local, read = runs.issues(run)
    assert local == IssueRow(None, None, "Phone", "12", "not a valid phone number", None)
    assert (read.source, read.profile_id, read.contact_id) == ("KLAVIYO", "P9", 4)
    assert read[4] == read.reason == "could not be read"  # older callers index it
    record = runs.get(run)
    assert record is not None and record.issues == 2 and record.full is True
    assert record.counts == dict.fromkeys(RUN_COUNTS, 0) | {"created": 3, "throttled": 1}
    assert list(record.counts) == list(RUN_COUNTS)
    assert (record.started_at, record.ended_at, record.suspicious) == (1.0, 2.5, "few")
    target = tmp_path / "issues.csv"
    assert runs.export_issues_csv(run, target) == 2
    rows = list(csv.reader(target.open(encoding="utf-8-sig")))
    assert rows[1:] == [
        [str(run), "", "", "", "Phone", "12", "not a valid phone number", "", ""],
        [str(run), "", "", "", "", "", "could not be read", "Klaviyo", "P9"],
    ]


@pytest.mark.sqlite_only  # PostgreSQL's lock: tests/sync/test_team_lock.py
def test_lease_is_its_row(tmp_path: Path) -> None:
    repo = LeaseRepo(open_database(tmp_path))
    mine = Lease(holder="me", pid=42, host="box", started_at=1.0, heartbeat_at=2.0)
    assert repo.try_take(mine, lambda held: False) is None
    assert repo.current() == mine
    assert repo.heartbeat("me", 3.0)
    held = repo.current()
    assert held is not None and held.heartbeat_at == 3.0 and held.pid == 42
    theirs = Lease("them", 7, "other", 5.0, 5.0)
    assert repo.try_take(theirs, lambda held: False) == held  # kept out, told by whom


def test_fields_and_mappings(tmp_path: Path) -> None:
    repo = FieldRepo(open_database(tmp_path))
    repo.replace_mappings(
        [
            MappingSpec("Points", "properties.points", FieldType.NUMBER),
            MappingSpec("City", "location.city", FieldType.TEXT),
        ]
    )
    assert repo.fields() == [
        PlatformField("Points", FieldType.NUMBER),
        PlatformField("City", FieldType.TEXT),
    ]
    assert dict(repo.fields())["City"] is FieldType.TEXT
    assert repo.mappings()[0] == MappingSpec("Points", "properties.points", FieldType.NUMBER)


def test_contacts_as_the_command_line_reads_them(tmp_path: Path) -> None:
    repo = ContactRepo(contacts(tmp_path))
    ann, nobody = repo.search()
    assert (ann.phone, ann.phone_raw, ann.email) == ("+14155550101", "(415) 555-0101", "ann@x.io")
    assert (ann.first_name, ann.last_name, ann.fields) == ("Ann", "Lee", {"Points": 3})
    assert (ann.sms_status, ann.sms_changed_at, ann.sms_reason) == (
        SmsStatus.OPTED_OUT,
        5.0,
        "STOP",
    )
    assert ann.sources == {"KLAVIYO": ["P1"], "CSV": ["row 7"]}
    assert ann.lists == ["Klaviyo: All", "Klaviyo: VIP"]
    assert nobody.phone is None and nobody.sms_status is SmsStatus.NEVER_SUBSCRIBED
    assert [c.id for c in repo.search(list_name="VIP")] == [1]
    assert [[c.id for c in batch] for batch in repo.batches(size=1)] == [[1], [2]]
    assert repo.find_by_phone("+14155550101") == 1 and repo.find_by_phone("+1") is None
    counts = repo.counts()
    assert (counts["total"], counts["without_phone"], counts["opted_out"]) == (2, 1, 1)


def test_the_contacts_screens_rows(tmp_path: Path) -> None:
    table = ContactTable(contacts(tmp_path))
    row = table.rows([1])[1]
    assert (row.first_name, row.last_name, row.name) == ("Ann", "Lee", "Ann Lee")
    assert row.status is SmsStatus.OPTED_OUT and row.updated_at == 6.0
    assert sorted(row.sources.split(",")) == ["CSV", "KLAVIYO"]
    assert sorted(row.lists.split(", ")) == ["Klaviyo: All", "Klaviyo: VIP"]
    assert (table.rows([2])[2].sources, table.rows([2])[2].name) == ("KLAVIYO", "")
    detail = table.detail(1)
    assert detail is not None and detail.fields == {"Points": 3}
    assert detail.source_ids == [SourceId("CSV", "row 7"), SourceId("KLAVIYO", "P1")]
    assert (detail.phone_raw, detail.sms_reason, detail.created_at) == (
        "(415) 555-0101",
        "STOP",
        1.0,
    )
    assert table.lists() == [ListChoice(2, "Klaviyo: All"), ListChoice(1, "Klaviyo: VIP")]
    assert table.list_rows() == [
        ListRow(2, "Klaviyo: All", "KLAVIYO", members=2, source_count=None, last_synced_at=None),
        ListRow(1, "Klaviyo: VIP", "KLAVIYO", members=1, source_count=40, last_synced_at=9.0),
    ]
    audience = table.recipients(2)
    assert (audience.opted_out, audience.never_subscribed, audience.total) == (1, 1, 2)
