"""The whole app against the socket emulator: install, first sync in the background, screens,
opt-out back to Klaviyo, details, CSV export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from engage_desktop.app import EngageApp
from engage_desktop.core.consent import ConsentMode, SmsStatus
from engage_desktop.core.setup import Step
from engage_desktop.emulator import DEMO_API_KEY
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.storage.connection import ConnectionRepo
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.integrations.details_dialog import KlaviyoDetailsDialog
from engage_desktop.ui.main_window import Screen


@pytest.fixture
def engage(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> Iterator[EngageApp]:
    app = EngageApp(ctx, tmp_path)
    qtbot.addWidget(app.window)
    app.start()
    yield app
    app.stop()


def install(qtbot: QtBot, engage: EngageApp, url: str) -> None:
    assert engage.window.current_screen() is Screen.INTEGRATIONS
    engage.integrations.klaviyo.button.click()
    wizard = engage.klaviyo.wizard
    assert wizard is not None
    page = wizard.page(Step.API_KEY)
    page.key.setText(DEMO_API_KEY)
    page.base_url.setText(url)
    page._edited()
    page.verify.click()
    qtbot.waitUntil(page.isComplete, timeout=10000)
    wizard.next()
    wizard.page(Step.CONSENT).buttons[ConsentMode.INFERRED].click()
    wizard.next()
    contacts = wizard.page(Step.CONTACTS)
    qtbot.waitUntil(lambda: contacts.picker.loaded, timeout=10000)
    contacts.picker.every.setChecked(True)
    wizard.next()
    wizard.next()
    with qtbot.waitSignal(engage.bridge.run_finished, timeout=60000) as done:
        wizard.next()  # Connect: saves, then the first sync starts
    assert done.args[0].status == "succeeded", done.args[0].error
    notice = engage.klaviyo.notice
    assert notice is not None and "notified" in notice.text()
    qtbot.waitUntil(lambda: engage.contacts.model.rowCount() > 1000, timeout=5000)


def open_details(qtbot: QtBot, engage: EngageApp) -> KlaviyoDetailsDialog:
    engage.integrations.klaviyo.button.click()  # the key is looked up off the GUI thread
    qtbot.waitUntil(lambda: engage.klaviyo.details is not None, timeout=5000)
    assert engage.klaviyo.details is not None
    return engage.klaviyo.details


def test_install_then_first_sync_fills_every_screen(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread, tmp_path: Path
) -> None:
    install(qtbot, engage, live.url)
    contacts = engage.contacts
    qtbot.waitUntil(lambda: contacts.model.rowCount() > 1000, timeout=5000)
    assert "Connected" in engage.integrations.klaviyo.state.text()
    assert engage.integrations.klaviyo.button.text() == "See &details"
    qtbot.waitUntil(lambda: len(engage.lists.model.rows) == 4, timeout=5000)
    assert engage.history.runs.rows[0].status == "succeeded"
    # New Message recounts after the sync (its lists first, then the audience)
    qtbot.waitUntil(
        lambda: (
            getattr(engage.message, "recipients", None) is not None
            and engage.message.recipients.total == contacts.model.rowCount()
        ),
        timeout=5000,
    )
    r = engage.message.recipients
    assert 0 < r.eligible < r.total

    # the Contact Lists screen opens a list's contacts
    engage.lists.view.activated.emit(engage.lists.model.index(0, 0))
    assert engage.window.current_screen() is Screen.CONTACTS
    qtbot.waitUntil(lambda: 0 < contacts.model.rowCount() < 1500, timeout=5000)

    # history: the run's issues go to a CSV file
    engage.history.show_run(engage.history.runs.rows[0].id)
    target = tmp_path / "issues.csv"
    task = engage.ctx.spawn(engage.history.export_csv(engage.history.runs.rows[0].id, target))
    qtbot.waitUntil(task.done, timeout=5000)
    rows = list(csv.reader(target.open(encoding="utf-8-sig")))
    assert rows[0][0] == "run" and len(rows) - 1 == task.result()
    qtbot.waitUntil(lambda: len(engage.history.issues.rows) == task.result() > 0, timeout=5000)


def test_opt_out_is_confirmed_and_reaches_klaviyo(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread
) -> None:
    install(qtbot, engage, live.url)
    screen = engage.contacts
    screen.search.setText("+1")  # contacts with a phone
    qtbot.waitUntil(
        lambda: screen.query.text == "+1" and screen.loading is not None and screen.loading.done(),
        timeout=5000,
    )
    model = screen.model
    row = next(r for r in range(model.rowCount()) if model.row_at(r).status is SmsStatus.SUBSCRIBED)
    contact_id = model.contact_id(row)
    screen.view.setCurrentIndex(model.index(row, 0))
    assert screen.detail.opt_out.isEnabled()
    screen.detail.opt_out.click()
    box = screen.confirmation
    cancel = box.button(QMessageBox.StandardButton.Cancel)
    cancel.click()
    assert OutboxRepo(engage.ctx.db).pending_count() == 0
    screen.detail.opt_out.click()
    opt_out = next(b for b in screen.confirmation.buttons() if b.text() == "Opt out")
    opt_out.click()
    outbox = OutboxRepo(engage.ctx.db)
    qtbot.waitUntil(
        lambda: model.row_at(model.row_of(contact_id)).status is SmsStatus.OPTED_OUT,
        timeout=5000,
    )
    qtbot.waitUntil(lambda: outbox.pending_count() == 0, timeout=10000)
    phone = model.row_at(model.row_of(contact_id)).phone
    profile_id = engage.contacts.table_data.detail(contact_id).source_ids[0][1]

    def unsubscribed() -> bool:
        doc = httpx.get(
            f"{live.url}/api/profiles/{profile_id}",
            params={"additional-fields[profile]": "subscriptions"},
            headers={"Authorization": f"Klaviyo-API-Key {DEMO_API_KEY}", "revision": "2026-07-15"},
        ).json()
        sms = doc["data"]["attributes"]["subscriptions"]["sms"]["marketing"]
        return bool(sms["consent"] == "UNSUBSCRIBED")

    qtbot.waitUntil(unsubscribed, timeout=10000)
    assert phone


def test_details_change_lists_marks_full_and_offers_sync(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread
) -> None:
    install(qtbot, engage, live.url)
    details = open_details(qtbot, engage)
    qtbot.waitUntil(lambda: details.picker.loaded, timeout=10000)
    assert details.picker.every_list()
    details.picker.every.setChecked(False)
    details.picker.select_none.click()
    assert not details.update_button.isEnabled()
    first = details.picker.model.ids()[0]
    details.picker.set_selection((first,))
    assert details.update_button.isEnabled()
    with qtbot.waitSignal(details.changed, timeout=5000):
        details.update_button.click()
    conn = ConnectionRepo(engage.ctx.db).get()
    assert conn is not None and conn.lists == (first,) and conn.needs_full
    with qtbot.waitSignal(engage.bridge.run_finished, timeout=60000) as done:
        now = next(b for b in details.question.buttons() if "now" in b.text())
        now.click()
    assert done.args[0].full and done.args[0].status == "succeeded"


def test_disconnect_keeps_contacts_and_forgets_the_key(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread
) -> None:
    install(qtbot, engage, live.url)
    count = engage.contacts.model.rowCount()
    details = open_details(qtbot, engage)
    details.tabs.setCurrentIndex(1)
    details.connection.disconnect_button.click()
    yes = next(b for b in details.question.buttons() if "Disconnect" in b.text())
    with qtbot.waitSignal(details.disconnected, timeout=5000):
        yes.click()
    assert ConnectionRepo(engage.ctx.db).get() is None
    assert engage.ctx.keys.load("any") is None
    qtbot.waitUntil(lambda: engage.integrations.klaviyo.button.text() == "&Install", timeout=5000)
    qtbot.waitUntil(lambda: engage.contacts.model.rowCount() == count, timeout=5000)
