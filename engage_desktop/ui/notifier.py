"""Desktop notifications for finished syncs, degrading to the in-app panel.

The chain: the desktop's notification service over D-Bus when one answers (GNOME, KDE, …),
else the tray icon's message (the platform's own notification on Windows and macOS), else
nothing outside the window: the panel and the status bar still say how the run ended.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from engage_desktop.sync.notices import Notice
from engage_desktop.ui.desktop_notifications import DesktopNotifications

ICONS = {
    "info": QSystemTrayIcon.MessageIcon.Information,
    "warning": QSystemTrayIcon.MessageIcon.Warning,
    "error": QSystemTrayIcon.MessageIcon.Critical,
}
SHOW_MS = 15000
NO_RUN = -1  # a notice about the app itself, not about a run


class Notifier(QObject):
    """Shows notices on the tray; a click on one asks for its run in the history."""

    run_opened = Signal(int)  # run id, from a click on the notification
    open_requested = Signal()
    sync_requested = Signal()
    quit_requested = Signal()

    def __init__(
        self,
        icon: QIcon,
        tray: QSystemTrayIcon | None = None,
        desktop: DesktopNotifications | None = None,
    ) -> None:
        super().__init__()
        if tray is None and QSystemTrayIcon.isSystemTrayAvailable():
            tray = QSystemTrayIcon(icon)
        self.tray = tray
        self.desktop = desktop if desktop is not None and desktop.available else None
        if self.desktop is not None:
            self.desktop.clicked.connect(self._desktop_clicked)
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
    def has_tray(self) -> bool:
        """Whether closing the window can leave the app in a tray."""
        return self.tray is not None

    def notify(self, notice: Notice) -> bool:
        """True when it reached the desktop; False: only the in-app panel shows it."""
        self.last = notice
        if self.desktop is not None:
            self.desktop.show(notice)
            return True
        if self.tray is None:
            return False
        self.tray.showMessage(notice.title, notice.body, ICONS[notice.level], SHOW_MS)
        return True

    def say(self, title: str, body: str) -> None:
        if self.desktop is not None:
            self.desktop.show(Notice(title, body, "info", NO_RUN))
        elif self.tray is not None:
            self.tray.showMessage(title, body, ICONS["info"], SHOW_MS)

    def _desktop_clicked(self, run_id: int) -> None:
        if run_id != NO_RUN:
            self.run_opened.emit(run_id)

    def close(self) -> None:
        self.hide()
        if self.desktop is not None:
            self.desktop.close()

    def _clicked(self) -> None:
        if self.last is not None:
            self.run_opened.emit(self.last.run_id)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.open_requested.emit()

    def hide(self) -> None:
        if self.tray is not None:
            self.tray.hide()
