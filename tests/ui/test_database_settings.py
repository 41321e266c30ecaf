"""Settings → Database: test a server, move this computer's data with a progress bar, choose
the database for the next start."""

from __future__ import annotations

from pathlib import Path

import pytest

from engage_desktop.config import saved_database_url
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import DB_NAME, Database
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.settings.database_tab import DatabaseSettingsBox


@pytest.fixture
def box(qtbot, ctx: AppContext) -> DatabaseSettingsBox:  # type: ignore[no-untyped-def]
    widget = DatabaseSettingsBox(ctx)
    qtbot.addWidget(widget)
    return widget


def test_move_then_use_at_next_start(
    box: DatabaseSettingsBox,
    qtbot,
    db: Database,
    pg_url: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    ContactRepo(db).add_opted_out("+14155550100", "STOP", 1.0)
    assert box.folder == tmp_path and (tmp_path / DB_NAME).exists()
    box.url.setText(pg_url)
    box.test_button.click()
    qtbot.waitUntil(lambda: "Connected" in box.result.text(), timeout=20000)
    box.move_button.click()
    qtbot.waitUntil(lambda: box.result.text().startswith("Moving"), timeout=5000)
    assert not box.progress.isHidden()  # the bar shows while the move runs
    qtbot.waitUntil(lambda: not box.result.text().startswith("Moving"), timeout=30000)
    assert box.progress.isHidden()
    assert "Moved" in box.result.text(), box.result.text()
    assert box.snapshot.tables["contacts"] == (1, 1)
    assert box.snapshot.tables["suppressions"] == (1, 1)
    box.use_button.click()
    qtbot.waitUntil(lambda: "From the next start" in box.result.text(), timeout=5000)
    assert saved_database_url(tmp_path) == pg_url


def test_a_wrong_address_is_said_and_nothing_saved(
    box: DatabaseSettingsBox,
    qtbot,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    box.url.setText("mysql://nope")
    box.use_button.click()
    qtbot.waitUntil(lambda: "Not a team database" in box.result.text(), timeout=5000)
    assert saved_database_url(tmp_path) is None
