"""Choosing the Klaviyo lists to sync: checkboxes with counts, a filter, select / deselect all,
and how long syncing them takes."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.core.estimates import describe, first_sync_seconds
from engage_desktop.core.setup import VerifiedKey
from engage_desktop.core.words import plural
from engage_desktop.klaviyo.errors import KlaviyoError
from engage_desktop.sync.setup import KlaviyoSetup
from engage_desktop.ui.widgets.list_choice_model import NAME_ROLE, ListChoiceModel


class ListPicker(QWidget):
    """Checkable Klaviyo lists; `selection_changed` whenever the choice changes."""

    selection_changed = Signal()

    def __init__(self, first_sync: bool = True, parent: QWidget | None = None) -> None:
        """`first_sync`: the wizard's picker (the estimate is of the first sync); otherwise See
        details', where a sync of the chosen lists is estimated."""
        super().__init__(parent)
        self._first_sync = first_sync
        self.model = ListChoiceModel()
        self._proxy = QSortFilterProxyModel(self)  # a few hundred lists at most
        self._proxy.setSourceModel(self.model)
        self._proxy.setFilterRole(NAME_ROLE)
        self._proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._loaded = False

        self.every = QCheckBox("Sync &every list, including lists created later")
        self.filter = QLineEdit(placeholderText="Filter lists by name")
        self.filter.setClearButtonEnabled(True)
        self.select_all = QPushButton("Select &all")
        self.select_none = QPushButton("&Deselect all")
        self.view = QListView()
        self.view.setModel(self._proxy)
        self.view.setUniformItemSizes(True)
        self.status = QLabel("Loading your Klaviyo lists…")
        self.status.setWordWrap(True)
        self.retry = QPushButton("Try a&gain")
        self.retry.hide()
        self.estimate = QLabel()
        self.estimate.setWordWrap(True)
        # Contact Lists shows both numbers; people ask why they differ.
        self.counts_note = QLabel(
            "Sizes are Klaviyo's profile counts. A list can have fewer members in Engage: "
            "profiles that share a phone number become one contact."
        )
        self.counts_note.setWordWrap(True)
        self.counts_note.setStyleSheet("color: #6b6b6b;")

        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.select_all)
        top.addWidget(self.select_none)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.retry)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.every)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)
        layout.addWidget(self.counts_note)
        layout.addWidget(self.estimate)

        self.filter.textChanged.connect(self._proxy.setFilterFixedString)
        self.select_all.clicked.connect(lambda: self._check_visible(True))
        self.select_none.clicked.connect(lambda: self._check_visible(False))
        self.every.toggled.connect(self._every_toggled)
        self.model.dataChanged.connect(self._changed)
        self.model.modelReset.connect(self._changed)

    # ----- loading --------------------------------------------------------------------------
    async def load(
        self, setup: KlaviyoSetup, verified: VerifiedKey, cached: dict[str, int] | None = None
    ) -> bool:
        """Read the lists, then their sizes one by one (cached sizes show at once)."""
        self.retry.hide()
        self.status.setText("Loading your Klaviyo lists…")
        try:
            lists = await setup.lists(verified)
        except KlaviyoError as exc:
            self.status.setText(f"Could not read your lists: {exc.user_message}")
            self.retry.show()
            return False
        self.model.set_lists(lists)
        self._loaded = True
        if not lists:
            self.status.setText("This Klaviyo account has no lists yet: create one in Klaviyo.")
            return True
        self.status.setText(f"{plural(len(lists), 'list')} in your Klaviyo account.")
        for list_id, n in (cached or {}).items():
            self.model.set_count(list_id, n)
        for list_id in self.model.ids():
            if list_id in (cached or {}):
                continue
            try:
                self.model.set_count(list_id, await setup.count(verified, list_id))
            except KlaviyoError as exc:
                self.status.setText(f"Could not count every list: {exc.user_message}")
                break
        return True

    @property
    def loaded(self) -> bool:
        return self._loaded

    # ----- the choice -----------------------------------------------------------------------
    def set_selection(self, lists: tuple[str, ...] | None) -> None:
        """None: every list; otherwise these ids."""
        self.every.setChecked(lists is None)
        self.model.set_checked(set(lists or ()))

    def every_list(self) -> bool:
        return self.every.isChecked()

    def chosen(self) -> tuple[str, ...]:
        return self.model.checked()

    def _check_visible(self, on: bool) -> None:
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        for row in range(self._proxy.rowCount()):
            self._proxy.setData(self._proxy.index(row, 0), state, Qt.ItemDataRole.CheckStateRole)

    def _every_toggled(self, on: bool) -> None:
        self.model.set_locked(on)
        for w in (self.select_all, self.select_none):
            w.setEnabled(not on)
        self._changed()

    def _changed(self) -> None:
        self._update_estimate()
        self.selection_changed.emit()

    def _update_estimate(self) -> None:
        chosen = self.chosen()
        if not chosen:
            self.estimate.setText("No list chosen.")
            return
        counts = self.model.counts()
        known = [counts[i] for i in chosen if i in counts]
        lists = plural(len(chosen), "list")
        if len(known) < len(chosen):
            self.estimate.setText(f"{lists} chosen. {self._duration('counting list sizes…')}")
            return
        took = describe(first_sync_seconds(known, self.every_list()))
        # A profile on two lists is counted by both: the sum is an upper bound.
        self.estimate.setText(
            f"{lists} chosen, up to {plural(sum(known), 'profile')}. "
            f"{self._duration(took)} (Klaviyo's rate limits)."
        )

    def _duration(self, took: str) -> str:
        """The wizard speaks of the first sync; See details of syncing the lists again."""
        if self._first_sync:
            return f"Estimated first sync: {took}"
        return f"A full sync of these lists: {took}"
