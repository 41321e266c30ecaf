"""What the screens' read-only tables share: column objects, selectable rows, no editing.

As in Anki's browser table: a `Column` knows its header, its sort key and how to render a
row's cell in each role; a model's `data()` branches on the role and hands the row to the
column. Models differ only in where their rows come from (`row_for`). A column also knows
how it takes its width (`ColumnFitter`): tables never size by contents, which would read
every row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
)

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
    # Width by role: a fixed column fits `sample` (its longest usual value) and its header; a
    # column with a `stretch` shares what is left of the view's width, in that proportion,
    # and is never narrower than its header or its `sample` (if any).
    sample: str | None = None
    stretch: int = 0
    elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight
    # When even the narrowest columns do not fit: 0 always stays; higher numbers go first.
    shed: int = 0

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


CELL_PADDING = 10  # both sides of a cell's text, with room to breathe
STRETCH_MIN_CHARS = 10  # a shared column without a sample: this many average characters
_REFIT = {
    QEvent.Type.Resize,
    QEvent.Type.Show,
    QEvent.Type.StyleChange,
    QEvent.Type.FontChange,
    QEvent.Type.Polish,
}


class _ElidingDelegate(QStyledItemDelegate):
    """Elides one column its own way (a view has one elide mode for all its columns)."""

    def __init__(self, mode: Qt.TextElideMode, parent: QObject) -> None:
        super().__init__(parent)
        self.mode = mode

    def initStyleOption(self, option: QStyleOptionViewItem, index: Index) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = self.mode


class ColumnFitter(QObject):
    """Sizes a view's columns to the view's width by role, never by reading rows: fixed
    columns fit their sample and header, stretching ones share the rest (no horizontal
    scrolling); when even their narrowest do not fit, columns that may go are hidden."""

    def __init__(self, view: QTableView, columns: Sequence[Column[Any]]) -> None:
        super().__init__(view)
        self.view = view
        self.columns = columns
        self._heads: dict[int, int] = {}
        self._fitting = False
        header = view.horizontalHeader()
        header.setStretchLastSection(False)
        header.setTextElideMode(Qt.TextElideMode.ElideRight)
        fixed, shared = QHeaderView.ResizeMode.Fixed, QHeaderView.ResizeMode.Interactive
        for i, column in enumerate(columns):
            header.setSectionResizeMode(i, shared if column.stretch else fixed)
            if column.elide != view.textElideMode():
                view.setItemDelegateForColumn(i, _ElidingDelegate(column.elide, self))
        view.installEventFilter(self)
        view.viewport().installEventFilter(self)
        header.sortIndicatorChanged.connect(lambda *_: self.fit())
        self.fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _REFIT:
            self.fit()
        return False

    def _header_widths(self) -> list[int]:
        """Each header's text in full; only the sorted column needs room for the arrow (the
        header's own hint reserves it for every column, a third of a narrow column)."""
        header = self.view.horizontalHeader()
        arrow = header.isSortIndicatorShown()
        header.setSortIndicatorShown(False)
        for i in range(len(self.columns)):
            if not header.isSectionHidden(i):  # a hidden section has no hint: the last one
                self._heads[i] = header.sectionSizeHint(i)
        header.setSortIndicatorShown(arrow)
        widths = [self._heads.get(i, 0) for i in range(len(self.columns))]
        sorted_by = header.sortIndicatorSection()
        if arrow and 0 <= sorted_by < len(widths) and not header.isSectionHidden(sorted_by):
            widths[sorted_by] = header.sectionSizeHint(sorted_by)
        return widths

    def least(self) -> list[int]:
        """The narrowest each column may be: its header in full, and its sample."""
        metrics = self.view.fontMetrics()
        widths = []
        for column, head in zip(self.columns, self._header_widths(), strict=False):
            if column.sample is not None:
                content = metrics.horizontalAdvance(column.sample) + CELL_PADDING
            else:
                content = metrics.averageCharWidth() * STRETCH_MIN_CHARS if column.stretch else 0
            widths.append(max(head, content))
        return widths

    def fit(self) -> None:
        if self._fitting:  # hiding a column may resize the viewport: the outer call refits
            return
        self._fitting = True
        try:
            for _ in range(3):  # until the width it fitted is the width there is
                available = self.view.viewport().width()
                self._fit(available)
                if self.view.viewport().width() == available:
                    break
        finally:
            self._fitting = False

    def _fit(self, available: int) -> None:
        least = self.least()
        shown = list(range(len(self.columns)))
        for i in sorted(shown, key=lambda i: (-self.columns[i].shed, -i)):
            if sum(least[j] for j in shown) <= available or self.columns[i].shed == 0:
                break
            shown.remove(i)
        widths = {i: least[i] for i in shown}
        spare = available - sum(widths.values())
        sharing = [i for i in shown if self.columns[i].stretch] or shown[-1:]
        weights = sum(self.columns[i].stretch for i in sharing) or 1
        if spare > 0:
            for i in sharing:
                widths[i] += spare * (self.columns[i].stretch or 1) // weights
            widths[sharing[-1]] += available - sum(widths.values())  # what rounding left
        header = self.view.horizontalHeader()
        for i in range(len(self.columns)):
            header.setSectionHidden(i, i not in widths)
            if i in widths and header.sectionSize(i) != widths[i]:
                header.resizeSection(i, widths[i])


def row_view(model: QAbstractItemModel) -> QTableView:
    """A table showing `model` that selects one whole row at a time, without row numbers."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.verticalHeader().hide()
    return view
