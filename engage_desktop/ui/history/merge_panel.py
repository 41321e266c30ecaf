"""Sync history → Merge report: what a run merged across sources, the field conflicts (the
value that won and its source) and the numbers sources read differently; export to CSV."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.actions import ActionError
from engage_desktop.actions.sources import MergeReportPage
from engage_desktop.core.sources import source_label
from engage_desktop.core.words import plural
from engage_desktop.storage.merge_report import MergeReportRow
from engage_desktop.storage.run_sources import RunSourceRow
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.widgets.phone_text import phone_text
from engage_desktop.ui.widgets.read_only_table import Column, ColumnFitter, RowsTableModel, row_view

KINDS = {"merged": "Merged", "conflict": "Conflict", "phone": "Number read differently"}
SHOWN = 1000  # rows shown; the export has them all


def _others(r: MergeReportRow) -> str:
    return "; ".join(
        f"{source_label(s)}: {v}" if v else source_label(s) for s, v in r.others.items()
    )


def _value(r: MergeReportRow) -> str:
    """A conflict's winning value; for a merge, the record that joined (by its id there)."""
    if r.kind == "merged":
        return f"{source_label(r.source or '')} record {r.value or ''} joined".strip()
    return r.value or ""


COLUMNS: tuple[Column[MergeReportRow], ...] = (
    Column("What", lambda r: KINDS.get(r.kind, r.kind), sample="Number read differently"),
    Column("Phone", lambda r: phone_text(r.phone) if r.phone else "—", sample="+44 7911 123 456"),
    Column("Field", lambda r: r.field or "", sample="First name"),
    Column("Value that won", _value, tooltip=lambda r: _value(r) or None, stretch=2),
    Column("From", lambda r: source_label(r.source) if r.source else "", sample="Mailjet"),
    Column("Other sources had", _others, tooltip=lambda r: _others(r) or None, stretch=3),
)


def sources_words(rows: list[RunSourceRow]) -> str:
    """'Klaviyo: succeeded (1,200 created, 3 updated); Mailjet: failed — why'."""
    parts = []
    for s in rows:
        counts = ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in s.counts.items() if n)
        text = f"{source_label(s.source)}: {s.status}"
        text += f" ({counts})" if counts else ""
        if s.issues:
            text += f", {plural(s.issues, 'issue')}"
        if s.error:
            text += f" — {s.error}"
        parts.append(text)
    return "; ".join(parts)


class MergeReportTableModel(RowsTableModel[MergeReportRow]):
    """A page of the report (up to SHOWN rows)."""

    columns = COLUMNS


class MergeReportPanel(QWidget):
    """The selected run's report: counts, a page of rows, Export."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.shown: tuple[bool, int] | None = None  # (an import, its number)
        self.model = MergeReportTableModel()
        self.view = row_view(self.model)
        self.view.setAccessibleName("Merge report")
        self.fitter = ColumnFitter(self.view, COLUMNS)
        self.summary = QLabel("Select a run to see what it merged.")
        self.summary.setWordWrap(True)
        self.export = QPushButton("E&xport merge report as CSV…")
        self.export.setEnabled(False)
        self.status = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.export)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        self.export.clicked.connect(self._ask_path)

    async def load(self, number: int, is_import: bool = False) -> None:
        """Read a run's (or an import's) report off the GUI thread."""
        key = (is_import, number)
        self.shown = key
        run_id, import_id = (None, number) if is_import else (number, None)
        page: MergeReportPage = await self.ctx.read(
            lambda: self.ctx.actions.sources.merge_report(run_id, import_id, limit=SHOWN)
        )
        if key != self.shown:
            return
        self.model.set_rows(page.rows)
        c = page.counts
        total = sum(c.values())
        self.summary.setText(
            f"{'Import' if is_import else 'Run'} #{number}: "
            f"{plural(c['merged'], 'contact')} merged across sources, "
            f"{plural(c['conflict'], 'field conflict')}, "
            f"{plural(c['phone'], 'number')} read differently."
            + (f" The first {SHOWN:,} rows are shown; the export has all." if total > SHOWN else "")
        )
        self.export.setEnabled(total > 0)
        self.status.clear()

    def _ask_path(self) -> None:
        if self.shown is None:
            return
        is_import, number = self.shown
        name = f"{'import' if is_import else 'sync'}-{number}-merge-report.csv"
        dialog = QFileDialog(self, "Export merge report", str(Path.home() / name))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter("CSV files (*.csv)")
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(
            lambda path: self.ctx.spawn(self.export_csv(number, Path(path), is_import))
        )
        dialog.open()
        self.file_dialog = dialog

    async def export_csv(self, number: int, path: Path, is_import: bool = False) -> int:
        run_id, import_id = (None, number) if is_import else (number, None)
        try:
            n = await self.ctx.read(
                lambda: self.ctx.actions.sources.export_merge_report(path, run_id, import_id)
            )
        except ActionError as exc:
            self.status.setText(exc.message)
            return 0
        self.status.setText(f"Exported {plural(n, 'row')} to {path}.")
        return n
