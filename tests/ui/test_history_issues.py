"""Sync issues people can act on: each names its contact (Enter or a double click opens it),
identical problems are grouped and filter the list, a type problem leads to its mapping row,
the CSV has the same columns, and a running sync has its row."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from engage_desktop.actions.connection import ConnectPlan
from engage_desktop.actions.imports import ImportActions
from engage_desktop.app import EngageApp
from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.fields import FieldType
from engage_desktop.core.mapping import MappingSpec
from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.setup import VerifiedKey
from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator
from engage_desktop.storage.database import Database
from engage_desktop.storage.import_history import EXPORT_HEADER
from engage_desktop.storage.runs import CSV_HEADER, RunRepo
from engage_desktop.sync.events import SyncProgress, SyncResult
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.history.history_screen import HistoryScreen
from engage_desktop.ui.main_window import Screen
from engage_desktop.ui.widgets.mapping_model import PATH

DATE_PROBLEM = "'{}' is not an ISO 8601 date"
PHONE_PROBLEM = "not a valid phone number; kept without an SMS number"
CITY_PROBLEM = "removed 1 invisible control character (such as NUL); kept"


def seed(db: Database) -> int:
    """Three contacts, and a run with six issues: three bad dates (two different values),
    two cleaned cities, one phone that made no contact."""
    db.execute_sql(
        "INSERT INTO contacts (id, phone, email, first_name, last_name, sms_status, created_at,"
        " updated_at) VALUES (1, '+14155550101', 'ann@x.io', 'Ann', 'Lee', 'subscribed', 0, 0),"
        " (2, '+14155550102', 'bo@x.io', 'Bo', NULL, 'subscribed', 0, 0),"
        " (3, '+14155550103', NULL, NULL, NULL, 'subscribed', 0, 0)"
    )
    db.execute_sql(
        "INSERT INTO contact_sources (contact_id, source, external_id) VALUES"
        " (1, 'KLAVIYO', 'P1'), (2, 'KLAVIYO', 'P2'), (3, 'KLAVIYO', 'P3')"
    )
    runs = RunRepo(db)
    run = runs.start("manual", False, time.time() - 5)
    rows = [
        ("P1", 1, "Birthday", "12", DATE_PROBLEM.format("12")),
        ("P4", None, "Phone", "12", PHONE_PROBLEM),
        ("P2", 2, "Birthday", "soon", DATE_PROBLEM.format("soon")),
        ("P1", 1, "City", "Pa\x00ris", CITY_PROBLEM),
        ("P3", 3, "Birthday", "12", DATE_PROBLEM.format("12")),
        ("P2", 2, "City", "Ro\x00me", CITY_PROBLEM),
    ]
    db.cursor().executemany(
        "INSERT INTO sync_issues (run_id, source, profile_id, contact_id, field, value, reason)"
        " VALUES (?, 'KLAVIYO', ?, ?, ?, ?, ?)",
        [(run, *row) for row in rows],
    )
    runs.finish(run, "succeeded", {"created": 3}, time.time())
    return run


@pytest.fixture
def history(qtbot: QtBot, ctx: AppContext) -> HistoryScreen:
    screen = HistoryScreen(ctx)
    qtbot.addWidget(screen)
    screen.show()
    return screen


@pytest.fixture
def engage(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> Iterator[EngageApp]:
    seed(ctx.db)
    app = EngageApp(ctx, tmp_path)
    qtbot.addWidget(app.window)
    app.start()
    yield app
    app.stop()


def show(qtbot: QtBot, screen: HistoryScreen, run: int) -> None:
    screen.reload()
    screen.show_run(run)
    qtbot.waitUntil(lambda: screen.loading is not None and screen.loading.done(), timeout=5000)


def cells(screen: HistoryScreen, row: int) -> list[str]:
    model = screen.issues
    return [model.data(model.index(row, c)) for c in range(model.columnCount())]


def test_issue_rows_name_the_contact(
    qtbot: QtBot, history: HistoryScreen, ctx: AppContext, qtmodeltester: ModelTester
) -> None:
    run = seed(ctx.db)
    show(qtbot, history, run)
    model = history.issues
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Name", "Phone", "Email", "Field", "Value", "Reason"]
    assert cells(history, 0) == [
        "Ann Lee",
        "+1 415-555-0101",
        "ann@x.io",
        "Birthday",
        "12",
        "'12' is not an ISO 8601 date",
    ]
    assert cells(history, 1)[:4] == ["(not a contact)", "", "", "Phone"]
    assert cells(history, 4)[:3] == ["(no name)", "+1 415-555-0103", ""]
    tip = model.data(model.index(1, 0), Qt.ItemDataRole.ToolTipRole)
    assert "Klaviyo profile P4" in tip and "KLAVIYO" not in tip
    assert "Run #1: succeeded, 6 issues." in history.detail.text()
    qtmodeltester.check(model)
    qtmodeltester.check(history.groups)


def test_identical_problems_are_grouped_and_filter_the_issues(
    qtbot: QtBot, history: HistoryScreen, ctx: AppContext
) -> None:
    run = seed(ctx.db)
    show(qtbot, history, run)
    groups = history.groups
    texts = [groups.data(groups.index(r, 0)) for r in range(groups.rowCount())]
    # By field and reason, not by value: "12" and "soon" are one group; the most frequent first.
    assert texts == [
        "3 × Birthday: not an ISO 8601 date (e.g. '12')",
        "2 × City: " + CITY_PROBLEM,
        "1 × Phone: " + PHONE_PROBLEM,
    ]
    assert not history.show_all.isEnabled() and history.fix_mapping.isHidden()

    history.groups_view.setCurrentIndex(groups.index(0, 0))
    qtbot.waitUntil(lambda: history.issues.rowCount() == 3, timeout=5000)
    assert {cells(history, r)[3] for r in range(3)} == {"Birthday"}
    assert [cells(history, r)[0] for r in range(3)] == ["Ann Lee", "Bo", "(no name)"]
    assert history.show_all.isEnabled()
    assert history.fix_mapping.isVisible() and "Birthday" in history.fix_mapping.text()

    history.groups_view.setCurrentIndex(groups.index(1, 0))
    qtbot.waitUntil(lambda: history.issues.rowCount() == 2, timeout=5000)
    assert history.fix_mapping.isHidden()  # a cleaned value is not the mapping's doing

    history.show_all.click()
    qtbot.waitUntil(lambda: history.issues.rowCount() == 6, timeout=5000)
    assert not history.show_all.isEnabled()


def test_the_csv_names_the_contact_and_keeps_the_profile_id_last(
    qtbot: QtBot, history: HistoryScreen, ctx: AppContext, tmp_path: Path
) -> None:
    run = seed(ctx.db)
    show(qtbot, history, run)
    target = tmp_path / "issues.csv"
    task = ctx.spawn(history.export_csv(run, target))
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.result() == 6 and "Exported 6 issues" in history.status.text()
    rows = list(csv.reader(target.open(encoding="utf-8-sig")))
    assert rows[0] == list(CSV_HEADER)
    assert rows[0][1:7] == ["name", "phone", "email", "field", "value", "reason"]
    assert rows[0][-1] == "profile_id"
    assert rows[1] == [
        str(run),
        "Ann Lee",
        "+14155550101",
        "ann@x.io",
        "Birthday",
        "12",
        "'12' is not an ISO 8601 date",
        "Klaviyo",
        "P1",
    ]
    assert rows[2][1:4] == ["", "", ""] and rows[2][-1] == "P4"


def test_enter_and_double_click_open_the_contact_even_when_a_search_hides_it(
    qtbot: QtBot, engage: EngageApp
) -> None:
    contacts, history = engage.contacts, engage.history
    contacts.search.setText("Bo")  # Ann is filtered out of All Contacts
    qtbot.waitUntil(lambda: contacts.model.rowCount() == 1, timeout=5000)
    engage.window.show_screen(Screen.HISTORY)
    show(qtbot, history, history.runs.rows[0].id)
    view = history.issues_view

    view.setCurrentIndex(history.issues.index(0, 0))  # Ann's bad birthday
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert engage.window.current_screen() is Screen.CONTACTS
    qtbot.waitUntil(lambda: contacts.current_contact() == 1, timeout=5000)
    assert contacts.search.text() == "" and contacts.model.rowCount() == 3

    engage.window.show_screen(Screen.HISTORY)
    rect = view.visualRect(history.issues.index(2, 1))  # Bo's
    # A double click as a mouse makes it: a press and release, then the second press.
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert engage.window.current_screen() is Screen.CONTACTS
    qtbot.waitUntil(lambda: contacts.current_contact() == 2, timeout=5000)

    engage.window.show_screen(Screen.HISTORY)
    view.setCurrentIndex(history.issues.index(1, 0))  # a phone that made no contact
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert engage.window.current_screen() is Screen.HISTORY
    assert "Klaviyo profile P4 is not a contact" in history.status.text()


def test_a_type_problem_leads_to_its_row_in_the_mapping(
    qtbot: QtBot, engage: EngageApp, emulator: KlaviyoEmulator
) -> None:
    verified = VerifiedKey(
        ApiKey(DEMO_API_KEY), "http://127.0.0.1", emulator.store.data.account_id, "Shop"
    )
    mapping = (MappingSpec("Birthday", "properties.birthday", FieldType.DATE),)
    engage.ctx.actions.connection.connect(
        ConnectPlan(verified, ConsentMode.EXPLICIT, "all", "US", mapping)
    )
    history = engage.history
    engage.window.show_screen(Screen.HISTORY)
    show(qtbot, history, history.runs.rows[0].id)
    history.groups_view.setCurrentIndex(history.groups.index(0, 0))
    qtbot.waitUntil(history.fix_mapping.isVisible, timeout=5000)
    history.fix_mapping.click()
    qtbot.waitUntil(lambda: engage.klaviyo.details is not None, timeout=5000)
    details = engage.klaviyo.details
    assert details is not None
    assert engage.window.current_screen() is Screen.INTEGRATIONS
    assert details.tabs.currentIndex() == 0
    current = details.editor.table.currentIndex()
    assert current.column() == PATH
    assert details.editor.model.mappings()[current.row() - 4].name == "Birthday"  # 4 built in
    details.reject()


def test_a_running_sync_has_its_row_until_it_ends(
    qtbot: QtBot, engage: EngageApp, ctx: AppContext
) -> None:
    history = engage.history
    runs = RunRepo(ctx.db)
    run = runs.start("manual", False, time.time())
    engage.bridge.progress_changed.emit(
        SyncProgress(run, "fetching", 0, 2, 10, None, 0, None, 1, 0, 0)
    )
    assert history.runs.rows[0].id == run
    headers = [
        history.runs.headerData(c, Qt.Orientation.Horizontal)
        for c in range(history.runs.columnCount())
    ]
    row = {h: history.runs.data(history.runs.index(0, c)) for c, h in enumerate(headers)}
    assert row["Status"] == "running"
    assert row["Duration"] == row["Created"] == row["Issues"] == "—"
    history.show_run(run)
    qtbot.waitUntil(lambda: "is running" in history.detail.text(), timeout=5000)

    runs.finish(run, "succeeded", {"created": 7}, time.time())
    engage.bridge.run_finished.emit(SyncResult(run, "succeeded", "manual", False, {"created": 7}))
    row = {h: history.runs.data(history.runs.index(0, c)) for c, h in enumerate(headers)}
    assert row["Status"] == "succeeded" and row["Created"] == "7" and row["Duration"] != "—"
    assert history.current_run() == run
    qtbot.waitUntil(lambda: "Run #2: succeeded, 0 issues." in history.detail.text(), timeout=5000)


def test_no_run_chosen_shows_no_group(history: HistoryScreen) -> None:
    assert history.groups.rowCount() == 0 and history.current_group() is None
    history.show_every_issue()  # nothing to show: nothing breaks
    assert history.groups_view.currentIndex() == QModelIndex()


def test_an_import_is_a_row_of_the_history_with_its_problems_and_merge_report(
    qtbot: QtBot, history: HistoryScreen, ctx: AppContext, tmp_path: Path
) -> None:
    """A CSV import shows among the runs (newest first), numbered apart; choosing it shows its
    problem rows by line, grouped, exportable, and what it merged with Klaviyo's contacts."""
    run = seed(ctx.db)
    rows = [
        "Phone,Email,Points",
        "+14155550101,ann@csv.test,3",  # Ann, a Klaviyo contact: merged
        "+14155550199,new@csv.test,2",  # new
        "not a phone,bad@csv.test,1",  # not imported
        "+14155550199,twin@csv.test,2",  # the same number again
    ]
    path = tmp_path / "fair.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    actions = ImportActions(ctx.db)
    done = actions.run(actions.prepare(path, "Fair"))
    assert (done.report.counts.new, done.report.counts.merged) == (1, 1)
    history.reload()
    runs = history.runs
    first = [runs.data(runs.index(0, c)) for c in range(runs.columnCount())]
    assert first[0] == "i1" and first[2:4] == ["import", "CSV file"]
    assert all(r.imported is None for r in history.chart._runs) and len(history.chart._runs) == 1
    assert runs.row_of(run) == 1 and runs.rows[1].imported is None  # the sync, still there
    history.runs_view.setCurrentIndex(runs.index(0, 0))
    qtbot.waitUntil(lambda: history.loading is not None and history.loading.done(), timeout=5000)
    qtbot.waitUntil(lambda: "Import #1" in history.merge.summary.text(), timeout=5000)
    assert "Import #1 of fair.csv into “CSV: Fair”: succeeded, 2 problems." in (
        history.detail.text()
    )
    assert "1 contact merged across sources" in history.merge.summary.text()
    names = [cells(history, r)[0] for r in range(history.issues.rowCount())]
    assert names == ["Row 4", "Row 5"]
    assert cells(history, 0)[3:5] == ["Phone", "not a phone"]
    tip = history.issues.data(history.issues.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert tip == "Row 4 of the imported file."
    history.issues_view.activated.emit(history.issues.index(0, 0))  # Enter: nothing to open
    assert history.status.text() == (
        "Row 4 of the imported file is not a contact in Engage: there is nothing to open."
    )
    assert history.groups.rowCount() == 2
    history.groups_view.setCurrentIndex(history.groups.index(0, 0))
    qtbot.waitUntil(lambda: history.issues.rowCount() == 1, timeout=5000)
    target = tmp_path / "problems.csv"
    task = ctx.spawn(history.export_csv(history.runs.rows[0], target))
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.result() == 2
    exported = list(csv.reader(target.open(encoding="utf-8-sig")))
    assert exported[0] == list(EXPORT_HEADER) and [r[1] for r in exported[1:]] == ["4", "5"]
    report = tmp_path / "merged.csv"
    task = ctx.spawn(history.merge.export_csv(1, report, is_import=True))
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.result() >= 1 and "merged" in report.read_text(encoding="utf-8-sig")
    # Choosing the sync again shows its issues, not the import's.
    history.show_run(run)
    qtbot.waitUntil(lambda: "Run #1" in history.merge.summary.text(), timeout=5000)
    assert history.issues.rowCount() == 6
