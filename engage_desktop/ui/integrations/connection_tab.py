"""Klaviyo → See details → Connection: the account, its key, and the consent settings.

SMS consent and the default country can be changed here after install. A change that would
make contacts messageable says how many first and waits for an explicit yes; a new consent
mode applies to every contact at once.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.actions import ActionError, Connected, NeedsConfirmation
from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.secrets import redact
from engage_desktop.storage.connection import Connection
from engage_desktop.storage.database import DatabaseError
from engage_desktop.ui.context import AppContext, OwnedTasks
from engage_desktop.ui.widgets.phone_text import fill_regions, region_label
from engage_desktop.ui.widgets.question import ask


def region_name(code: str) -> str:
    """ "GB" -> "United Kingdom (+44)": the country by name, then the code people dial."""
    return region_label(code)


class ConnectionTab(QWidget):
    """Shows the connection; saves consent and country changes; asks to disconnect."""

    changed = Signal(object)  # Changes
    disconnect_requested = Signal()

    def __init__(
        self, ctx: AppContext, conn: Connection, tasks: OwnedTasks, key_masked: str
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.conn = conn
        self.tasks = tasks
        self.consent = QButtonGroup(self)
        self.modes: dict[ConsentMode, QRadioButton] = {}
        modes = QHBoxLayout()
        for mode, label in (
            (ConsentMode.EXPLICIT, "E&xplicit (only SUBSCRIBED in Klaviyo)"),
            (ConsentMode.INFERRED, "&Inferred (anyone not opted out)"),
        ):
            button = QRadioButton(label)
            self.modes[mode] = button
            self.consent.addButton(button)
            modes.addWidget(button)
        modes.addStretch(1)
        self.region = QComboBox()
        self.region.setAccessibleName("Default country for phone numbers")
        fill_regions(self.region)  # by name, so typing a country's name finds it
        self.save = QPushButton("&Save consent settings")
        self.message = QLabel()
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow(
            "Account:", QLabel(f"<b>{html.escape(conn.account_name)}</b> ({conn.account_id})")
        )
        form.addRow("Base URL:", QLabel(html.escape(redact(conn.base_url))))
        form.addRow("API key:", QLabel(key_masked))
        form.addRow("SMS consent:", modes)
        region_label = QLabel("Numbers without +&country:")
        region_label.setBuddy(self.region)
        form.addRow(region_label, self.region)
        form.addRow(
            "Automatic sync:", QLabel(f"every {conn.schedule_hours} hours while Engage runs")
        )
        self.disconnect_button = QPushButton("&Disconnect…")
        note = QLabel(
            "Disconnecting stops syncing and removes the key from the keyring. Your contacts and "
            "every opt-out stay in Engage."
        )
        note.setWordWrap(True)
        save_row = QHBoxLayout()
        save_row.addWidget(self.message, 1)
        save_row.addWidget(self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(save_row)
        layout.addStretch(1)
        layout.addWidget(note)
        layout.addWidget(self.disconnect_button)
        self._show(conn)
        self.consent.buttonToggled.connect(lambda *_: self._edited())
        self.region.currentIndexChanged.connect(lambda *_: self._edited())
        self.save.clicked.connect(lambda: self.tasks.spawn(self.apply(confirm=False)))
        self.disconnect_button.clicked.connect(self.disconnect_requested)

    def _show(self, conn: Connection) -> None:
        self.conn = conn
        self.modes[conn.consent_mode].setChecked(True)
        self.region.setCurrentIndex(self.region.findData(conn.default_region))
        self.save.setEnabled(False)

    def chosen(self) -> tuple[ConsentMode, str]:
        mode = next(m for m, b in self.modes.items() if b.isChecked())
        return mode, str(self.region.currentData())

    def _edited(self) -> None:
        mode, region = self.chosen()
        self.save.setEnabled((mode, region) != (self.conn.consent_mode, self.conn.default_region))
        self.message.setStyleSheet("")
        self.message.clear()

    async def apply(self, confirm: bool) -> Connected | None:
        mode, region = self.chosen()
        change = self.ctx.actions.connection.change_settings
        try:
            done: Connected = await self.ctx.write(
                lambda: change(consent=mode, default_region=region, confirm=confirm)
            )
        except NeedsConfirmation as exc:
            self.question = ask(
                self,
                "More contacts will be messageable",
                f"{exc.message}\n\nChange the settings anyway?",
                "&Yes, change them",
                lambda: self.tasks.spawn(self.apply(confirm=True)),
                no="&Keep the current settings",
                destructive=True,
            )
            return None
        except (ActionError, DatabaseError) as exc:
            self.message.setStyleSheet("color: #b00020;")
            self.message.setText(getattr(exc, "message", str(exc)))
            return None
        self._show(done.connection)
        self.message.setText(" ".join(("Saved.", *done.notes)))
        self.changed.emit(done.changes)
        return done
