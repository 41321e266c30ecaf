"""Import page 1: the file, how it is written, and its first rows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWizardPage,
)

from engage_desktop.actions import ActionError
from engage_desktop.imports.preview import CsvPreview
from engage_desktop.ui.widgets.busy_bar import busy_bar

if TYPE_CHECKING:
    from engage_desktop.ui.imports.import_wizard import ImportWizard

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


def format_words(p: CsvPreview) -> str:
    """'UTF-8 (with byte-order mark), separated by semicolons, about 1,200 rows'."""
    f = p.format
    return (
        f"Encoding: {f.encoding_label} · Separator: {DELIMITERS.get(f.delimiter, f.delimiter)} "
        f"· about {p.estimated_rows:,} rows ({_size(f.size)})"
    )


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{max(n / 1e3, 0.1):.1f} KB"


COLUMN_MAX = 220  # a long value does not push the other columns away


class FilePage(QWizardPage):
    """Pick a CSV file (Browse…, or type its path and press Enter)."""

    def __init__(self, wizard: ImportWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._attempt = 0
        self.setTitle("Choose a file")
        self.setSubTitle(
            "A CSV file with a phone number on each row. Nothing is written until you press "
            "Import, after a dry run shows what would change."
        )
        self.path = QLineEdit(placeholderText="/path/to/contacts.csv")
        self.path.setAccessibleName("CSV file")
        self.browse = QPushButton("&Browse…")
        self.busy = busy_bar()
        self.format = QLabel()
        self.format.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.rows = QTableWidget()
        self.rows.setAccessibleName("First rows of the file")
        self.rows.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rows.setTabKeyNavigation(False)
        label = QLabel("&File:")
        label.setBuddy(self.path)
        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.busy)
        layout.addWidget(self.format)
        layout.addWidget(self.error)
        layout.addWidget(self.rows, 1)
        self.browse.clicked.connect(self._browse)
        self.path.returnPressed.connect(lambda: self.choose(Path(self.path.text().strip())))
        self.path.textEdited.connect(self._edited)

    def initializePage(self) -> None:
        self.path.setFocus()

    def isComplete(self) -> bool:
        p = self._wizard.preview
        return p is not None and str(p.path) == self.path.text().strip()

    def _edited(self) -> None:
        self._attempt += 1
        self._wizard.preview = None
        self.completeChanged.emit()

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Import contacts", str(Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(["CSV files (*.csv *.txt *.tsv)", "All files (*)"])
        dialog.fileSelected.connect(lambda path: self.choose(Path(path)))
        dialog.open()  # never a nested event loop under qasync
        self.file_dialog = dialog

    def choose(self, path: Path) -> None:
        """Read the file's preview off the GUI thread."""
        self.path.setText(str(path))
        self._attempt += 1
        self._wizard.tasks.spawn(self._read(self._attempt, path))

    async def _read(self, attempt: int, path: Path) -> None:
        self.busy.show()
        self.error.clear()
        self.format.setText("Reading the file…")
        try:
            preview = await self._wizard.ctx.read(self._wizard.ctx.actions.imports.preview, path)
        except ActionError as exc:
            if attempt == self._attempt:
                self.busy.hide()
                self.format.clear()
                self.error.setText(exc.message)
            return
        if attempt != self._attempt:
            return
        self.busy.hide()
        self._wizard.preview = preview
        self._wizard.path = path
        self.format.setText(format_words(preview))
        self._fill(preview)
        self.completeChanged.emit()

    def _fill(self, p: CsvPreview) -> None:
        header = list(p.format.header)
        self.rows.clear()
        self.rows.setColumnCount(len(header))
        self.rows.setHorizontalHeaderLabels(header)
        self.rows.setRowCount(len(p.rows))
        for r, cells in enumerate(p.rows):
            for c, text in enumerate(cells[: len(header)]):
                self.rows.setItem(r, c, QTableWidgetItem(text))
        # Rows are numbered as lines of the file (the header is line 1), as problems are.
        self.rows.setVerticalHeaderLabels([str(r + 2) for r in range(len(p.rows))])
        self.rows.resizeColumnsToContents()
        for c in range(len(header)):
            self.rows.setColumnWidth(c, min(self.rows.columnWidth(c), COLUMN_MAX))
