"""Composition root: the QApplication and its qasync loop, the services, the wiring.

Screens emit intents (`install_requested`, `opt_out_requested`, …); this module connects them
to the services. Background sync events reach the screens only through the `EngineBridge`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import QApplication, QBoxLayout, QMessageBox

from engage_desktop.actions import ActionError, Changes
from engage_desktop.actions.status import schedule_marks
from engage_desktop.config import resources_dir
from engage_desktop.core.messaging import GatewayCredentials
from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.settings import EmailSettings
from engage_desktop.core.sources import source_label
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.database import DatabaseError, open_database
from engage_desktop.storage.keystore import SMTP_SERVICE, KeyStore
from engage_desktop.storage.runs import RunRepo
from engage_desktop.storage.settings import SettingsRepo
from engage_desktop.sync.events import SyncRefused, SyncResult
from engage_desktop.sync.mailer import MailError, send_notice, should_email
from engage_desktop.sync.notices import Notice, notice_for
from engage_desktop.sync.runner import BackgroundSync
from engage_desktop.sync.scheduler import OptOutLoop, SyncScheduler
from engage_desktop.sync.sources.mailjet_keys import MailjetKeys
from engage_desktop.ui.bridge import EngineBridge
from engage_desktop.ui.campaigns.campaigns_screen import CampaignsScreen
from engage_desktop.ui.contacts.contacts_screen import ContactsScreen
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.desktop_notifications import DesktopNotifications
from engage_desktop.ui.gateway_feature import GatewayFeature
from engage_desktop.ui.history.history_screen import HistoryScreen
from engage_desktop.ui.imports.import_flow import ImportFlow
from engage_desktop.ui.integrations.integrations_screen import IntegrationsScreen
from engage_desktop.ui.integrations.klaviyo_flows import KlaviyoFlows
from engage_desktop.ui.integrations.mailjet_flows import MailjetFlows
from engage_desktop.ui.lists.lists_screen import ListsScreen
from engage_desktop.ui.main_window import MainWindow, Screen
from engage_desktop.ui.message_screen import NewMessageScreen
from engage_desktop.ui.notifier import Notifier
from engage_desktop.ui.settings_dialog import SettingsDialog
from engage_desktop.ui.status.sync_presenter import SyncPresenter
from engage_desktop.ui.status.sync_status_panel import SyncStatusPanel
from engage_desktop.ui.widgets.question import ask

if TYPE_CHECKING:  # the emulators are loaded in demo mode only
    from engage_desktop.emulator.server import EmulatorThread

log = logging.getLogger(__name__)

DEMO_PROFILES, DEMO_LISTS, DEMO_SEED = 3000, 6, 7
DEMO_MAILJET_CONTACTS, DEMO_MAILJET_LISTS = 2000, 4
DEMO_SHARED = 300  # people in both demo accounts (by phone)


def interactive_client(key: ApiKey, base_url: str) -> KlaviyoClient:
    """For the wizard and details: a person is waiting, so give up sooner than a sync would."""
    return KlaviyoClient(key, base_url, timeout_s=15.0, max_attempts=3, max_wait_s=20.0)


@dataclass
class Options:
    """How the app was started."""

    data_dir: Path
    demo_url: str | None = None  # the emulator's address in --demo
    demo_key: str | None = None
    demo_mailjet: tuple[str, str, str] | None = None  # the Mailjet emulator: url, key, secret
    gateway_demo: tuple[str, GatewayCredentials] | None = None  # the MessageMedia emulator


class EngageApp:
    """Builds the window and screens on a context, and wires intents to services."""

    def __init__(
        self,
        ctx: AppContext,
        db_path: Path,
        demo_url: str | None = None,
        push_client: Callable[[Connection, ApiKey], KlaviyoClient] | None = None,
        notifier: Notifier | None = None,
        gateway_demo: tuple[str, GatewayCredentials] | None = None,
        poll_every_s: float = 5.0,
    ) -> None:
        self.ctx = ctx
        self.demo_url = demo_url
        # Opt-outs are pushed from the sync thread; runs are a child process with its own client.
        self._push_client = push_client or (lambda conn, key: KlaviyoClient(key, conn.base_url))
        self.bridge = EngineBridge()
        self.runner = BackgroundSync(
            db_path, self.key_for, self._client_for, self.bridge.publish, self._mailjet_keys
        )
        self.message = NewMessageScreen(ctx)
        self.contacts = ContactsScreen(ctx)
        self.lists = ListsScreen(ctx)
        self.integrations = IntegrationsScreen()
        self.history = HistoryScreen(ctx)
        self.campaigns = CampaignsScreen(ctx)
        self.window = MainWindow(
            {
                Screen.NEW_MESSAGE: self.message,
                Screen.CONTACTS: self.contacts,
                Screen.LISTS: self.lists,
                Screen.INTEGRATIONS: self.integrations,
                Screen.HISTORY: self.history,
                Screen.CAMPAIGNS: self.campaigns,
            },
            "Engage Desktop — demo" if ctx.demo else "Engage Desktop",
        )
        self.scheduler = SyncScheduler(
            lambda trigger: self.runner.run(trigger),
            lambda: schedule_marks(RunRepo(ctx.db)),
            self._interval_s,
        )
        self.presenter = SyncPresenter(ctx.db, self.next_due, lambda: self.runner.running)
        for screen in (self.message, self.contacts, self.lists):
            layout = screen.layout()
            assert isinstance(layout, QBoxLayout)
            layout.insertWidget(0, self.presenter.add_panel(SyncStatusPanel()))
        self.notifier = notifier or Notifier(
            QApplication.windowIcon(), desktop=DesktopNotifications()
        )
        self.klaviyo = KlaviyoFlows(ctx, self.integrations, self.window, demo_url)
        self.mailjet = MailjetFlows(ctx, self.integrations, self.window)
        self.gateway = GatewayFeature(
            ctx,
            self.bridge,
            self.integrations.gateway,
            self.message,
            self.campaigns,
            self.notifier,
            self.window,
            db_path,
            self.runner.push_opt_outs,
            gateway_demo,
            poll_every_s,
        )
        self.settings_dialog: SettingsDialog | None = None
        self.imports = ImportFlow(ctx, self.bridge, self.window)
        self.question: QMessageBox | None = None
        self.quitting = False
        self._wire()

    # ----- start ----------------------------------------------------------------------------
    def start(self) -> None:
        # Everything built so far (Qt bindings, modules, screens) lives as long as the app:
        # keep it out of the cyclic collector, so its full passes on the GUI thread stay short.
        gc.freeze()
        self.runner.start()
        self.runner.submit(self.scheduler.run_forever())
        self.runner.submit(OptOutLoop(self.runner.push_due).run_forever())
        self.presenter.start()
        self.gateway.start()
        self.apply(Changes(connection=True, contacts=True, lists=True, history=True))
        conn = ConnectionRepo(self.ctx.db).get()
        self.window.show_screen(Screen.INTEGRATIONS if conn is None else Screen.CONTACTS)
        self.window.show()

    def stop(self) -> None:
        self.presenter.timer.stop()
        self.notifier.close()
        self.gateway.stop()
        if self.runner.stop():
            message = "Quit during a sync: it was cancelled; contacts were left as they were."
            log.info(message)
            print(message, file=sys.stderr)
        self.ctx.shutdown()

    def _wire(self) -> None:
        self.klaviyo.changed.connect(self.apply)
        self.klaviyo.sync_requested.connect(self.runner.request_sync)
        self.mailjet.changed.connect(self.apply)
        self.mailjet.sync_requested.connect(self.runner.request_sync)
        self.contacts.opt_out_requested.connect(lambda cid: self.ctx.spawn(self.opt_out(cid)))
        self.lists.show_list_requested.connect(self._show_list)
        self.bridge.progress_changed.connect(self.presenter.show_progress)
        self.bridge.run_finished.connect(self._finished)
        self.bridge.run_refused.connect(self._refused)
        self.bridge.message_posted.connect(
            lambda text: self.window.statusBar().showMessage(text, 15000)
        )
        self.presenter.sync_requested.connect(self.sync_now)
        self.presenter.cancel_requested.connect(self.runner.cancel)
        self.presenter.history_requested.connect(self.show_run)
        self.presenter.committed_elsewhere.connect(
            lambda: self.apply(Changes(contacts=True, lists=True, history=True, connection=True))
        )
        self.notifier.run_opened.connect(self.show_run)
        self.notifier.open_requested.connect(self.show_window)
        self.notifier.sync_requested.connect(lambda: self.sync_now(False))
        self.notifier.quit_requested.connect(self.quit)
        self.window.close_requested.connect(self._close_requested)
        self.window.quit_requested.connect(self.quit)
        self.window.settings_requested.connect(self.open_settings)
        self.window.import_requested.connect(self.imports.open)
        self.imports.changed.connect(self.apply)
        self.imports.opt_outs_queued.connect(self.runner.push_opt_outs)  # to Klaviyo now
        # A sync's first progress names its run: Sync history lists it as running at once, and
        # the status bar no longer says how the previous one went.
        self.bridge.progress_changed.connect(lambda p: self.history.show_running(p.run_id))
        self.bridge.progress_changed.connect(lambda _: self.window.statusBar().clearMessage())

        def open_contact(contact_id: int) -> None:
            self.window.show_screen(Screen.CONTACTS)
            self.contacts.show_contact(contact_id)

        def open_mapping(field: str) -> None:
            """Integrations → Klaviyo → See details, on the mapping with this field's row."""
            self.window.show_screen(Screen.INTEGRATIONS)
            self.ctx.spawn(self.klaviyo.open_details(field))

        self.history.contact_requested.connect(open_contact)
        self.gateway.changed.connect(self.apply)
        self.gateway.contact_requested.connect(open_contact)
        self.gateway.campaign_requested.connect(self.show_campaign)
        self.history.mapping_requested.connect(open_mapping)

    # ----- syncs ---------------------------------------------------------------------------------
    def sync_now(self, full: bool) -> None:
        """A confirmed manual sync (the lock refuses a second one, here or anywhere)."""
        self.runner.request_sync("manual", full)

    def _interval_s(self) -> float:
        conn = ConnectionRepo(self.ctx.db).get()
        return 3600.0 * (conn.schedule_hours if conn else 24)

    def next_due(self) -> float | None:
        return self.scheduler.next_due()

    def show_campaign(self, campaign_id: int) -> None:
        self.window.show_screen(Screen.CAMPAIGNS)
        self.campaigns.select_campaign(campaign_id)

    def show_run(self, run_id: int) -> None:
        self.show_window()
        self.window.show_screen(Screen.HISTORY)
        self.history.show_run(run_id)

    # ----- keys and clients (on the sync thread: they may ask the keyring) ----------------------
    def key_for(self, conn: Connection) -> ApiKey | None:
        found = self.ctx.credentials.key_for(conn.account_id)
        return None if found is None else found[0]

    def _mailjet_keys(self) -> MailjetKeys | None:
        access = self.ctx.actions.mailjet.access()
        return None if access is None else access.keys

    def _client_for(self, conn: Connection) -> KlaviyoClient | None:
        key = self.key_for(conn)
        return None if key is None else self._push_client(conn, key)

    # ----- screens ----------------------------------------------------------------------------
    def apply(self, changes: Changes) -> None:
        """Reload what changed, and only that."""
        if changes.connection:
            self.ctx.spawn(self.klaviyo.show_tile())
            self.ctx.spawn(self.mailjet.show_tile())
            self.presenter.show_idle()
        if changes.lists:
            self.contacts.refresh_filters()
            self.lists.reload()
        if changes.contacts:
            self.contacts.reload(keep_rows=True)
        if changes.contacts or changes.lists or changes.connection:
            self.message.reload_lists()
        if changes.history:
            self.history.reload()

    def _show_list(self, list_id: int) -> None:
        self.contacts.show_list(list_id)
        self.window.show_screen(Screen.CONTACTS)

    async def opt_out(self, contact_id: int) -> bool:
        """Mark opted out (the outbox row in the same transaction; it waits for a sync's
        commit if one is being saved), then tell Klaviyo now."""
        bar = self.window.statusBar()
        waiting = self.bridge.say  # called on the writer thread: the bridge queues it here
        try:
            done = await self.ctx.write(
                self.ctx.actions.optouts.opt_out_contact,
                contact_id,
                "opted out in Engage",
                lambda: waiting("A sync is saving its changes; the opt-out waits for it…"),
            )
        except (ActionError, DatabaseError) as exc:
            bar.showMessage(f"The opt-out was not saved: {getattr(exc, 'message', exc)}", 15000)
            return False
        self.apply(done.changes)
        self.contacts.select_contact(contact_id)
        bar.showMessage(
            "Opted out; Klaviyo is being told." if done.newly else "Already opted out.", 8000
        )
        self.runner.push_opt_outs()
        return done.newly

    # ----- sync events (through the bridge) -----------------------------------------------------
    def _finished(self, result: SyncResult) -> None:
        self.presenter.show_finished()
        self.apply(Changes(contacts=True, lists=True, history=True))
        if self.quitting:
            return
        conn = ConnectionRepo(self.ctx.db).get()
        klaviyo = f"Klaviyo ({conn.account_name})" if conn else "Klaviyo"
        names = [klaviyo if s == "KLAVIYO" else source_label(s) for s in result.sources]
        notice = notice_for(result, " and ".join(names) or klaviyo)
        self.window.statusBar().showMessage(f"{notice.title}: {notice.body}", 30000)
        self.notifier.notify(notice)
        email = SettingsRepo(self.ctx.db).load().email
        if should_email(email, notice):
            self.ctx.spawn(self._email(email, notice))

    async def _email(self, email: EmailSettings, notice: Notice) -> bool:
        """Never fails or blocks a sync: a problem is logged and shown, nothing more."""

        def send() -> None:  # on the worker: the password comes from the keyring
            stored = KeyStore(SMTP_SERVICE).load(email.user) if email.user else None
            send_notice(email, stored.reveal() if stored else None, notice)

        try:
            await self.ctx.blocking_io(send)
        except MailError as exc:
            log.warning("notification email not sent: %s", exc)
            self.window.statusBar().showMessage(f"Notification email not sent: {exc}.", 30000)
            return False
        return True

    def _refused(self, refused: SyncRefused) -> None:
        self.window.statusBar().showMessage(refused.reason, 15000)
        self.presenter.show_refused(refused.reason)

    # ----- settings, window, quitting ------------------------------------------------------------
    def open_settings(self) -> None:
        self.settings_dialog = SettingsDialog(self.ctx, self.window)
        self.settings_dialog.saved.connect(lambda _: self.presenter.show_idle())
        self.settings_dialog.priority.applied.connect(self.apply)
        self.settings_dialog.open()

    def show_window(self) -> None:
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()

    def _close_requested(self, event: QCloseEvent) -> None:
        """Closing keeps the app in the tray (scheduled syncs go on) where a tray exists."""
        settings = SettingsRepo(self.ctx.db).load()
        if self.quitting or not (self.notifier.has_tray and settings.keep_in_tray):
            event.ignore()
            self.quit()
            return
        event.ignore()
        self.window.hide()
        if not settings.tray_explained:
            self.notifier.say(
                "Engage Desktop is still running",
                "Scheduled syncs go on in the background. Quit from the tray menu or File → Quit.",
            )
            self.ctx.spawn(
                self.ctx.write(
                    SettingsRepo(self.ctx.db).save, replace(settings, tray_explained=True)
                )
            )

    def quit(self) -> None:
        """Really quit; a running sync is cancelled (contacts untouched) after a yes."""
        if not self.runner.running:
            if self.gateway.worker.sending():
                self.show_window()
                self.question = self.gateway.ask_quit(self.quit_now)
                return
            self.quit_now()
            return
        self.show_window()
        self.question = ask(
            self.window,
            "A sync is running",
            "Quit anyway? The sync is cancelled and your contacts stay as they were; the next "
            "sync picks up from the last completed one.",
            "&Quit and cancel the sync",
            self.quit_now,
            no="&Keep running",
            destructive=True,
        )

    def quit_now(self) -> None:
        self.quitting = True
        self.notifier.hide()
        self.window.hide()
        app = QApplication.instance()
        if app is not None:
            app.quit()


def apply_theme(app: QApplication) -> None:
    """The stylesheet and icon from resources/ (the app still works without them)."""
    folder = resources_dir()
    style = folder / "style.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    icon = folder / "icons" / "engage.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


def run(opts: Options, on_shown: Callable[[EngageApp], None] | None = None) -> int:
    """Open the window and run until it closes."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("Engage Desktop")
    app.setOrganizationName("Engage")
    apply_theme(app)
    db = open_database(opts.data_dir)
    ctx = AppContext(
        db, KeyStore(), interactive_client, demo=opts.demo_url is not None, demo_key=opts.demo_key
    )
    ctx.demo_mailjet = opts.demo_mailjet
    engage = EngageApp(ctx, opts.data_dir, opts.demo_url, gateway_demo=opts.gateway_demo)

    # SIGTERM / Ctrl+C quit at once (a running sync is cancelled) and the clean-up below runs
    # (a demo's temporary folder is removed); the timer lets Python see signals while Qt waits.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: engage.quit_now())
    wake = QTimer(interval=500)
    wake.timeout.connect(lambda: None)
    wake.start()

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


def demo_emulators() -> tuple[EmulatorThread, EmulatorThread]:
    """--demo's two emulators, started: Klaviyo's (generated contacts) and MessageMedia's."""
    from engage_desktop.emulator import Settings
    from engage_desktop.emulator import messagemedia as mm
    from engage_desktop.emulator.server import EmulatorThread

    klaviyo = EmulatorThread(
        Settings(profiles=DEMO_PROFILES, lists=DEMO_LISTS, seed=DEMO_SEED, job_delay_s=0.5)
    ).start()
    return klaviyo, EmulatorThread(mm.MessageMediaEmulator(mm.Settings())).start()


def demo_options(folder: Path, klaviyo: EmulatorThread, gateway: EmulatorThread) -> Options:
    from engage_desktop.emulator import DEMO_API_KEY
    from engage_desktop.emulator import messagemedia as mm

    keys = GatewayCredentials(mm.DEMO_API_KEY, mm.DEMO_API_SECRET)
    return Options(folder, klaviyo.url, DEMO_API_KEY, gateway_demo=(gateway.url, keys))


def demo_mailjet(klaviyo: EmulatorThread) -> EmulatorThread:
    """--demo's Mailjet emulator (issue 14), started, sharing some people with Klaviyo's so
    that merging shows: its wizard works with no account."""
    from engage_desktop.emulator import KlaviyoEmulator
    from engage_desktop.emulator import mailjet as mj
    from engage_desktop.emulator.demo_overlap import share_people
    from engage_desktop.emulator.server import EmulatorThread

    emulator = mj.MailjetEmulator(
        mj.Settings(
            contacts=DEMO_MAILJET_CONTACTS,
            lists=DEMO_MAILJET_LISTS,
            phone_property="mobile",
            seed=DEMO_SEED,
        )
    )
    assert isinstance(klaviyo.emulator, KlaviyoEmulator)
    share_people(klaviyo.emulator, emulator, DEMO_SHARED)
    return EmulatorThread(emulator).start()


def run_demo(data_dir: Path | None, on_shown: Callable[[EngageApp], None] | None = None) -> int:
    """--demo: the built-in emulators (Klaviyo and MessageMedia), an in-memory keyring, a
    throw-away data folder; the SMS gateway is connected to its emulator from the start."""
    from engage_desktop.storage.memory_keyring import use_memory_keyring

    use_memory_keyring()
    folder = data_dir or Path(tempfile.mkdtemp(prefix="engage-demo-"))
    klaviyo, gateway = demo_emulators()
    mailjet = demo_mailjet(klaviyo)
    log.info(
        "demo: emulators at %s (Klaviyo), %s (MessageMedia) and %s (Mailjet), data in %s",
        klaviyo.url, gateway.url, mailjet.url, folder,
    )  # fmt: skip
    from engage_desktop.emulator import mailjet as mj

    opts = demo_options(folder, klaviyo, gateway)
    opts.demo_mailjet = (mailjet.url, mj.DEMO_API_KEY, mj.DEMO_API_SECRET)
    try:
        return run(opts, on_shown)
    finally:
        mailjet.stop()
        gateway.stop()
        klaviyo.stop()
        if data_dir is None:
            shutil.rmtree(folder, ignore_errors=True)
