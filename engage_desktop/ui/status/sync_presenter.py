"""Keeps every sync status panel current: engine events, the lease, the schedule."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from engage_desktop.storage.connection import ConnectionRepo
from engage_desktop.storage.contact_table import ContactTable
from engage_desktop.storage.database import Database
from engage_desktop.storage.lease import LeaseRepo
from engage_desktop.storage.mailjet_settings import MailjetSettingsRepo
from engage_desktop.storage.runs import RunRepo
from engage_desktop.sync.events import SyncProgress
from engage_desktop.sync.lock import run_elsewhere
from engage_desktop.ui.status.sync_status_panel import SyncStatusPanel

WATCH_EVERY_MS = 2000


class SyncPresenter(QObject):
    """Feeds the panels and forwards their intents; notices runs of other processes."""

    sync_requested = Signal(bool)  # full
    cancel_requested = Signal()
    history_requested = Signal(int)
    committed_elsewhere = Signal()  # another process changed the database

    def __init__(
        self,
        db: Database,
        next_due: Callable[[], float | None],
        running_here: Callable[[], bool],
    ) -> None:
        super().__init__()
        self._db = db
        self._next_due = next_due
        self._running_here = running_here
        self.panels: list[SyncStatusPanel] = []
        self._version = ContactTable(db).data_version()
        self.timer = QTimer(self, interval=WATCH_EVERY_MS)
        self.timer.timeout.connect(self.watch)

    def add_panel(self, panel: SyncStatusPanel) -> SyncStatusPanel:
        self.panels.append(panel)
        panel.sync_requested.connect(self.sync_requested)
        panel.cancel_requested.connect(self.cancel_requested)
        panel.history_requested.connect(self.history_requested)
        return panel

    def start(self) -> None:
        self.show_idle()
        self.timer.start()

    # ----- engine events ----------------------------------------------------------------------
    def show_progress(self, p: SyncProgress) -> None:
        for panel in self.panels:
            panel.show_progress(p)

    def show_finished(self) -> None:
        self._version = ContactTable(self._db).data_version()
        self.show_idle()

    def show_refused(self, reason: str) -> None:
        for panel in self.panels:
            panel.show_refused(reason)

    def show_idle(self) -> None:
        last = RunRepo(self._db).last()
        due = self._next_due() if ConnectionRepo(self._db).get() is not None else None
        for panel in self.panels:
            panel.show_idle(last, due)
        self.watch()

    # ----- polling ----------------------------------------------------------------------------
    def watch(self) -> None:
        """Another process's run disables the buttons (and says who); its commit refreshes.
        Nothing to look at while our own run goes (and no GUI-thread reads to wait on)."""
        if self._running_here():
            return
        conn = ConnectionRepo(self._db).get()
        mailjet = MailjetSettingsRepo(self._db).get()
        elsewhere = run_elsewhere(LeaseRepo(self._db))
        blocked = elsewhere
        if conn is None and mailjet is None:
            blocked = "Install Klaviyo or Mailjet under Extensions → Integrations first."
        elif conn is not None and conn.lists == () and mailjet is None:
            blocked = "Contact sync is off: choose lists in Integrations → Klaviyo."
        # The confirmation names what a sync reads (every connected source, one run).
        sources = [
            name
            for name, on in (
                ("Klaviyo", conn is not None and conn.lists != ()),
                ("Mailjet", mailjet is not None),
            )
            if on
        ]
        for panel in self.panels:
            panel.set_blocked(blocked)
            panel.sources = sources
        version = ContactTable(self._db).data_version()
        # Committed (and the run, if any, over): show the new state. A change seen while
        # another run still holds the lock is kept for the first look after it ends.
        if version != self._version and not self._running_here() and elsewhere is None:
            self._version = version
            self.committed_elsewhere.emit()
            self.show_idle()
