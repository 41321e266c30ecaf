"""Live sync in the app: confirmation, buttons during a run, refusals, the panel following a
real run, notifications, completion emails, the schedule's next run, quitting mid-run."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from PySide6.QtWidgets import QMessageBox, QSystemTrayIcon
from pytestqt.qtbot import QtBot

from engage_desktop.app import EngageApp
from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.settings import AppSettings, EmailSettings, SmtpSecurity
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.storage.connection import Connection
from engage_desktop.storage.contact_table import ContactQuery
from engage_desktop.storage.lease import Lease, LeaseRepo
from engage_desktop.storage.settings import SettingsRepo
from engage_desktop.sync.events import SyncProgress
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.main_window import Screen
from engage_desktop.ui.notifier import Notifier
from engage_desktop.ui.settings_dialog import SettingsDialog
from tests.ui.test_app import install


class SpyTray(QSystemTrayIcon):
    """The tray at its Qt boundary: records what would reach the desktop."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[tuple[str, str]] = []

    def showMessage(self, title: str, body: str, *args: Any) -> None:  # type: ignore[override]
        self.shown.append((title, body))


class Inbox:
    """aiosmtpd handler keeping every message."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:  # aiosmtpd cannot take port 0
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def tray() -> SpyTray:
    return SpyTray()


@pytest.fixture
def engage(
    qtbot: QtBot,
    ctx: AppContext,
    tmp_path: Path,
    tray: SpyTray,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[EngageApp]:
    monkeypatch.setenv("ENGAGE_DESKTOP_MAX_ATTEMPTS", "2")  # the sync process gives up fast

    def impatient(conn: Connection, key: ApiKey) -> KlaviyoClient:
        return KlaviyoClient(key, conn.base_url, max_attempts=2, retry_base_s=0.05)

    app = EngageApp(ctx, tmp_path, push_client=impatient, notifier=Notifier(tray.icon(), tray))
    qtbot.addWidget(app.window)
    app.start()
    yield app
    app.stop()


def slow(live: EmulatorThread, latency_ms: int) -> None:
    httpx.post(f"{live.url}/_emulator/settings", json={"latency_ms": latency_ms}).raise_for_status()


def panel(engage: EngageApp) -> Any:
    return engage.presenter.panels[0]


def test_manual_sync_asks_first_and_cancel_does_nothing(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread
) -> None:
    install(qtbot, engage, live.url)
    runs = len(engage.history.runs.rows)
    p = panel(engage)
    assert p.sync_now.isEnabled()
    p.sync_now.click()
    assert "Manual" in p.question.windowTitle()
    p.question.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.wait(300)
    assert len(engage.history.runs.rows) == runs and not engage.runner.running
    p.sync_now.click()
    yes = next(b for b in p.question.buttons() if "continue with Manual Syncing" in b.text())
    with qtbot.waitSignal(engage.bridge.run_finished, timeout=30000) as done:
        yes.click()
    assert done.args[0].trigger == "manual" and done.args[0].status == "succeeded"
    qtbot.waitUntil(lambda: len(engage.history.runs.rows) == runs + 1, timeout=5000)


def test_buttons_off_during_a_run_and_a_second_trigger_is_refused(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread
) -> None:
    install(qtbot, engage, live.url)
    slow(live, 40)
    panels = engage.presenter.panels
    with qtbot.waitSignal(engage.bridge.progress_changed, timeout=10000):
        engage.sync_now(full=True)
    qtbot.waitUntil(lambda: not panels[0].sync_now.isEnabled(), timeout=5000)
    assert all(not p.sync_now.isEnabled() and not p.full_sync.isEnabled() for p in panels)
    assert panels[1].cancel.isVisible() or panels[1].cancel.isVisibleTo(panels[1])
    with qtbot.waitSignal(engage.bridge.run_refused, timeout=10000) as refused:
        engage.runner.request_sync("manual")
    assert "already running" in refused.args[0].reason and "since" in refused.args[0].reason
    slow(live, 0)
    with qtbot.waitSignal(engage.bridge.run_finished, timeout=60000):
        pass
    qtbot.waitUntil(lambda: all(p.sync_now.isEnabled() for p in panels), timeout=5000)


def test_a_run_in_another_process_disables_the_buttons_and_says_who(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread
) -> None:
    install(qtbot, engage, live.url)
    other = os.getppid()  # alive, and not us
    now = time.time()
    assert (
        LeaseRepo(engage.ctx.db).try_take(
            Lease("command line", other, socket.gethostname(), now, now), lambda _: False
        )
        is None
    )
    engage.presenter.watch()
    p = panel(engage)
    assert not p.sync_now.isEnabled()
    assert "command line" in p.why.text() and f"process {other}" in p.why.text()
    LeaseRepo(engage.ctx.db).release("command line")
    engage.presenter.watch()
    assert p.sync_now.isEnabled()


def test_the_panel_follows_a_real_run_and_ends_with_its_result(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread, tray: SpyTray
) -> None:
    install(qtbot, engage, live.url)
    seen: list[SyncProgress] = []
    engage.bridge.progress_changed.connect(seen.append)
    p = panel(engage)
    renders = p.renders
    slow(live, 20)
    with qtbot.waitSignal(engage.bridge.run_finished, timeout=60000) as done:
        engage.sync_now(full=True)
    result = done.args[0]
    phases = [s.phase for s in seen]
    assert phases[0] == "planning" and "fetching" in phases and "committing" in phases
    assert seen[-1].fetched == result.counts["fetched"] > 0
    assert any(s.current_list for s in seen if s.phase == "fetching")
    assert 0 < p.renders - renders <= len(seen)  # coalesced, never more than the snapshots
    assert f"view run #{result.run_id}" in p.headline.text()
    assert f"{result.counts['updated']:,} updated" in p.detail.text()
    assert "Next automatic sync" in p.stats.text()
    # the desktop notification, and its click opening the run
    assert tray.shown[-1][0].endswith("sync complete")
    tray.messageClicked.emit()
    assert engage.window.current_screen() is Screen.HISTORY
    assert engage.history.current_run() == result.run_id


def test_a_failed_run_notifies_with_its_reason(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread, tray: SpyTray
) -> None:
    install(qtbot, engage, live.url)
    httpx.post(
        f"{live.url}/_emulator/faults", json={"path": "/api/lists", "kind": "500", "count": 50}
    ).raise_for_status()
    with qtbot.waitSignal(engage.bridge.run_finished, timeout=60000) as done:
        engage.sync_now(full=False)
    assert done.args[0].status == "failed"
    title, body = tray.shown[-1]
    assert title.endswith("sync failed") and "left as they were" in body
    assert "failed" in panel(engage).headline.text()


def test_completion_email_reaches_a_real_smtp_server(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    SettingsRepo(engage.ctx.db).save(
        AppSettings(
            email=EmailSettings(
                enabled=True,
                host="127.0.0.1",
                port=port,
                security=SmtpSecurity.NONE,
                sender="engage@example.com",
                recipients=("owner@example.com",),
            )
        )
    )
    install(qtbot, engage, live.url)
    qtbot.waitUntil(lambda: len(inbox.messages) == 1, timeout=10000)
    msg = inbox.messages[0]
    assert msg["To"] == "owner@example.com" and "sync complete" in msg["Subject"]
    assert "new" in msg.get_payload()


def test_settings_send_a_test_email_and_a_refused_server_is_reported(
    qtbot: QtBot, ctx: AppContext, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    dialog = SettingsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.email_on.setChecked(True)
    dialog.host.setText("127.0.0.1")
    dialog.port.setValue(port)
    dialog.security.setCurrentIndex(dialog.security.findData("none"))
    dialog.from_address.setText("engage@example.com")
    dialog.recipients.setText("a@example.com; b@example.com")
    task = dialog.tasks.spawn(dialog.send_test())
    qtbot.waitUntil(task.done, timeout=10000)
    assert task.result() and len(inbox.messages) == 1
    assert "Sent to a@example.com, b@example.com" in dialog.test_result.text()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    dialog.port.setValue(closed)
    task = dialog.tasks.spawn(dialog.send_test())
    qtbot.waitUntil(task.done, timeout=30000)
    assert not task.result() and "Not sent" in dialog.test_result.text()
    dialog.hours.setEnabled(True)
    save = dialog.tasks.spawn(dialog.save())
    qtbot.waitUntil(save.done, timeout=5000)
    saved = SettingsRepo(ctx.db).load().email
    assert saved.recipients == ("a@example.com", "b@example.com") and saved.port == closed


def test_quitting_mid_run_asks_then_cancels_leaving_contacts(
    qtbot: QtBot, engage: EngageApp, live: EmulatorThread
) -> None:
    install(qtbot, engage, live.url)
    before = engage.contacts.model.rowCount()
    slow(live, 60)
    with qtbot.waitSignal(engage.bridge.progress_changed, timeout=10000):
        engage.sync_now(full=True)
    engage.quit()
    box = engage.question
    assert box is not None and "Quit anyway" in box.text()
    assert engage.runner.running
    assert engage.runner.stop() is True  # what Quit and cancel does once the loop ends
    slow(live, 0)
    run = engage.history.repo.recent(1)[0]
    assert run.status == "cancelled"
    assert len(engage.contacts.table_data.ids(ContactQuery())) == before


def test_closing_keeps_running_in_the_tray_and_says_so_once(
    qtbot: QtBot, engage: EngageApp, tray: SpyTray, monkeypatch: pytest.MonkeyPatch
) -> None:
    quits: list[bool] = []
    monkeypatch.setattr(engage, "quit_now", lambda: quits.append(True))
    engage.window.show()
    engage.window.close()
    assert not engage.window.isVisible() and quits == []
    assert tray.shown[-1][0] == "Engage Desktop is still running"
    qtbot.waitUntil(lambda: SettingsRepo(engage.ctx.db).load().tray_explained, timeout=5000)
    shown = len(tray.shown)
    engage.notifier.open_requested.emit()  # the tray's "Open Engage Desktop"
    assert engage.window.isVisible()
    engage.window.close()
    assert len(tray.shown) == shown and quits == []  # explained once
    SettingsRepo(engage.ctx.db).save(AppSettings(keep_in_tray=False, tray_explained=True))
    engage.show_window()
    engage.window.close()
    assert quits == [True]  # without the tray option, closing quits
