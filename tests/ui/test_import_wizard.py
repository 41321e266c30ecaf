"""File → Import contacts…: the dry run shows counts and problem rows and writes nothing;
Import commits and the group appears; an import is refused while a sync runs."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pytestqt.qtbot import QtBot

from engage_desktop.app import EngageApp
from engage_desktop.imports.columns import Role
from engage_desktop.storage.contact_table import ContactQuery
from engage_desktop.storage.lease import LeaseRepo
from engage_desktop.sync.lock import SyncLock
from engage_desktop.ui.imports.import_wizard import ImportStep, ImportWizard
from tests.ui.test_app import engage

__all__ = ["engage"]

CSV = (
    "\ufeffMobile;Prénom;Nom;E-mail;Opted out;Shoe size\n"
    "+1 415 555 0101;Ann;Lee;ann@example.com;no;38\n"
    "(415) 555-0102;Bob;Ray;bob@example.com;yes;44\n"
    "not a number;Cy;Moe;cy@example.com;no;40\n"
    "+14155550101;Ann;Again;ann2@example.com;no;38\n"
    ";Dee;Nil;dee@example.com;no;36\n"
    "+14155550103;Eve;Ng;eve@example.com;maybe;37\n"
)


def open_wizard(qtbot: QtBot, engage: EngageApp, path: Path) -> ImportWizard:
    engage.window.import_requested.emit()
    wizard = engage.imports.wizard
    assert wizard is not None
    page = wizard.page(ImportStep.FILE)
    page.choose(path)
    qtbot.waitUntil(page.isComplete, timeout=5000)
    assert "UTF-8 (with byte-order mark)" in page.format.text()
    assert "semicolon" in page.format.text()
    assert page.rows.rowCount() == 6
    wizard.next()
    columns = wizard.page(ImportStep.COLUMNS)
    assert (
        columns.role(0) is Role.PHONE and "read as phone numbers" in columns.table.item(0, 1).text()
    )
    assert columns.role(4) is Role.OPTED_OUT
    assert columns.role(5) is Role.FIELD
    columns.types[5].setCurrentIndex(columns.types[5].findData("number"))
    columns.group.setText("Trade show 2026")
    wizard.next()  # the plan is checked off the GUI thread, then the dry run starts
    check = wizard.page(ImportStep.CHECK)
    qtbot.waitUntil(lambda: wizard.currentId() == ImportStep.CHECK, timeout=5000)
    qtbot.waitUntil(check.isComplete, timeout=10000)
    return wizard


def test_dry_run_writes_nothing_then_import_commits_and_the_group_appears(
    qtbot: QtBot, engage: EngageApp, tmp_path: Path
) -> None:
    path = tmp_path / "trade show.csv"
    path.write_text(CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, engage, path)
    check = wizard.page(ImportStep.CHECK)
    shown = {key: label.text() for key, label in check.counts.items()}
    assert shown["new"] == "2" and shown["opted_out"] == "1"
    assert shown["duplicates"] == "1" and int(shown["invalid"]) >= 2
    lines = {p.line for p in check.problems.rows}
    assert {4, 5, 6, 7} <= lines  # bad number, repeated number, no number, "maybe"
    assert all(p.reason for p in check.problems.rows)
    table = engage.contacts.table_data
    assert len(table.ids(ContactQuery())) == 0 and table.lists() == []  # nothing written
    with qtbot.waitSignal(wizard.imported, timeout=10000) as done:
        wizard.next()  # Import
    assert done.args[0].report.counts.new == 2
    qtbot.waitUntil(
        lambda: [r.name for r in engage.lists.model.rows] == ["CSV: Trade show 2026"], timeout=5000
    )
    assert "Trade show 2026" in engage.window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: engage.contacts.model.rowCount() == 2, timeout=5000)
    group = engage.lists.model.rows[0]
    assert group.members == 2


def test_an_import_is_refused_while_a_sync_runs(
    qtbot: QtBot, engage: EngageApp, tmp_path: Path
) -> None:
    path = tmp_path / "fair.csv"
    path.write_text(CSV, encoding="utf-8")
    wizard = open_wizard(qtbot, engage, path)
    check = wizard.page(ImportStep.CHECK)
    lock = SyncLock(LeaseRepo(engage.ctx.db), "a sync in another window", time.time)
    lock.pid = os.getppid()
    lock.acquire()
    try:
        wizard.next()  # Import
        qtbot.waitUntil(lambda: "already running" in check.status.text(), timeout=10000)
        assert "Import again when it has finished" in check.status.text()
        assert wizard.isVisible() and check.isComplete()  # the person may try again
        assert len(engage.contacts.table_data.ids(ContactQuery())) == 0
    finally:
        lock.release()
    with qtbot.waitSignal(wizard.imported, timeout=10000):
        wizard.next()


def test_cancel_stops_the_import_process_and_leaves_nothing(
    qtbot: QtBot, engage: EngageApp, tmp_path: Path
) -> None:
    path = tmp_path / "big.csv"
    lines = ["Phone,First name"] + [f"+1415{2000000 + i:07d},P{i}" for i in range(200_000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    engage.window.import_requested.emit()
    wizard = engage.imports.wizard
    assert wizard is not None
    wizard.page(ImportStep.FILE).choose(path)
    qtbot.waitUntil(wizard.page(ImportStep.FILE).isComplete, timeout=5000)
    wizard.next()
    wizard.next()
    check = wizard.page(ImportStep.CHECK)
    qtbot.waitUntil(lambda: wizard.currentId() == ImportStep.CHECK, timeout=5000)
    qtbot.waitUntil(check.isComplete, timeout=60000)
    assert check.counts["new"].text() == "200,000"
    wizard.next()  # Import
    qtbot.waitUntil(lambda: check.cancel.isVisible() and check.progress.value() > 0, timeout=30000)
    check.cancel.click()
    qtbot.waitUntil(lambda: "cancelled" in check.status.text(), timeout=30000)
    assert "nothing was imported" in check.status.text()
    assert len(engage.contacts.table_data.ids(ContactQuery())) == 0
    assert engage.ctx.actions.imports.history()[0].status == "cancelled"
