"""The Klaviyo lists as checkable rows with their profile counts."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt

from engage_desktop.core.words import plural
from engage_desktop.klaviyo.models import KlaviyoList
from engage_desktop.ui.widgets.read_only_table import Index

ID_ROLE = Qt.ItemDataRole.UserRole + 1
NAME_ROLE = Qt.ItemDataRole.UserRole + 2


class ListChoiceModel(QAbstractListModel):
    """Which lists are chosen; counts arrive one by one (Klaviyo allows 15 a minute)."""

    def __init__(self) -> None:
        super().__init__()
        self._lists: list[KlaviyoList] = []
        self._checked: set[str] = set()
        self._counts: dict[str, int] = {}
        self._locked = False  # "every list" ticks them all and freezes them

    # ----- Qt -----------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lists)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._lists):
            return None
        lst = self._lists[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{lst.name}    {self.count_text(lst.id)}"
        if role == Qt.ItemDataRole.CheckStateRole:
            on = self._locked or lst.id in self._checked
            return Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Klaviyo list {lst.name} (id {lst.id})"
        if role == ID_ROLE:
            return lst.id
        if role == NAME_ROLE:
            return lst.name
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
        if self._locked:
            return base
        return base | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid() or self._locked:
            return False
        list_id = self._lists[index.row()].id
        if Qt.CheckState(value) == Qt.CheckState.Checked:
            self._checked.add(list_id)
        else:
            self._checked.discard(list_id)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        return True

    # ----- ours ---------------------------------------------------------------------------
    def set_lists(self, lists: list[KlaviyoList]) -> None:
        self.beginResetModel()
        self._lists = sorted(lists, key=lambda x: x.name.lower())
        known = {x.id for x in lists}
        self._checked &= known
        self.endResetModel()

    def set_count(self, list_id: str, count: int) -> None:
        self._counts[list_id] = count
        for row, lst in enumerate(self._lists):
            if lst.id == list_id:
                idx = self.index(row)
                self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DisplayRole])

    def count_text(self, list_id: str) -> str:
        n = self._counts.get(list_id)
        return "counting…" if n is None else plural(n, "profile")

    def set_checked(self, ids: set[str]) -> None:
        self._checked = set(ids)
        self._changed_all()

    def set_locked(self, locked: bool) -> None:
        self._locked = locked
        self._changed_all()

    def _changed_all(self) -> None:
        if self._lists:
            self.dataChanged.emit(self.index(0), self.index(len(self._lists) - 1))

    def checked(self) -> tuple[str, ...]:
        """Chosen list ids, in display order."""
        return tuple(x.id for x in self._lists if self._locked or x.id in self._checked)

    def names(self) -> dict[str, str]:
        return {x.id: x.name for x in self._lists}

    def ids(self) -> list[str]:
        return [x.id for x in self._lists]

    def counts(self) -> dict[str, int]:
        return dict(self._counts)
