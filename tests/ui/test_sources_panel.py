"""The status panel during a run of several sources: it names them and counts each one."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from engage_desktop.sync.events import SyncProgress, event_line, parse_event
from engage_desktop.ui.status.sync_status_panel import SyncStatusPanel


def progress(sources: dict[str, list[int | None]]) -> SyncProgress:
    fetched = sum(int(f or 0) for f, _ in sources.values())
    return SyncProgress(7, "fetching", 1, 4, fetched, None, 50.0, None, 3, 0, 0, sources=sources)


def test_the_panel_names_each_source_and_its_records(qtbot: QtBot) -> None:
    panel = SyncStatusPanel()
    qtbot.addWidget(panel)
    both = progress({"KLAVIYO": [1200, 3000], "MAILJET": [340, None]})
    assert parse_event(event_line(both)) == both  # as the sync process reports it
    panel.show_progress(both)
    assert "Syncing with Klaviyo and Mailjet" in panel.headline.text()
    assert "1,540 records (Klaviyo 1,200, Mailjet 340)" in panel.detail.text()
    panel.show_progress(progress({"MAILJET": [20, None]}))
    qtbot.waitUntil(lambda: "Syncing with Mailjet<" in panel.headline.text(), timeout=1000)
    assert "(" not in panel.detail.text().split("·")[0]  # one source: no breakdown
