"""Installing Mailjet through its wizard, as a person would, for the UI tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from engage_desktop.app import EngageApp
from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.mapping import MappingSpec
from engage_desktop.emulator import KlaviyoEmulator
from engage_desktop.emulator import mailjet as mj
from engage_desktop.emulator.demo_overlap import share_people
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.sync.events import SyncResult
from engage_desktop.ui.mailjet_wizard.draft import MailjetStep

SHARED = 40


@pytest.fixture
def mailjet_live(live: EmulatorThread) -> Iterator[EmulatorThread]:
    """A Mailjet emulator on a socket (the sync is a child process) sharing SHARED people
    with the Klaviyo emulator."""
    emulator = mj.MailjetEmulator(mj.Settings(contacts=300, lists=3, phone_property="mobile"))
    assert isinstance(live.emulator, KlaviyoEmulator)
    assert share_people(live.emulator, emulator, SHARED) == SHARED
    with EmulatorThread(emulator) as thread:
        yield thread


def install_mailjet(qtbot: QtBot, engage: EngageApp, url: str) -> SyncResult:
    """Every page of the wizard; returns the sync that Connect starts."""
    engage.ctx.demo_mailjet = (url, mj.DEMO_API_KEY, mj.DEMO_API_SECRET)
    engage.integrations.mailjet.button.click()
    wizard = engage.mailjet.wizard
    assert wizard is not None
    keys = wizard.page(MailjetStep.KEYS)
    keys.use_demo.click()
    qtbot.waitUntil(keys.isComplete, timeout=10000)
    assert f"{300 + SHARED} contacts" in keys.result.text()
    wizard.next()
    phone = wizard.page(MailjetStep.PHONE)
    qtbot.waitUntil(phone.isComplete, timeout=10000)
    assert wizard.draft.phone_property == "mobile"  # the likeliest is chosen for you
    first = [phone.table.item(0, c).text() for c in range(4)]
    assert first[0] == "mobile" and " of " in first[2] and "%" in first[2]
    assert phone.table.item(phone.table.rowCount() - 1, 2).text().startswith(("0 of", "no "))
    wizard.next()
    consent = wizard.page(MailjetStep.CONSENT)
    consent.buttons[ConsentMode.EXPLICIT].click()
    assert consent.consent_property.currentData() == "sms_opt_in"  # true/false values
    assert "true" in consent.consent_property.currentText()
    assert wizard.draft.consent_property == "sms_opt_in"
    wizard.next()
    lists = wizard.page(MailjetStep.LISTS)
    qtbot.waitUntil(lambda: lists.lists.count() == 3, timeout=10000)
    assert "subscriber" in lists.lists.item(0).text()
    assert not lists.isComplete()  # nothing chosen yet
    lists.every.setChecked(True)
    assert lists.isComplete()
    wizard.next()
    fields = wizard.page(MailjetStep.FIELDS)
    fields.editor.model.set_mappings([MappingSpec("City", "city")])
    assert wizard.draft.mappings == (MappingSpec("City", "city"),)
    wizard.next()
    finish = wizard.page(MailjetStep.FINISH)
    assert "mobile" in finish.summary.text() and "City ← city" in finish.summary.text()
    with qtbot.waitSignal(engage.bridge.run_finished, timeout=60000) as done:
        wizard.next()  # Connect
    result: SyncResult = done.args[0]
    return result
