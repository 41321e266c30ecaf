"""Desktop notifications for finished syncs, degrading to the in-app panel.

On Linux, Windows and macOS a tray icon's message is the platform's own notification (on
Linux, freedesktop notifications over D-Bus). Where no tray exists (a bare X server, tests),
nothing is shown outside the window and the panel still says how the run ended.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from engage_desktop.sync.notices import Notice

ICONS = {
    "info": QSystemTrayIcon.MessageIcon.Information,
    "warning": QSystemTrayIcon.MessageIcon.Warning,
    "error": QSystemTrayIcon.MessageIcon.Critical,
}
SHOW_MS = 15000


class Notifier(QObject):
    """Shows notices on the tray; a click on one asks for its run in the history."""

    run_opened = Signal(int)  # run id, from a click on the notification
    open_requested = Signal()
    sync_requested = Signal()
    quit_requested = Signal()

    def __init__(self, icon: QIcon, tray: QSystemTrayIcon | None = None) -> None:
        super().__init__()
        if tray is None and QSystemTrayIcon.isSystemTrayAvailable():
            tray = QSystemTrayIcon(icon)
        self.tray = tray
        self.last: Notice | None = None
        if tray is not None:
            tray.setToolTip("Engage Desktop")
            self.menu = QMenu()
            self.menu.addAction("Open Engage Desktop", self.open_requested.emit)
            self.menu.addAction("Sync now", self.sync_requested.emit)
            self.menu.addSeparator()
            self.menu.addAction("Quit", self.quit_requested.emit)
            tray.setContextMenu(self.menu)
            tray.messageClicked.connect(self._clicked)
            tray.activated.connect(self._activated)
            tray.show()

    @property
    def available(self) -> bool:
        return self.tray is not None

    def notify(self, notice: Notice) -> bool:
        """True when it reached the desktop; False: only the in-app panel shows it."""
        self.last = notice
        if self.tray is None:
            return False
        self.tray.showMessage(notice.title, notice.body, ICONS[notice.level], SHOW_MS)
        return True

    def say(self, title: str, body: str) -> None:
        if self.tray is not None:
            self.tray.showMessage(title, body, ICONS["info"], SHOW_MS)

    def _clicked(self) -> None:
        if self.last is not None:
            self.run_opened.emit(self.last.run_id)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.open_requested.emit()

    def hide(self) -> None:
        if self.tray is not None:
            self.tray.hide()
