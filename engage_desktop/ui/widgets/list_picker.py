"""Choosing the Klaviyo lists to sync: checkboxes with counts, a filter, select all / none, and
the estimated first-sync time."""

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
from engage_desktop.klaviyo.errors import KlaviyoError
from engage_desktop.sync.setup import KlaviyoSetup
from engage_desktop.ui.widgets.list_choice_model import NAME_ROLE, ListChoiceModel


class ListPicker(QWidget):
    """Checkable Klaviyo lists; `selection_changed` whenever the choice changes."""

    selection_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        self.select_none = QPushButton("Select &none")
        self.view = QListView()
        self.view.setModel(self._proxy)
        self.view.setUniformItemSizes(True)
        self.status = QLabel("Loading your Klaviyo lists…")
        self.status.setWordWrap(True)
        self.retry = QPushButton("&Retry")
        self.retry.hide()
        self.estimate = QLabel()
        self.estimate.setWordWrap(True)

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
        self.status.setText(f"{len(lists)} lists in your Klaviyo account.")
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
        if len(known) < len(chosen):
            self.estimate.setText(
                f"{len(chosen)} lists chosen. Estimated first sync: counting list sizes…"
            )
            return
        seconds = first_sync_seconds(known, self.every_list())
        self.estimate.setText(
            f"{len(chosen)} list{'s' if len(chosen) != 1 else ''} chosen, "
            f"{sum(known):,} memberships. Estimated first sync: {describe(seconds)} "
            f"(Klaviyo's rate limits)."
        )
