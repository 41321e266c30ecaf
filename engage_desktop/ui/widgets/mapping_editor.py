"""The field-mapping editor: the table, "+ Map more fields", completers and the summary line."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QAbstractItemModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.core.fields import FieldType
from engage_desktop.core.mapping import STANDARD_ATTRIBUTES, MappingSpec, discovered_paths
from engage_desktop.core.words import plural
from engage_desktop.ui.widgets.mapping_model import (
    NAME,
    PATH,
    TYPE,
    TYPE_LABELS,
    MappingTableModel,
    Problem,
)
from engage_desktop.ui.widgets.read_only_table import Column, ColumnFitter, Index

COMPLETION_ROLE = Qt.ItemDataRole.UserRole + 1


class _MappingDelegate(QStyledItemDelegate):
    """Editors per column: field names and Klaviyo paths with completers, a type combo box."""

    def __init__(self, editor: MappingEditor) -> None:
        super().__init__(editor)
        self._editor = editor

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        if index.column() == TYPE:
            box = QComboBox(parent)
            box.addItems(list(TYPE_LABELS.values()))
            return box
        line = QLineEdit(parent)
        completer = QCompleter(
            self._editor.path_choices if index.column() == PATH else self._editor.field_choices,
            line,
        )
        completer.setCompletionRole(COMPLETION_ROLE)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        # The popup is as wide as the cell by default, which cuts "(seen on 3 of 50 sampled)".
        popup = completer.popup()
        if popup is not None:
            popup.setMinimumWidth(_popup_width(popup, completer.model()))
        line.setCompleter(completer)
        return line

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        value = str(index.data(Qt.ItemDataRole.EditRole) or "")
        if isinstance(editor, QComboBox):
            editor.setCurrentText(value)
        elif isinstance(editor, QLineEdit):
            editor.setText(value)

    def setModelData(self, editor: QWidget, model: Any, index: Index) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText())
        elif isinstance(editor, QLineEdit):
            model.setData(index, editor.text())


def _popup_width(popup: QAbstractItemView, choices: QAbstractItemModel) -> int:
    """Wide enough for the longest choice, its scroll bar and margins (within the screen)."""
    metrics = popup.fontMetrics()
    texts = (str(choices.index(r, 0).data()) for r in range(choices.rowCount()))
    longest = max((metrics.horizontalAdvance(text) for text in texts), default=0)
    screen = popup.screen().availableGeometry().width() if popup.screen() else 1600
    return min(longest + popup.verticalScrollBar().sizeHint().width() + 32, screen - 40)


class MappingEditor(QWidget):
    """Edits the custom mappings; `changed` whenever rows, warnings or errors change."""

    changed = Signal()

    def __init__(
        self,
        existing_fields: dict[str, FieldType] | None = None,
        parent: QWidget | None = None,
        source: str = "Klaviyo",
        builtin: bool = True,
        standard: tuple[str, ...] = STANDARD_ATTRIBUTES,
    ) -> None:
        super().__init__(parent)
        self.source = source
        self.standard = standard
        self.noun = "profile" if source == "Klaviyo" else "contact"
        self.model = MappingTableModel(existing_fields, source, builtin, standard)
        self.path_choices = QStandardItemModel(self)
        self.field_choices = QStandardItemModel(self)
        self._fill_fields(existing_fields or {})
        self.set_discovered({}, 0)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegate(_MappingDelegate(self))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.table.verticalHeader().hide()
        # Sized by role to the table's width, so Notes (the warnings) is never off-screen.
        self.fitter = ColumnFitter(
            self.table,
            (
                Column("Platform field", str, stretch=2, sample="Platform field"),
                Column("Type", str, sample="Number"),
                Column(f"{source} field", str, stretch=3),
                Column("Notes", str, stretch=3),
            ),
        )
        self.table.setTabKeyNavigation(False)  # Tab leaves the table, arrows move in it

        self.add = QPushButton("+ &Map more fields")
        self.remove = QPushButton("&Remove mapping")
        self.remove.setEnabled(False)
        # Every problem is listed (several rows can have one); a suggested Klaviyo field is a
        # link that applies it. The list scrolls rather than pushing the table away.
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        summary_area = QScrollArea()
        summary_area.setWidget(self.summary)
        summary_area.setWidgetResizable(True)
        summary_area.setFrameShape(QFrame.Shape.NoFrame)
        summary_area.setMaximumHeight(130)
        summary_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the links themselves
        # The problems read as part of the page, not as a box of their own.
        summary_area.viewport().setAutoFillBackground(False)
        self.summary.setAutoFillBackground(False)
        self.sample_note = QLabel(f"Waiting for sampled {self.noun}s to check the {source} fields…")
        self.sample_note.setWordWrap(True)

        buttons = QHBoxLayout()
        buttons.addWidget(self.add)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.sample_note)
        layout.addWidget(summary_area)

        self.add.clicked.connect(self.add_mapping)
        self.remove.clicked.connect(self.remove_selected)
        self.summary.linkActivated.connect(self._link_activated)
        QShortcut(QKeySequence.StandardKey.Delete, self.table, self.remove_selected)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.model.dataChanged.connect(self._model_changed)
        self.model.rowsInserted.connect(self._model_changed)
        self.model.rowsRemoved.connect(self._model_changed)
        self.model.modelReset.connect(self._model_changed)
        self._model_changed()

    # ----- actions -------------------------------------------------------------------------
    def add_mapping(self) -> None:
        row = self.model.add_row()
        index = self.model.index(row, NAME)
        self.table.setCurrentIndex(index)
        self.table.edit(index)

    def remove_selected(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self.model.remove_row(index.row())

    def select_field(self, name: str) -> bool:
        """Show a platform field's row, its Klaviyo field current (the history links here)."""
        row = self.model.row_of_field(name)
        if row is None:
            return False
        index = self.model.index(row, PATH)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)
        self.table.setFocus()
        return True

    def _link_activated(self, href: str) -> None:
        kind, _, row = href.partition(":")
        if kind == "use" and row.isdigit():
            self.model.apply_suggestion(int(row))

    def _selection_changed(self) -> None:
        index = self.table.currentIndex()
        self.remove.setEnabled(index.isValid() and not self.model.is_builtin(index.row()))

    # ----- data ----------------------------------------------------------------------------
    def set_mappings(self, specs: list[MappingSpec]) -> None:
        self.model.set_mappings(specs)

    def mappings(self) -> list[MappingSpec]:
        return self.model.mappings()

    def set_sample(self, sample: list[dict[str, Any]]) -> None:
        """Profiles sampled from the chosen lists: feeds completions and warnings."""
        seen = discovered_paths(sample)
        self.set_discovered(seen, len(sample))
        self.model.set_sample(sample, [*self.standard, *seen])
        self.sample_note.setText(
            f"{self.source} fields found by sampling {plural(len(sample), self.noun)} of the "
            f"chosen lists: {plural(len(seen), 'custom property')}."
            if sample
            else f"No {self.noun}s to sample: type the {self.source} field names exactly."
        )

    def set_discovered(self, seen: dict[str, int], sampled: int) -> None:
        self.path_choices.clear()
        for path in self.standard:
            self._choice(self.path_choices, path, f"{path}    (standard attribute)")
        for path, n in seen.items():
            self._choice(self.path_choices, path, f"{path}    (seen on {n} of {sampled} sampled)")

    def _fill_fields(self, existing: dict[str, FieldType]) -> None:
        for name, kind in existing.items():
            self._choice(self.field_choices, name, f"{name}    ({TYPE_LABELS[kind]})")

    @staticmethod
    def _choice(model: QStandardItemModel, value: str, shown: str) -> None:
        item = QStandardItem(shown)
        item.setData(value, COMPLETION_ROLE)
        model.appendRow(item)

    def refresh(self) -> None:
        """Say the problems again (after the model was given a sample directly)."""
        self._model_changed()

    def warning_lines(self) -> list[str]:
        """The unresolved warnings, one line each (the wizard's Finish page repeats them)."""
        return [p.text for p in self.model.problems() if not p.error]

    def _model_changed(self, *_: object) -> None:
        problems = self.model.problems()
        errors = [p for p in problems if p.error]
        warnings = [p for p in problems if not p.error]
        parts = []
        if errors:
            parts.append(
                f"<span style='color:#b00020'>{plural(len(errors), 'error')} to fix:</span>"
                + _items(errors)
            )
        if warnings:
            parts.append(
                f"{plural(len(warnings), 'warning')} (you can still continue):" + _items(warnings)
            )
        self.summary.setText("".join(parts) or self._all_clear())
        self.changed.emit()

    def _all_clear(self) -> str:
        """Only a sample can show that the Klaviyo fields exist and their values fit."""
        src, noun = self.source, self.noun
        if not self.model.sampled:
            return f"No errors. Warnings about {src} fields appear once {noun}s are sampled."
        if not self.model.sample_size:
            return f"No errors. With no sampled {noun}s, the {src} fields could not be checked."
        return f"No problems found in {plural(self.model.sample_size, 'sampled ' + noun)}."


def _items(problems: list[Problem]) -> str:
    """Problems as an HTML list; a suggested field is a link that applies it."""
    items = []
    for p in problems:
        text = html.escape(p.text)
        if p.suggestion:
            text += f" <a href='use:{p.row}'>Use “{html.escape(p.suggestion)}”</a>"
        items.append(f"<li>{text}</li>")
    return f"<ul style='margin-top:0; margin-bottom:0'>{''.join(items)}</ul>"
