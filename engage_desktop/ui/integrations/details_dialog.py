"""Klaviyo → See details: change the lists and the mapping; the connection's own tab changes
consent settings or disconnects (ui/integrations/connection_tab.py)."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.actions import ActionError, Changes
from engage_desktop.actions.connection import Lists
from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.setup import VerifiedKey, mapping_problems
from engage_desktop.klaviyo.errors import KlaviyoError
from engage_desktop.storage.connection import Connection
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import DatabaseError
from engage_desktop.storage.fields import FieldRepo
from engage_desktop.sync.setup import KlaviyoSetup
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.integrations.connection_tab import ConnectionTab
from engage_desktop.ui.widgets.list_picker import ListPicker
from engage_desktop.ui.widgets.mapping_editor import MappingEditor
from engage_desktop.ui.widgets.question import ask


class KlaviyoDetailsDialog(QDialog):
    """Two tabs: "Contacts and map fields" (reusing the wizard's widgets) and "Connection"."""

    changed = Signal(object)  # Changes: what a save changed (screens reload only that)
    sync_requested = Signal(bool)  # full
    disconnected = Signal()

    def __init__(
        self, ctx: AppContext, conn: Connection, key: ApiKey, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.conn = conn
        self.setup = KlaviyoSetup(ctx.make_client)
        self.tasks = ctx.owned()
        self.verified = VerifiedKey(key, conn.base_url, conn.account_id, conn.account_name)
        self.setWindowTitle("Klaviyo — details")
        self.resize(960, 640)
        self.tabs = QTabWidget()
        # Alt+C is the Connection tab's "+country" and Alt+M "+ Map more fields": F is free.
        self.tabs.addTab(self._contacts_tab(), "Contacts and map &fields")
        self.connection = ConnectionTab(ctx, conn, self.tasks, key.masked)
        self.connection.changed.connect(self.changed)
        self.connection.disconnect_requested.connect(self._confirm_disconnect)
        self.tabs.addTab(self.connection, "C&onnection")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(close)
        self.finished.connect(self._closed)
        self.loading: asyncio.Task[None] = self.tasks.spawn(self._load())

    def _closed(self) -> None:
        self.tasks.cancel()
        self.ctx.spawn(self.setup.aclose())

    # ----- tab 1 ----------------------------------------------------------------------------
    def _contacts_tab(self) -> QWidget:
        tab = QWidget()
        self.sync = QCheckBox("&Sync my contacts from Klaviyo to Engage")
        self.sync.setChecked(self.conn.lists != ())
        self.picker = ListPicker(first_sync=False)
        self.picker.set_selection(self.conn.lists if self.conn.lists != () else ())
        fields = FieldRepo(self.ctx.db)
        self.editor = MappingEditor(dict(fields.fields()))
        self.editor.set_mappings(fields.mappings())
        self.update_button = QPushButton("&Update")
        self.message = QLabel()
        self.message.setWordWrap(True)
        split = QHBoxLayout()
        split.addWidget(self.picker, 2)
        split.addWidget(self.editor, 5)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.update_button)
        layout = QVBoxLayout(tab)
        layout.addWidget(self.sync)
        layout.addLayout(split, 1)
        layout.addLayout(bottom)
        self.sync.toggled.connect(self._check)
        self.picker.selection_changed.connect(self._check)
        self.editor.changed.connect(self._check)
        self.picker.retry.clicked.connect(lambda: self.tasks.spawn(self._load()))
        self.update_button.clicked.connect(lambda: self.tasks.spawn(self.apply()))
        return tab

    async def _load(self) -> None:
        # the sizes Klaviyo gave at the last sync show at once; read off the GUI thread
        cached = await self.ctx.read(ContactRepo(self.ctx.db).list_member_counts)
        if not await self.picker.load(self.setup, self.verified, cached):
            self.editor.set_sample([])  # nothing to check against: say so, not "checking…"
            return
        chosen = None if self.picker.every_list() else self.picker.chosen()
        try:
            sample = await self.setup.sample(self.verified, chosen or None)
        except KlaviyoError as exc:
            self.editor.set_sample([])
            self.editor.sample_note.setText(f"Could not sample profiles ({exc.user_message}).")
            return
        self.editor.set_sample(sample.attributes)

    def show_field(self, name: str) -> bool:
        """The mapping tab, with this platform field's row selected (False: not mapped)."""
        self.tabs.setCurrentIndex(0)
        if self.editor.select_field(name):
            return True
        self.message.setStyleSheet("")
        self.message.setText(
            f"“{name}” is no longer mapped: its issues come from an older mapping."
        )
        return False

    def chosen_lists(self) -> tuple[str, ...] | None:
        if not self.sync.isChecked():
            return ()
        return None if self.picker.every_list() else self.picker.chosen()

    def _lists_choice(self) -> Lists:
        lists = self.chosen_lists()
        return "all" if lists is None else lists

    def _check(self) -> None:
        self.picker.setEnabled(self.sync.isChecked())
        problems = mapping_problems(self.editor.mappings())
        if self.sync.isChecked() and self.picker.loaded and self.chosen_lists() == ():  # None: all
            problems.insert(0, "Choose at least one list, or untick “Sync my contacts”.")
        self.message.setStyleSheet("color: #b00020;" if problems else "")
        self.message.setText(problems[0] if problems else "")
        self.update_button.setEnabled(not problems and self.picker.loaded)

    async def apply(self) -> Connection | None:
        """Update: save the lists and the mapping; a change of lists offers a sync now."""
        lists, mappings = self._lists_choice(), tuple(self.editor.mappings())
        change = self.ctx.actions.connection.change_settings
        try:
            done = await self.ctx.write(lambda: change(lists=lists, mappings=mappings))
        except (ActionError, DatabaseError) as exc:
            self.message.setStyleSheet("color: #b00020;")
            self.message.setText(f"Could not save: {getattr(exc, 'message', exc)}")
            return None
        lists_changed = done.connection.lists != self.conn.lists
        self.conn = done.connection
        self.message.setStyleSheet("")
        self.message.setText(
            " ".join(done.notes) or "Saved. The new mapping applies from the next sync."
        )
        self.changed.emit(done.changes | Changes(lists=lists_changed))
        if lists_changed and done.connection.lists != ():
            self._offer_sync()
        return done.connection

    def _offer_sync(self) -> None:
        self.question = ask(
            self,
            "Sync now?",
            "The lists to sync changed. Sync now? (A full sync reads every chosen list.)",
            "Sync &now",
            lambda: self.sync_requested.emit(True),
            no="&Later",
        )

    # ----- disconnecting ----------------------------------------------------------------------
    def _confirm_disconnect(self) -> None:
        self.question = ask(
            self,
            "Disconnect Klaviyo",
            f"Disconnect from {self.conn.account_name}? Syncing stops and the key is removed "
            "from the keyring. Contacts already synced stay in Engage.",
            "&Disconnect",
            lambda: self.ctx.spawn(self.disconnect_account()),
            destructive=True,
        )

    async def disconnect_account(self) -> None:
        await self.ctx.write(self.ctx.actions.connection.disconnect)
        self.disconnected.emit()
        self.accept()
