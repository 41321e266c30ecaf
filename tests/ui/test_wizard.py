"""The install wizard end to end against the in-process emulator."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWizard
from pytestqt.qtbot import QtBot

from engage_desktop.actions import KeyPlace
from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.fields import FieldType
from engage_desktop.core.setup import Step
from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator
from engage_desktop.emulator.lists import account_name
from engage_desktop.storage.connection import ConnectionRepo
from engage_desktop.storage.fields import FieldRepo
from engage_desktop.storage.memory_keyring import MemoryKeyring
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.widgets.mapping_model import NAME, PATH, TYPE
from engage_desktop.ui.wizard.setup_wizard import SetupWizard

URL = "http://127.0.0.1"


@pytest.fixture
def wizard(qtbot: QtBot, ctx: AppContext) -> SetupWizard:
    w = SetupWizard(ctx, URL)
    qtbot.addWidget(w)
    w.show()
    return w


def verify(qtbot: QtBot, wizard: SetupWizard, key: str, url: str = URL) -> str:
    page = wizard.page(Step.API_KEY)
    page.key.setText(key)
    page.base_url.setText(url)
    page._edited()
    page.verify.click()
    qtbot.waitUntil(lambda: page.verify.isEnabled() and bool(page.result.text()), timeout=15000)
    return page.result.text()


def to_contacts(qtbot: QtBot, wizard: SetupWizard) -> None:
    verify(qtbot, wizard, DEMO_API_KEY)
    assert wizard.currentPage().isComplete()
    wizard.next()
    assert wizard.currentId() == Step.CONSENT
    wizard.page(Step.CONSENT).buttons[ConsentMode.EXPLICIT].click()
    wizard.next()
    page = wizard.page(Step.CONTACTS)
    qtbot.waitUntil(lambda: page.picker.loaded, timeout=10000)


def test_valid_key_to_connect(
    qtbot: QtBot,
    wizard: SetupWizard,
    ctx: AppContext,
    memory_keyring: MemoryKeyring,
    emulator: KlaviyoEmulator,
) -> None:
    assert not wizard.currentPage().isComplete()
    text = verify(qtbot, wizard, DEMO_API_KEY)
    assert text.startswith("✔ Verified: Klaviyo account")
    assert account_name(emulator.store.data.seed) in text
    wizard.next()
    consent = wizard.page(Step.CONSENT)
    consent.buttons[ConsentMode.EXPLICIT].click()
    consent.region.setCurrentIndex(consent.region.findData("GB"))
    assert consent.table.item(3, 1).text().startswith("Never subscribed")
    wizard.next()
    contacts = wizard.page(Step.CONTACTS)
    qtbot.waitUntil(lambda: contacts.picker.loaded, timeout=10000)
    model = contacts.picker.model
    assert model.rowCount() == 4
    qtbot.waitUntil(lambda: len(model.counts()) == 4, timeout=15000)
    first = model.ids()[0]
    model.setData(model.index(0), Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    assert contacts.picker.chosen() == (first,)
    assert "Estimated first sync" in contacts.picker.estimate.text()
    assert contacts.isComplete()
    wizard.next()
    mapping = wizard.page(Step.MAP_FIELDS)
    qtbot.waitUntil(lambda: mapping.editor.path_choices.rowCount() > 19, timeout=10000)
    editor = mapping.editor
    row = editor.model.add_row()
    editor.model.setData(editor.model.index(row, NAME), "Loyalty points")
    editor.model.setData(editor.model.index(row, TYPE), "Number")
    editor.model.setData(editor.model.index(row, PATH), "properties.loyalty_points")
    assert mapping.isComplete()
    wizard.next()
    assert wizard.currentId() == Step.FINISH
    summary = wizard.page(Step.FINISH).summary.text()
    assert "Explicit" in summary and "Loyalty points (number)" in summary
    with qtbot.waitSignal(wizard.connected, timeout=10000) as got:
        wizard.next()  # Connect
    (done,) = got.args
    conn = done.connection
    assert done.key_place is KeyPlace.KEYRING
    saved = ConnectionRepo(ctx.db).get()
    assert saved is not None and saved.lists == (first,)
    assert saved.consent_mode is ConsentMode.EXPLICIT and saved.needs_full
    assert saved.default_region == "GB"
    assert [(m.name, m.type, m.path) for m in FieldRepo(ctx.db).mappings()] == [
        ("Loyalty points", FieldType.NUMBER, "properties.loyalty_points")
    ]
    assert memory_keyring.store == {("engage-desktop", conn.account_id): DEMO_API_KEY}


def test_bad_key_is_explained_and_blocks_next(qtbot: QtBot, wizard: SetupWizard) -> None:
    text = verify(qtbot, wizard, "pk_" + "x" * 30)
    assert "did not accept this API key" in text
    assert not wizard.currentPage().isComplete()
    page = wizard.page(Step.API_KEY)
    page.key.setText("abc123")
    page.verify.click()
    assert "start with pk_" in page.result.text()


def test_missing_scope_is_named_with_its_purpose(
    qtbot: QtBot, wizard: SetupWizard, emulator: KlaviyoEmulator
) -> None:
    async def add_key() -> str:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator)) as c:
            r = await c.post(
                f"{URL}/_emulator/keys",
                json={"scopes": ["accounts:read", "profiles:read"]},
            )
            return str(r.json()["key"])

    task = asyncio.ensure_future(add_key())
    qtbot.waitUntil(task.done, timeout=5000)
    key = task.result()
    text = verify(qtbot, wizard, key)
    assert "lists:read" in text and "show your Klaviyo lists" in text
    assert not wizard.currentPage().isComplete()


def test_unreachable_host(qtbot: QtBot, wizard: SetupWizard) -> None:
    text = verify(qtbot, wizard, DEMO_API_KEY, "http://127.0.0.1:9")
    assert "Could not reach Klaviyo at http://127.0.0.1:9" in text
    assert not wizard.currentPage().isComplete()


def test_editing_a_verified_key_needs_verifying_again(qtbot: QtBot, wizard: SetupWizard) -> None:
    verify(qtbot, wizard, DEMO_API_KEY)
    page = wizard.page(Step.API_KEY)
    assert page.isComplete()
    page.key.setText(DEMO_API_KEY + "x")
    page._edited()
    assert not page.isComplete()


def test_no_list_chosen_blocks_next(qtbot: QtBot, wizard: SetupWizard) -> None:
    to_contacts(qtbot, wizard)
    page = wizard.page(Step.CONTACTS)
    assert not page.isComplete()
    assert "Choose at least one list" in page.problem.text()
    page.sync.setChecked(False)  # no contact sync: no list needed, no mapping page
    assert page.isComplete()
    wizard.next()
    assert wizard.currentId() == Step.FINISH


def test_every_list_ticks_them_all(qtbot: QtBot, wizard: SetupWizard) -> None:
    to_contacts(qtbot, wizard)
    picker = wizard.page(Step.CONTACTS).picker
    picker.every.setChecked(True)
    assert len(picker.chosen()) == 4 and wizard.draft.every_list
    assert wizard.draft.chosen_lists is None
    picker.every.setChecked(False)
    picker.select_all.click()
    assert len(picker.chosen()) == 4 and not wizard.draft.every_list
    picker.filter.setText(picker.model.names()[picker.model.ids()[0]])
    picker.select_none.click()
    assert len(picker.chosen()) == 3


def test_mapping_warnings_and_errors(qtbot: QtBot, wizard: SetupWizard) -> None:
    to_contacts(qtbot, wizard)
    wizard.page(Step.CONTACTS).picker.every.setChecked(True)
    wizard.next()
    page = wizard.page(Step.MAP_FIELDS)
    editor = page.editor
    qtbot.waitUntil(lambda: "sampling" in editor.sample_note.text(), timeout=10000)
    m = editor.model

    def add(name: str, kind: str, path: str) -> int:
        row = m.add_row()
        m.setData(m.index(row, NAME), name)
        m.setData(m.index(row, TYPE), kind)
        m.setData(m.index(row, PATH), path)
        return row

    add("Birthday", "Date", "properties.birthday")
    add("Colour", "Number", "properties.favorite_color")  # text fed to a number
    add("Shoe", "Text", "properties.shoe size")  # wrong case
    assert page.isComplete()  # warnings never block
    warnings = m.warnings()
    assert any("favorite_color" in w and "not number" in w for w in warnings)
    assert any('Did you mean "properties.Shoe Size"' in w for w in warnings)
    assert not any("birthday" in w for w in warnings)
    assert "warning" in editor.summary.text()
    add("Colour", "Text", "properties.favorite_color")  # the same platform field twice
    assert not page.isComplete()
    assert "mapped twice" in editor.summary.text()
    editor.table.setCurrentIndex(m.index(m.rowCount() - 1, 0))
    editor.remove.click()
    assert page.isComplete()
    row = add("", "Text", "email")
    assert not page.isComplete() and "name is empty" in " ".join(m.errors())
    m.remove_row(row)
    assert not m.remove_row(0)  # built-in rows stay


def test_cancel_leaves_nothing(
    qtbot: QtBot, wizard: SetupWizard, ctx: AppContext, memory_keyring: MemoryKeyring
) -> None:
    to_contacts(qtbot, wizard)
    wizard.page(Step.CONTACTS).picker.every.setChecked(True)
    wizard.next()
    wizard.reject()
    assert ConnectionRepo(ctx.db).get() is None
    assert FieldRepo(ctx.db).fields() == []
    assert memory_keyring.store == {}


def test_the_wizard_works_from_the_keyboard_alone(
    qtbot: QtBot, wizard: SetupWizard, ctx: AppContext
) -> None:
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow, timeout=5000)
    page = wizard.page(Step.API_KEY)
    page.base_url.setText(URL)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.key, timeout=5000)  # no click
    qtbot.keyClicks(page.key, DEMO_API_KEY)
    press(qtbot, Qt.Key.Key_Return)  # Enter verifies
    qtbot.waitUntil(page.isComplete, timeout=10000)
    press(qtbot, Qt.Key.Key_Return)  # Enter on a verified key: Next
    assert wizard.currentId() == Step.CONSENT
    assert wizard.draft.consent is None  # nothing chosen for the user
    press(qtbot, Qt.Key.Key_Space)  # choose the focused mode, Explicit
    assert wizard.draft.consent is ConsentMode.EXPLICIT
    press(qtbot, Qt.Key.Key_Return)
    assert wizard.currentId() == Step.CONTACTS
    contacts = wizard.page(Step.CONTACTS)
    qtbot.waitUntil(lambda: contacts.picker.loaded, timeout=10000)
    press(qtbot, Qt.Key.Key_Tab)  # to "Sync every list"
    press(qtbot, Qt.Key.Key_Space)
    assert wizard.draft.every_list
    press(qtbot, Qt.Key.Key_Return)
    assert wizard.currentId() == Step.MAP_FIELDS
    press(qtbot, Qt.Key.Key_Return)
    assert wizard.currentId() == Step.FINISH
    with qtbot.waitSignal(wizard.connected, timeout=10000):
        press(qtbot, Qt.Key.Key_Return)  # Connect
    assert ConnectionRepo(ctx.db).get() is not None


def press(qtbot: QtBot, key: Qt.Key) -> None:
    """A key where a person would press it: on the widget that has the focus."""
    target = QApplication.focusWidget()
    assert target is not None
    qtbot.keyClick(target, key)


def test_a_fresh_install_chooses_no_consent_mode_for_the_user(
    qtbot: QtBot, wizard: SetupWizard
) -> None:
    verify(qtbot, wizard, DEMO_API_KEY)
    wizard.next()
    consent = wizard.page(Step.CONSENT)
    assert wizard.currentId() == Step.CONSENT and wizard.draft.consent is None
    assert not any(b.isChecked() for b in consent.buttons.values())
    assert not consent.isComplete()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert consent.table.item(3, 1).text() == "depends on the mode you choose"
    consent.buttons[ConsentMode.INFERRED].click()
    assert consent.isComplete() and wizard.button(QWizard.WizardButton.NextButton).isEnabled()
