"""Composition root: the QApplication and its qasync loop, the services, the wiring.

Screens emit intents (`install_requested`, `opt_out_requested`, …); this module connects them
to the services. Background sync events reach the screens only through the `EngineBridge`.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from engage_desktop.core.secrets import ApiKey
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.contact_table import ContactTable
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import open_database
from engage_desktop.storage.keystore import KeyStore, use_memory_keyring
from engage_desktop.sync.events import SyncProgress, SyncRefused, SyncResult
from engage_desktop.sync.runner import BackgroundSync
from engage_desktop.ui.bridge import EngineBridge
from engage_desktop.ui.contacts.contacts_screen import ContactsScreen
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.history.history_screen import HistoryScreen
from engage_desktop.ui.integrations.details_dialog import KlaviyoDetailsDialog
from engage_desktop.ui.integrations.integrations_screen import IntegrationsScreen
from engage_desktop.ui.lists.lists_screen import ListsScreen
from engage_desktop.ui.main_window import MainWindow, Screen
from engage_desktop.ui.message_screen import NewMessageScreen
from engage_desktop.ui.wizard.setup_wizard import SetupWizard

log = logging.getLogger(__name__)

DEMO_PROFILES, DEMO_LISTS, DEMO_SEED = 3000, 6, 7


def interactive_client(key: ApiKey, base_url: str) -> KlaviyoClient:
    """For the wizard and details: a person is waiting, so give up sooner than a sync would."""
    return KlaviyoClient(key, base_url, timeout_s=15.0, max_attempts=3, max_wait_s=20.0)


@dataclass
class Options:
    """How the app was started."""

    data_dir: Path
    demo_url: str | None = None  # the emulator's address in --demo
    demo_key: str | None = None


class EngageApp:
    """Builds the window and screens on a context, and wires intents to services."""

    def __init__(
        self,
        ctx: AppContext,
        db_path: Path,
        demo_url: str | None = None,
        sync_client: Callable[[Connection, ApiKey], KlaviyoClient] | None = None,
    ) -> None:
        self.ctx = ctx
        self.demo_url = demo_url
        self.session_keys: dict[str, ApiKey] = {}  # keys typed this session (no keyring)
        self._sync_client = sync_client or (lambda conn, key: KlaviyoClient(key, conn.base_url))
        self.bridge = EngineBridge()
        self.runner = BackgroundSync(db_path, self._client_for, self.bridge.publish)
        table = ContactTable(ctx.db)
        self.message = NewMessageScreen(ctx)
        self.contacts = ContactsScreen(ctx)
        self.lists = ListsScreen(table)
        self.integrations = IntegrationsScreen()
        self.history = HistoryScreen(ctx)
        self.window = MainWindow(
            {
                Screen.NEW_MESSAGE: self.message,
                Screen.CONTACTS: self.contacts,
                Screen.LISTS: self.lists,
                Screen.INTEGRATIONS: self.integrations,
                Screen.HISTORY: self.history,
            },
            "Engage Desktop — demo" if ctx.demo else "Engage Desktop",
        )
        self.wizard: SetupWizard | None = None
        self.details: KlaviyoDetailsDialog | None = None
        self.notice: QMessageBox | None = None
        self._wire()

    # ----- start ----------------------------------------------------------------------------
    def start(self) -> None:
        self.runner.start()
        self.refresh_all()
        conn = ConnectionRepo(self.ctx.db).get()
        self.window.show_screen(Screen.INTEGRATIONS if conn is None else Screen.CONTACTS)
        self.window.show()

    def stop(self) -> None:
        if self.runner.stop():
            log.info("quit during a sync: cancelled, contacts left as they were")
        self.ctx.shutdown()

    def _wire(self) -> None:
        tile = self.integrations.klaviyo
        tile.install_requested.connect(self.open_wizard)
        tile.details_requested.connect(self.open_details)
        self.contacts.opt_out_requested.connect(lambda cid: self.ctx.spawn(self.opt_out(cid)))
        self.lists.show_list_requested.connect(self._show_list)
        self.bridge.progress_changed.connect(self._progress)
        self.bridge.run_finished.connect(self._finished)
        self.bridge.run_refused.connect(self._refused)
        self.window.close_requested.connect(self._close_requested)

    # ----- keys and clients -------------------------------------------------------------------
    def key_for(self, conn: Connection) -> ApiKey | None:
        return self.session_keys.get(conn.account_id) or self.ctx.keys.load(conn.account_id)

    def _client_for(self, conn: Connection) -> KlaviyoClient | None:
        """Called on the sync thread."""
        key = self.key_for(conn)
        return None if key is None else self._sync_client(conn, key)

    # ----- screens ----------------------------------------------------------------------------
    def refresh_all(self) -> None:
        conn = ConnectionRepo(self.ctx.db).get()
        key_missing = conn is not None and self.key_for(conn) is None
        self.integrations.show_connection(conn, key_missing)
        self.contacts.refresh_filters()
        self.contacts.reload(keep_rows=True)
        self.lists.reload()
        self.history.reload()
        self.message.reload_lists()

    def open_wizard(self) -> None:
        if self.wizard is not None:
            self.wizard.raise_()
            return
        self.wizard = SetupWizard(self.ctx, self.demo_url, self.window)
        self.wizard.connected.connect(self._connected)
        self.wizard.finished.connect(self._wizard_closed)
        self.wizard.open()

    def _wizard_closed(self) -> None:
        if self.wizard is not None:
            self.wizard.deleteLater()
        self.wizard = None

    def _connected(self, conn: Connection, kept: bool) -> None:
        assert self.wizard is not None and self.wizard.draft.verified is not None
        self.session_keys[conn.account_id] = self.wizard.draft.verified.key
        self.refresh_all()
        if conn.lists != ():
            self.runner.request_sync("install", full=True)
        self.notice = QMessageBox(
            QMessageBox.Icon.Information,
            "Klaviyo is connected",
            "Your first sync has started. You'll be notified when it's complete."
            if conn.lists != ()
            else "Klaviyo is connected. Contact sync is off; opt-outs are sent to Klaviyo.",
            QMessageBox.StandardButton.NoButton,
            self.window,
        )
        self.notice.addButton("Got it!", QMessageBox.ButtonRole.AcceptRole)
        self.notice.open()

    def open_details(self) -> None:
        conn = ConnectionRepo(self.ctx.db).get()
        key = None if conn is None else self.key_for(conn)
        if conn is None or key is None:
            self.open_wizard()
            return
        self.details = KlaviyoDetailsDialog(self.ctx, conn, key, self.window)
        self.details.updated.connect(lambda *_: self.refresh_all())
        self.details.sync_requested.connect(lambda full: self.runner.request_sync("manual", full))
        self.details.disconnected.connect(self.refresh_all)
        self.details.open()

    def _show_list(self, list_id: int) -> None:
        self.contacts.show_list(list_id)
        self.window.show_screen(Screen.CONTACTS)

    async def opt_out(self, contact_id: int) -> bool:
        """Mark opted out (the outbox row in the same transaction), then tell Klaviyo now."""
        repo = ContactRepo(self.ctx.db)
        changed: bool = await self.ctx.write(
            repo.mark_opted_out, contact_id, "opted out in Engage", time.time()
        )
        self.contacts.reload(keep_rows=True)
        self.contacts.select_contact(contact_id)
        self.window.statusBar().showMessage(
            "Opted out; Klaviyo is being told." if changed else "Already opted out.", 8000
        )
        if changed:
            self.runner.push_opt_outs()
        return changed

    # ----- sync events (through the bridge) -----------------------------------------------------
    def _progress(self, p: SyncProgress) -> None:
        total = f" of {p.expected:,}" if p.expected else ""
        self.window.statusBar().showMessage(f"Sync: {p.phase}, {p.fetched:,}{total} profiles")

    def _finished(self, result: SyncResult) -> None:
        self.window.statusBar().showMessage(
            f"Sync {result.status}: {result.counts.get('created', 0):,} created, "
            f"{result.counts.get('updated', 0):,} updated"
            + (f" — {result.error}" if result.error else ""),
            15000,
        )
        self.refresh_all()

    def _refused(self, refused: SyncRefused) -> None:
        self.window.statusBar().showMessage(refused.reason, 15000)

    def _close_requested(self, event: QCloseEvent) -> None:
        event.accept()


def run(opts: Options, on_shown: Callable[[EngageApp], None] | None = None) -> int:
    """Open the window and run until it closes."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Engage Desktop")
    app.setOrganizationName("Engage")
    db = open_database(opts.data_dir)
    ctx = AppContext(
        db, KeyStore(), interactive_client, demo=opts.demo_url is not None, demo_key=opts.demo_key
    )
    engage = EngageApp(ctx, opts.data_dir, opts.demo_url)

    async def main() -> None:
        closed = asyncio.Event()
        app.aboutToQuit.connect(closed.set)
        engage.start()
        if on_shown is not None:
            QTimer.singleShot(0, lambda: on_shown(engage))
        await closed.wait()

    try:
        qasync.run(main())
    finally:
        engage.stop()
        db.close()
    return 0


def run_demo(data_dir: Path | None, on_shown: Callable[[EngageApp], None] | None = None) -> int:
    """--demo: the built-in emulator, an in-memory keyring, a throw-away data folder."""
    from engage_desktop.emulator import DEMO_API_KEY, Settings
    from engage_desktop.emulator.server import EmulatorThread

    use_memory_keyring()
    folder = data_dir or Path(tempfile.mkdtemp(prefix="engage-demo-"))
    emulator = EmulatorThread(
        Settings(profiles=DEMO_PROFILES, lists=DEMO_LISTS, seed=DEMO_SEED, job_delay_s=0.5)
    ).start()
    log.info("demo: emulator at %s, data in %s", emulator.url, folder)
    try:
        return run(Options(folder, emulator.url, DEMO_API_KEY), on_shown)
    finally:
        emulator.stop()
        if data_dir is None:
            shutil.rmtree(folder, ignore_errors=True)
