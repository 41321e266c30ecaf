"""The Mailjet wizard end to end against its emulator, then one sync of both sources."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from engage_desktop.app import EngageApp
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
