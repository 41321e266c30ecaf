"""The dry run's problem rows: line, column, value, why (up to 10,000 kept, all counted)."""

from __future__ import annotations

from engage_desktop.imports.rows import RowProblem
from engage_desktop.ui.widgets.read_only_table import RIGHT, Column, RowsTableModel

COLUMNS: tuple[Column[RowProblem], ...] = (
    Column("Line", lambda p: f"{p.line:,}", alignment=RIGHT, sample="1,000,000"),
    Column("Column", lambda p: p.column or "—", sample="Mobile number"),
    Column("Value", lambda p: p.value or "", tooltip=lambda p: p.value or None, stretch=1),
    Column("Why", lambda p: p.reason, tooltip=lambda p: p.reason, stretch=2),
)


class ProblemsTableModel(RowsTableModel[RowProblem]):
    """A few thousand rows at most: held whole."""

    columns = COLUMNS
