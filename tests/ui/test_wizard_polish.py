"""The wizard, the mapping editor and See details as a finished product: one-click fixes, every
warning listed (and repeated on Finish), honest counts and words, and a keyboard that works:
no two actions on a page share an Alt letter, focus starts where typing goes, Enter acts."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSystemTrayIcon,
    QTabBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from engage_desktop.actions.connection import ConnectPlan
from engage_desktop.app import EngageApp
from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.fields import FieldType
from engage_desktop.core.mapping import MappingSpec
from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.setup import Step, VerifiedKey
from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator
from engage_desktop.storage.connection import ConnectionRepo
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.integrations.details_dialog import KlaviyoDetailsDialog
from engage_desktop.ui.settings_dialog import SettingsDialog
from engage_desktop.ui.widgets.mapping_editor import MappingEditor
from engage_desktop.ui.widgets.mapping_model import NAME, NOTES, PATH, TYPE
from engage_desktop.ui.wizard.setup_wizard import SetupWizard

URL = "http://127.0.0.1"


@pytest.fixture
def wizard(qtbot: QtBot, ctx: AppContext) -> SetupWizard:
    w = SetupWizard(ctx, URL)
    qtbot.addWidget(w)
    w.show()
    return w


def verify(qtbot: QtBot, wizard: SetupWizard) -> None:
    page = wizard.page(Step.API_KEY)
    page.key.setText(DEMO_API_KEY)
    page._edited()
    page.verify.click()
    qtbot.waitUntil(page.isComplete, timeout=15000)


def to_mapping(qtbot: QtBot, wizard: SetupWizard) -> MappingEditor:
    """Verified, explicit consent, every list: the mapping page, its profiles sampled."""
    verify(qtbot, wizard)
    wizard.next()
    wizard.page(Step.CONSENT).buttons[ConsentMode.EXPLICIT].click()
    wizard.next()
    contacts = wizard.page(Step.CONTACTS)
    qtbot.waitUntil(lambda: contacts.picker.loaded, timeout=10000)
    contacts.picker.every.setChecked(True)
    wizard.next()
    editor: MappingEditor = wizard.page(Step.MAP_FIELDS).editor
    qtbot.waitUntil(lambda: editor.model.sampled, timeout=10000)
    return editor


def add(editor: MappingEditor, name: str, kind: str, path: str) -> int:
    m = editor.model
    row = m.add_row()
    m.setData(m.index(row, NAME), name)
    m.setData(m.index(row, TYPE), kind)
    m.setData(m.index(row, PATH), path)
    return row


def mnemonics(root: QWidget) -> list[str]:
    """The Alt letters of what is on screen: buttons, labels with a buddy, tabs, group boxes."""
    texts: list[str] = []
    for w in root.findChildren(QWidget):
        if not w.isVisible():
            continue
        if isinstance(w, QAbstractButton) or (isinstance(w, QLabel) and w.buddy() is not None):
            texts.append(w.text())
        elif isinstance(w, QGroupBox):
            texts.append(w.title())
        elif isinstance(w, QTabBar):
            texts += [w.tabText(i) for i in range(w.count())]
    found = (re.search(r"&([^&\s])", text.replace("&&", "")) for text in texts)
    return [m.group(1).lower() for m in found if m]


def assert_unique(letters: list[str], where: str) -> None:
    doubled = sorted({x for x in letters if letters.count(x) > 1})
    assert not doubled, f"{where}: Alt+{', Alt+'.join(doubled)} used twice ({letters})"


# ----- the mapping editor -----------------------------------------------------------------------
def test_did_you_mean_is_one_click_away(qtbot: QtBot, wizard: SetupWizard) -> None:
    editor = to_mapping(qtbot, wizard)
    row = add(editor, "Shoe", "Text", "properties.shoe size")  # wrong case
    assert editor.model.suggestion(row) == "properties.Shoe Size"
    links = re.findall(r"href='([^']+)'", editor.summary.text())
    assert links == [f"use:{row}"] and "Use “properties.Shoe Size”" in editor.summary.text()
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow, timeout=5000)
    editor.table.setFocus()
    for _ in range(3):  # Tab from the table: "+ Map more fields", then the summary
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        if QApplication.focusWidget() is editor.summary:
            break
    qtbot.keyClick(editor.summary, Qt.Key.Key_Tab)  # in the summary, Tab picks the link
    assert QApplication.focusWidget() is editor.summary
    qtbot.keyClick(editor.summary, Qt.Key.Key_Return)  # Enter follows it, as a click does
    assert wizard.currentId() == Step.MAP_FIELDS  # the link took the Enter, not Next
    assert editor.model.mappings()[-1].path == "properties.Shoe Size"
    assert not any("Did you mean" in w for w in editor.model.warnings())
    assert "href" not in editor.summary.text()


def test_the_summary_lists_every_warning_and_finish_repeats_them(
    qtbot: QtBot, wizard: SetupWizard
) -> None:
    editor = to_mapping(qtbot, wizard)
    add(editor, "Colour", "Number", "properties.favorite_color")  # text fed to a number
    add(editor, "Shoe", "Text", "properties.shoe size")  # no exact match
    warnings = editor.model.warnings()
    assert len(warnings) >= 2
    summary = editor.summary.text()
    assert f"{len(warnings)} warnings" in summary
    for warning in warnings:
        assert html.escape(warning) in summary
    assert "Colour ← properties.favorite_color" in summary
    wizard.next()
    assert wizard.currentId() == Step.FINISH
    finish = wizard.page(Step.FINISH).summary.text()
    for line in wizard.draft.mapping_warnings:
        assert html.escape(f"Warning: {line}") in finish
    assert "Shoe ← properties.shoe size" in finish and "Colour ←" in finish


def test_a_warning_about_a_new_field_does_not_speak_of_old_values(
    qtbot: QtBot, wizard: SetupWizard
) -> None:
    editor = to_mapping(qtbot, wizard)
    row = add(editor, "Colour", "Number", "properties.favorite_color")
    assert editor.model.is_new_field(row)
    (warning,) = [w for w in editor.model.warnings() if "favorite_color" in w]
    assert "old value" not in warning and "no value" in warning


def test_a_fresh_empty_row_is_one_error(qtbot: QtBot, ctx: AppContext) -> None:
    editor = MappingEditor()
    qtbot.addWidget(editor)
    editor.add.click()
    m = editor.model
    row = m.rowCount() - 1
    assert len(m.errors()) == 1
    assert "1 error to fix" in editor.summary.text()
    assert m.data(m.index(row, NOTES)) == m.errors()[0]  # the cell says what the count says
    m.setData(m.index(row, NAME), "Points")
    assert m.errors() == ["'Points' has no Klaviyo field."]


def test_no_problems_found_only_once_profiles_are_sampled(qtbot: QtBot) -> None:
    editor = MappingEditor()
    qtbot.addWidget(editor)
    assert "No problems found" not in editor.summary.text()
    assert "once profiles are sampled" in editor.summary.text()
    editor.set_sample([])
    assert "No problems found" not in editor.summary.text()
    editor.set_sample([{"first_name": "Ann", "phone_number": "+1415"}, {"email": "b@x.io"}])
    assert "No problems found in 2 sampled profiles." in editor.summary.text()


def test_the_completion_popup_shows_the_whole_choice(qtbot: QtBot, wizard: SetupWizard) -> None:
    editor = to_mapping(qtbot, wizard)
    row = editor.model.add_row()
    editor.table.edit(editor.model.index(row, PATH))
    (line,) = editor.table.findChildren(QLineEdit)
    completer = line.completer()
    completer.setCompletionPrefix("properties.")
    completer.complete()
    popup = completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=5000)
    shown = [str(completer.completionModel().index(r, 0).data()) for r in range(5)]
    assert any("(seen on " in text for text in shown)
    widest = max(popup.fontMetrics().horizontalAdvance(text) for text in shown)
    assert popup.width() > widest > line.width()


# ----- the keyboard -----------------------------------------------------------------------------
def test_no_page_of_the_wizard_gives_one_alt_letter_twice(
    qtbot: QtBot, wizard: SetupWizard
) -> None:
    key_page = wizard.page(Step.API_KEY)
    key_page.advanced.setChecked(True)  # the base URL's label shows too
    assert key_page.base_url_label.isVisible()
    assert_unique(mnemonics(wizard), "API key page")
    verify(qtbot, wizard)
    for step in (Step.CONSENT, Step.CONTACTS, Step.MAP_FIELDS, Step.FINISH):
        wizard.next()
        assert wizard.currentId() == step
        page = wizard.currentPage()
        if step is Step.CONSENT:
            page.buttons[ConsentMode.EXPLICIT].click()
        if step is Step.CONTACTS:
            qtbot.waitUntil(lambda p=page: p.picker.loaded, timeout=10000)  # type: ignore[misc]
            page.picker.retry.show()  # shown when the lists could not be read
            assert_unique(mnemonics(wizard), step.name)
            page.picker.retry.hide()
            page.picker.every.setChecked(True)
        assert_unique(mnemonics(wizard), step.name)
    assert "c" in mnemonics(wizard)  # &Connect, on the last page


def connect(ctx: AppContext, emulator: KlaviyoEmulator) -> KlaviyoDetailsDialog:
    verified = VerifiedKey(
        ApiKey(DEMO_API_KEY), URL, emulator.store.data.account_id, "Northwind Outdoor Co."
    )
    mapping = (MappingSpec("Shoe size", "properties.Shoe Size", FieldType.NUMBER),)
    ctx.actions.connection.connect(
        ConnectPlan(verified, ConsentMode.EXPLICIT, "all", "US", mapping)
    )
    conn = ConnectionRepo(ctx.db).get()
    assert conn is not None
    return KlaviyoDetailsDialog(ctx, conn, ApiKey(DEMO_API_KEY))


def test_see_details_tabs_give_no_alt_letter_twice_and_use_their_own_words(
    qtbot: QtBot, ctx: AppContext, emulator: KlaviyoEmulator
) -> None:
    details = connect(ctx, emulator)
    qtbot.addWidget(details)
    details.show()
    qtbot.waitUntil(lambda: details.editor.model.sampled, timeout=10000)
    assert details.picker.every_list() and details.update_button.isEnabled()
    assert "Choose at least one list" not in details.message.text()
    details.picker.retry.show()
    assert_unique(mnemonics(details), "Contacts and map fields tab")
    details.tabs.setCurrentIndex(1)
    assert_unique(mnemonics(details), "Connection tab")
    estimate = details.picker.estimate.text()
    assert "Estimated first sync" not in estimate and "A full sync of these lists" in estimate
    assert "membership" not in estimate and "profile" in estimate
    assert "fewer members" in details.picker.counts_note.text()
    assert details.show_field("Shoe size")
    assert details.editor.table.currentIndex().row() == details.editor.model.row_of_field(
        "Shoe size"
    )
    assert not details.show_field("Gone") and "no longer mapped" in details.message.text()
    details.reject()


def test_settings_give_no_alt_letter_twice_and_offer_no_tray_without_one(
    qtbot: QtBot, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not QSystemTrayIcon.isSystemTrayAvailable()  # offscreen: no tray
    dialog = SettingsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.tray is None
    assert not any("tray" in b.text() for b in dialog.findChildren(QAbstractButton))
    assert_unique(mnemonics(dialog), "Settings")
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    with_tray = SettingsDialog(ctx)
    qtbot.addWidget(with_tray)
    with_tray.show()
    assert with_tray.tray is not None and with_tray.tray.isVisible()
    assert_unique(mnemonics(with_tray), "Settings with a tray")


def test_demo_focus_starts_in_the_key_and_enter_verifies_it(
    qtbot: QtBot, wizard: SetupWizard
) -> None:
    page = wizard.page(Step.API_KEY)
    assert page.use_demo.isVisible()  # demo mode: a button above the key
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow, timeout=5000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.key, timeout=5000)
    qtbot.keyClicks(page.key, DEMO_API_KEY)
    qtbot.keyClick(page.key, Qt.Key.Key_Return)
    qtbot.waitUntil(page.isComplete, timeout=10000)
    assert "Verified" in page.result.text()
    assert wizard.currentId() == Step.API_KEY  # Enter verified; it did not move on by itself


@pytest.fixture
def engage(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> Iterator[EngageApp]:
    app = EngageApp(ctx, tmp_path)
    qtbot.addWidget(app.window)
    app.start()
    yield app
    app.stop()


def test_enter_on_the_tiles_install_opens_the_wizard(qtbot: QtBot, engage: EngageApp) -> None:
    tile = engage.integrations.klaviyo
    qtbot.waitUntil(lambda: tile.button.text() == "&Install", timeout=5000)
    tile.button.setFocus()
    qtbot.keyClick(tile.button, Qt.Key.Key_Return)
    assert engage.klaviyo.wizard is not None
    engage.klaviyo.wizard.reject()
    qtbot.waitUntil(lambda: engage.klaviyo.wizard is None, timeout=5000)
    qtbot.keyClick(tile.button, Qt.Key.Key_Enter)  # the keypad's Enter too
    assert engage.klaviyo.wizard is not None
    engage.klaviyo.wizard.reject()


def test_the_contacts_page_says_klaviyo_in_words(qtbot: QtBot, wizard: SetupWizard) -> None:
    subtitle = wizard.page(Step.CONTACTS).subTitle()
    assert "Klaviyo)" in subtitle and "KLAVIYO" not in subtitle
