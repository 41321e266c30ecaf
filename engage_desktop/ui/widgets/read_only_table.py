"""What the screens' read-only tables share: column objects, selectable rows, no editing.

As in Anki's browser table: a `Column` knows its header, its sort key and how to render a
row's cell in each role; a model's `data()` branches on the role and hands the row to the
column. Models differ only in where their rows come from (`row_for`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QTableView

Index = QModelIndex | QPersistentModelIndex
Row = TypeVar("Row")
Role = Qt.ItemDataRole

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
# The roles a column answers. A view asks about ten roles per cell as it paints; the others
# are answered before any row is looked up.
CELL_ROLES = frozenset(
    int(role)
    for role in (
        Role.DisplayRole,
        Role.ToolTipRole,
        Role.ForegroundRole,
        Role.TextAlignmentRole,
    )
)


def _nothing(row: Any) -> None:
    return None


@dataclass(frozen=True)
class Column(Generic[Row]):
    """One column: its header, what it sorts by, and its cell for a row in each role."""

    header: str
    text: Callable[[Row], str | int]
    # What the model's query sorts by (the storage's name for it); None: not sortable.
    sort_key: str | None = None
    tooltip: Callable[[Row], str | None] = _nothing
    colour: Callable[[Row], QColor | None] = _nothing
    alignment: Qt.AlignmentFlag | None = None

    def cell(self, row: Row, role: int) -> Any:
        """The cell's data in `role`; None for roles this column leaves to the view."""
        if role == Role.DisplayRole:
            return self.text(row)
        if role == Role.ToolTipRole:
            return self.tooltip(row)
        if role == Role.ForegroundRole:
            return self.colour(row)
        if role == Role.TextAlignmentRole and self.alignment is not None:
            return int(self.alignment)
        return None


class ReadOnlyTableModel(QAbstractTableModel, Generic[Row]):
    """Headers and cells from `columns`; rows from a subclass's `rowCount` and `row_for`."""

    columns: Sequence[Column[Row]] = ()
    # Shown in the first column for a row that went away since the model was filled.
    gone_text: str | None = None

    def row_for(self, row: int) -> Row | None:
        """The row at this position (0 <= row < rowCount); None if it went away."""
        raise NotImplementedError

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Role.DisplayRole and 0 <= section < len(self.columns):
            return self.columns[section].header
        return None

    def data(self, index: Index, role: int = Role.DisplayRole) -> Any:
        if role not in CELL_ROLES or not index.isValid():
            return None
        if not 0 <= index.row() < self.rowCount():
            return None
        row = self.row_for(index.row())
        if row is None:
            first = index.column() == 0 and role == Role.DisplayRole
            return self.gone_text if first else None
        return self.columns[index.column()].cell(row, role)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def sort_key(self, column: int) -> str | None:
        """What sorting by this column means to the query; None: not sortable."""
        return self.columns[column].sort_key if 0 <= column < len(self.columns) else None


class RowsTableModel(ReadOnlyTableModel[Row]):
    """A small table held whole (a few hundred rows), replaced on each refresh."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def row_for(self, row: int) -> Row | None:
        return self.rows[row]

    def row_at(self, index: Index) -> Row | None:
        """The row an index points at; None for an invalid or stale index."""
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        return self.rows[index.row()]

    def set_rows(self, rows: list[Row]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()


def text_or_blank(value: object) -> str:
    """A stored value as a cell shows it: '' for NULL."""
    return "" if value is None else str(value)


def row_view(model: QAbstractItemModel) -> QTableView:
    """A table showing `model` that selects one whole row at a time, without row numbers."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.verticalHeader().hide()
    return view
