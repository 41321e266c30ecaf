"""The Mailjet wizard end to end against its emulator, then one sync of both sources."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from engage_desktop.app import EngageApp
from engage_desktop.emulator import mailjet as mj
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.storage.contact_table import ContactQuery
from tests.ui.mailjet_helpers import SHARED, install_mailjet, mailjet_live
from tests.ui.test_app import engage, install

__all__ = ["engage", "mailjet_live"]


def test_wizard_then_a_sync_merges_mailjet_with_klaviyo(
    qtbot: QtBot,
    engage: EngageApp,
    live: EmulatorThread,
    mailjet_live: EmulatorThread,
    tmp_path: Path,
) -> None:
    install(qtbot, engage, live.url)
    result = install_mailjet(qtbot, engage, mailjet_live.url)
    assert result.status == "succeeded", result.error
    assert set(result.sources) == {"KLAVIYO", "MAILJET"}
    assert "Connected" in engage.integrations.mailjet.state.text()
    table = engage.contacts.table_data
    both = table.ids(ContactQuery(source="MAILJET"))
    merged = [r for r in table.rows(list(both)).values() if "KLAVIYO" in r.sources]
    # the shared people are one contact each (a few profiles are on no synced list)
    assert len(merged) >= SHARED * 3 // 4
    assert any(r.lists.count("Mailjet: ") for r in merged)


def test_sources_on_every_screen_merge_report_and_priority(
    qtbot: QtBot,
    engage: EngageApp,
    live: EmulatorThread,
    mailjet_live: EmulatorThread,
    tmp_path: Path,
) -> None:
    install(qtbot, engage, live.url)
    result = install_mailjet(qtbot, engage, mailjet_live.url)
    assert result.status == "succeeded", result.error
    screen = engage.contacts
    panel = engage.presenter.panels[0]
    engage.presenter.watch()
    assert "from Klaviyo and Mailjet now?" in panel.confirm(full=False).text()
    panel.question.reject()
    qtbot.waitUntil(lambda: screen.source_filter.count() == 3, timeout=5000)  # all, K, M
    everyone = screen.model.rowCount()

    # All Contacts: filter by source, then by a Mailjet group, from the keyboard's widgets
    screen.source_filter.setCurrentIndex(screen.source_filter.findData("MAILJET"))
    qtbot.waitUntil(lambda: 0 < screen.model.rowCount() < everyone, timeout=5000)
    sources_col = [c.header for c in screen.model.columns].index("Sources")
    shown = {screen.model.index(r, sources_col).data() for r in range(screen.model.rowCount())}
    assert shown == {"Mailjet", "Klaviyo, Mailjet"}
    mailjet_only = screen.model.rowCount()
    group = next(
        i
        for i in range(screen.list_filter.count())
        if "Mailjet: " in screen.list_filter.itemText(i)
    )
    screen.list_filter.setCurrentIndex(group)
    qtbot.waitUntil(lambda: 0 < screen.model.rowCount() < mailjet_only, timeout=5000)
    name = screen.list_filter.itemText(group)
    groups_col = [c.header for c in screen.model.columns].index("Groups")
    assert all(
        name in screen.model.index(r, groups_col).data() for r in range(screen.model.rowCount())
    )

    # Contact Lists: groups by source, Klaviyo's first (the default priority)
    sources = [r.source for r in engage.lists.model.rows]
    assert sources == sorted(sources, key=["KLAVIYO", "MAILJET", "CSV"].index)
    assert "MAILJET" in sources and all(": " in r.name for r in engage.lists.model.rows)

    # A merged contact whose sources disagree on the first name: the pane shows both
    table = screen.table_data
    disputed = None
    for cid in table.ids(ContactQuery(source="MAILJET")):
        recs = engage.ctx.actions.sources.records(cid)
        names = {r.first_name for r in recs}
        if {r.source for r in recs} == {"KLAVIYO", "MAILJET"} and len(names) == 2:
            disputed = cid
            break
    assert disputed is not None
    screen.show_contact(disputed)
    qtbot.waitUntil(
        lambda: screen.detail.shown is not None and screen.detail.shown.row.id == disputed,
        timeout=5000,
    )
    recs = {r.source: r for r in engage.ctx.actions.sources.records(disputed)}
    text = screen.detail.text.toPlainText()
    assert "From each source (2)" in text and "disagree on Email, First name" in text
    assert f"✔ First name: {recs['KLAVIYO'].first_name}" in text  # Klaviyo wins by default
    assert f"First name: {recs['MAILJET'].first_name}" in text

    # Sync history: per-source results and the merge report, exported
    history = engage.history
    engage.show_run(result.run_id)
    qtbot.waitUntil(
        lambda: history.merge.shown == (False, result.run_id) and history.merge.export.isEnabled(),
        timeout=5000,
    )
    assert (
        "Klaviyo: succeeded" in history.detail.text()
        and "Mailjet: succeeded" in history.detail.text()
    )
    kinds = {r.kind for r in history.merge.model.rows}
    assert {"merged", "conflict"} <= kinds
    conflict = next(
        r
        for r in history.merge.model.rows
        if r.kind == "conflict" and r.contact_id == disputed and "irst" in (r.field or "")
    )
    assert conflict.source == "KLAVIYO" and conflict.value == recs["KLAVIYO"].first_name
    out = tmp_path / "merge.csv"
    task = engage.ctx.spawn(history.merge.export_csv(result.run_id, out))
    qtbot.waitUntil(task.done, timeout=5000)
    assert task.result() == sum(1 for _ in out.open(encoding="utf-8-sig")) - 1 > 0
    assert recs["KLAVIYO"].first_name in out.read_text(encoding="utf-8-sig")

    # Settings: Mailjet first (Alt+Up on it); Save re-derives the contact the pane shows
    engage.open_settings()
    dialog = engage.settings_dialog
    assert dialog is not None
    box = dialog.priority
    box.list.setCurrentRow(1)
    assert box.list.currentItem().text() == "Mailjet"
    qtbot.keyClick(box.list, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert box.order()[:2] == ("MAILJET", "KLAVIYO")
    with qtbot.waitSignal(box.applied, timeout=10000):
        dialog.save_button.click()
    assert engage.ctx.actions.sources.priority()[0] == "MAILJET"
    qtbot.waitUntil(
        lambda: f"✔ First name: {recs['MAILJET'].first_name}" in screen.detail.text.toPlainText(),
        timeout=5000,
    )
    assert screen.detail.shown is not None
    assert screen.detail.shown.row.first_name == recs["MAILJET"].first_name


def test_lost_keys_lead_to_reconnect_which_keeps_the_settings(
    qtbot: QtBot,
    engage: EngageApp,
    live: EmulatorThread,
    mailjet_live: EmulatorThread,
    tmp_path: Path,
) -> None:
    install(qtbot, engage, live.url)
    assert install_mailjet(qtbot, engage, mailjet_live.url).status == "succeeded"
    mailjet = engage.ctx.actions.mailjet
    saved = mailjet.settings()
    assert saved is not None
    mailjet.credentials.forget(saved.key_ref)  # the keyring lost them
    engage.ctx.spawn(engage.mailjet.show_tile())
    tile = engage.integrations.mailjet
    qtbot.waitUntil(lambda: tile.button.text() == "Reconnec&t…", timeout=5000)
    assert "Reconnect to enter it" in tile.state.text()
    tile.button.click()
    qtbot.waitUntil(lambda: engage.mailjet.reconnect is not None, timeout=5000)
    dialog = engage.mailjet.reconnect
    assert dialog is not None
    dialog.key.setText("0" * 32)
    dialog.secret.setText("1" * 32)
    dialog.go.click()
    qtbot.waitUntil(lambda: "another Mailjet account" in dialog.problem.text(), timeout=5000)
    dialog.key.setText(mj.DEMO_API_KEY)
    dialog.secret.setText("not the secret")
    dialog.go.click()
    qtbot.waitUntil(lambda: dialog.problem.text() != "" and dialog.go.isEnabled(), timeout=10000)
    assert mailjet.key_place() is None  # a refused pair is not kept
    with qtbot.waitSignal(dialog.reconnected, timeout=10000):
        dialog.secret.setText(mj.DEMO_API_SECRET)
        dialog.go.click()
    assert mailjet.key_place() == "keyring"
    assert mailjet.settings() == saved  # nothing else changed
    qtbot.waitUntil(lambda: tile.button.text() == "See de&tails", timeout=5000)
