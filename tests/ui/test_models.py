"""Every model passes Qt's model tester; the contacts model stays lazy over a million rows."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester

from engage_desktop.core.consent import SmsStatus
from engage_desktop.core.mapping import MappingSpec
from engage_desktop.core.runs import RUN_COUNTS
from engage_desktop.klaviyo.models import KlaviyoList
from engage_desktop.storage.contact_table import ORDERS, ContactQuery, ContactTable
from engage_desktop.storage.database import Database
from engage_desktop.storage.runs import RunRepo
from engage_desktop.ui.contacts.contacts_model import (
    ID_ROLE,
    PAGE,
    STATUS_COLOURS,
    ContactsTableModel,
)
from engage_desktop.ui.history.runs_model import IssuesTableModel, RunsTableModel
from engage_desktop.ui.lists.lists_screen import ListsTableModel
from engage_desktop.ui.widgets.list_choice_model import ListChoiceModel
from engage_desktop.ui.widgets.mapping_model import NAME, PATH, MappingTableModel
from tests.ui.bulk import fill_contacts


@pytest.fixture(scope="module")
def million(tmp_path_factory: pytest.TempPathFactory) -> Database:
    from engage_desktop.storage.database import open_database

    db = open_database(tmp_path_factory.mktemp("million"))
    fill_contacts(db, 1_000_000)
    return db


def test_contacts_model_over_a_million_rows(qtmodeltester: ModelTester, million: Database) -> None:
    table = ContactTable(million)
    model = ContactsTableModel(table)
    # Qt's tester asks every row for its index (58 M calls at a million rows): it checks a
    # filtered view of the same database; the million-row snapshot is checked below.
    model.set_snapshot(table.ids(ContactQuery(text="user123")))
    assert model.rowCount() == 1111  # user123, user1230-9, user12300-99, user123000-999
    qtmodeltester.check(model)
    model = ContactsTableModel(table)  # (the tester stays attached to the first one)
    model.set_snapshot(table.ids(ContactQuery()))
    assert model.rowCount() == 1_000_000
    last = model.index(999_999, 1)
    assert model.data(last) is not None
    assert model.page_loads <= 3  # only the pages looked at were read
    by_name = [model.data(model.index(r, 0)) for r in range(3)]
    assert by_name == sorted(by_name)


def test_contacts_model_sorts_and_filters_in_sql(million: Database) -> None:
    table = ContactTable(million)
    model = ContactsTableModel(table)
    requests: list[tuple[str, bool]] = []
    model.sort_requested.connect(lambda key, desc: requests.append((key, desc)))
    model.sort(1, Qt.SortOrder.DescendingOrder)
    assert requests == [("phone", True)]
    ids = table.ids(ContactQuery(sort="phone", descending=True))
    model.set_snapshot(ids)
    assert model.data(model.index(0, 1)) == "+1 555-100-0000"  # shown for people
    found = table.ids(ContactQuery(text="555 100-0000"))
    assert list(found) == [1_000_000]
    found = table.ids(ContactQuery(text="user12345@"))
    assert 12345 in found and all(str(i).startswith("12345") for i in found)
    in_list = table.ids(ContactQuery(list_id=2))
    assert len(in_list) == 1_000_000 // 6


def test_refresh_keeps_rows_and_reloads_values(million: Database) -> None:
    table = ContactTable(million)
    model = ContactsTableModel(table)
    ids = table.ids(ContactQuery(text="First17 "))
    model.set_snapshot(ids)
    before = model.data(model.index(0, 3))
    loads = model.page_loads
    changed: list[int] = []
    model.dataChanged.connect(lambda a, b, roles=(): changed.append(a.row()))
    model.refresh(ids)
    assert changed == [0] and model.rowCount() == len(ids)
    assert model.data(model.index(0, 3)) == before and model.page_loads == loads + 1


def test_a_big_view_shows_its_first_page_before_its_whole_order(million: Database) -> None:
    table = ContactTable(million)
    views = (
        ContactQuery(sort="updated"),
        ContactQuery(sort="name", descending=True),
        ContactQuery(list_id=2, sort="phone"),
    )
    for q in views:
        first = table.first_page(q, PAGE)
        whole = table.ids(q)
        assert first is not None and first.total == len(whole), q
        assert first.ids == whole[:PAGE], q
    assert table.first_page(views[0], PAGE) is None  # kept: the whole order comes at once
    assert table.first_page(ContactQuery(text="First17"), PAGE) is None  # a search
    model = ContactsTableModel(table)
    model.set_snapshot(first.ids, first.total)
    assert model.rowCount() == len(whole)
    assert model.data(model.index(5, 0)) is not None  # painted from the first page
    assert model.data(model.index(PAGE + 5, 0)) is None  # its place is still being read
    assert model.contact_id(PAGE + 5) is None
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, roles=(): changed.append((a.row(), b.row())))
    assert not model.complete(whole[1:] + whole[:1])  # not its continuation: nothing done
    assert model.data(model.index(PAGE + 5, 0)) is None and changed == []
    assert model.complete(whole)
    assert changed == [(PAGE, len(whole) - 1)]
    assert model.contact_id(PAGE + 5) == whole[PAGE + 5]
    assert model.data(model.index(PAGE + 5, 0)) is not None


def test_small_models(qtmodeltester: ModelTester, db: Database) -> None:
    lists = ListChoiceModel()
    lists.set_lists([KlaviyoList(f"L{i}", f"List {i}", None, None) for i in range(5)])
    lists.set_count("L1", 10)
    qtmodeltester.check(lists)
    mapping = MappingTableModel()
    mapping.set_mappings([MappingSpec("Points", "properties.points")])
    qtmodeltester.check(mapping)
    assert mapping.setData(mapping.index(4, PATH), "properties.x")
    assert not mapping.setData(mapping.index(0, NAME), "Given name")  # built-in names stay
    assert mapping.mappings() == [MappingSpec("Points", "properties.x")]
    assert mapping.setData(mapping.index(0, PATH), "properties.nickname")  # its source may change
    assert mapping.mappings()[0] == MappingSpec("First name", "properties.nickname")
    assert mapping.setData(mapping.index(0, PATH), "first_name")  # back to the default
    assert mapping.mappings() == [MappingSpec("Points", "properties.x")]
    runs = RunRepo(db)
    run = runs.start("manual", True, time.time())
    runs.add_issues(run, [("Phone", "12", "not a valid phone number")])
    runs.finish(run, "succeeded", {"created": 3}, time.time())
    history = RunsTableModel()
    history.set_rows(runs.recent())
    qtmodeltester.check(history)
    assert history.data(history.index(0, 4)) == "succeeded"
    issues = IssuesTableModel()
    issues.set_rows(runs.issue_details(run))
    qtmodeltester.check(issues)
    listed = ListsTableModel()
    listed.set_rows(ContactTable(db).list_rows())
    qtmodeltester.check(listed)


def test_pages_are_bounded(million: Database) -> None:
    table = ContactTable(million)
    model = ContactsTableModel(table)
    model.set_snapshot(table.ids(ContactQuery()))
    for row in range(0, 60 * PAGE, PAGE):
        model.data(model.index(row, 0))
    assert len(model._pages) == 40


def test_columns_know_their_header_sort_and_cells(db: Database) -> None:
    db.execute_sql(
        "INSERT INTO contacts (id, phone, email, first_name, last_name, sms_status, created_at,"
        " updated_at) VALUES (1, '+14155550101', 'a@x.io', 'Ann', 'Lee', 'opted_out', 0, 0),"
        " (2, NULL, NULL, 'Zoe', NULL, 'subscribed', 0, 0),"
        " (3, NULL, 'n@x.io', NULL, NULL, 'subscribed', 0, 0)"
    )
    table = ContactTable(db)
    model = ContactsTableModel(table)
    model.set_snapshot(table.ids(ContactQuery()))
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Name", "Phone", "Email", "SMS status", "Sources", "Groups", "Updated"]
    # The Name column shows what it sorts by: last name first, then first names alone.
    assert [model.data(model.index(r, 0)) for r in range(3)] == ["Lee, Ann", "Zoe", "(no name)"]
    assert model.data(model.index(0, 3)) == "Opted out"
    assert (
        model.data(model.index(0, 3), Qt.ItemDataRole.ForegroundRole)
        == STATUS_COLOURS[SmsStatus.OPTED_OUT]
    )
    assert model.data(model.index(1, 1)) == "—"
    assert model.data(model.index(0, 1)) == "+1 415-555-0101"
    assert model.data(model.index(0, 0), ID_ROLE) == 1
    assert model.row_of(3) == 2 and model.row_of(3, hint=2) == 2 and model.row_of(3, hint=0) == 2
    assert model.row_of(99, hint=1) is None
    keys = [model.sort_key(c) for c in range(model.columnCount())]
    assert keys == ["name", "phone", "email", "status", None, None, "updated"]
    assert all(k is None or k in ORDERS for k in keys)
    asked: list[tuple[str, bool]] = []
    model.sort_requested.connect(lambda key, desc: asked.append((key, desc)))
    model.sort(4)  # Sources: not sortable
    model.sort(6, Qt.SortOrder.DescendingOrder)
    assert asked == [("updated", True)]
    db.execute_sql("DELETE FROM contacts WHERE id = 2")
    model.refresh(model._ids)  # same ids: the values are read again
    assert model.data(model.index(1, 0)) == "(removed)" and model.data(model.index(1, 1)) is None


def test_history_columns(db: Database) -> None:
    runs = RunRepo(db)
    run = runs.start("manual", False, time.time())
    runs.add_issues(run, [("City", None, "too long")])
    runs.finish(run, "failed", {"created": 1234}, time.time(), error="Klaviyo kept failing")
    history = RunsTableModel()
    history.set_rows(runs.recent())
    headers = [history.headerData(c, Qt.Orientation.Horizontal) for c in range(20)]
    assert headers[:6] == ["#", "Started", "Trigger", "Kind", "Status", "Duration"]
    assert headers[6] == "Created" and headers[len(RUN_COUNTS) + 6] == "Issues"
    assert history.data(history.index(0, 0)) == run
    assert history.data(history.index(0, 3)) == "incremental"
    assert history.data(history.index(0, 6)) == "1,234"
    assert history.data(history.index(0, len(RUN_COUNTS) + 6)) == "1"
    assert history.data(history.index(0, 2), Qt.ItemDataRole.ToolTipRole) == "Klaviyo kept failing"
    assert history.data(history.index(0, 4), Qt.ItemDataRole.ForegroundRole) is not None
    assert history.data(history.index(0, 2), Qt.ItemDataRole.ForegroundRole) is None
    issues = IssuesTableModel()
    issues.set_rows(runs.issue_details(run))
    cells = [issues.data(issues.index(0, c)) for c in range(issues.columnCount())]
    assert cells == ["(not a contact)", "", "", "City", "", "too long"]
    assert issues.data(issues.index(0, 5), Qt.ItemDataRole.ToolTipRole) == "too long"
    db.execute_sql(
        "INSERT INTO contact_lists (id, source, external_id, name, member_count)"
        " VALUES (1, 'KLAVIYO', 'L1', 'Klaviyo: VIP', 1200)"
    )
    lists = ListsTableModel()
    lists.set_rows(ContactTable(db).list_rows())
    assert [lists.data(lists.index(0, c)) for c in range(5)] == [
        "Klaviyo: VIP",
        "Klaviyo",
        "0",
        "1,200",
        "never",
    ]
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    assert lists.data(lists.index(0, 3), Qt.ItemDataRole.TextAlignmentRole) == right
    assert lists.data(lists.index(0, 0), Qt.ItemDataRole.TextAlignmentRole) is None
