"""The field-mapping table: platform field ← Klaviyo field, with type, warnings and errors."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QApplication, QStyle

from engage_desktop.core.fields import FieldType
from engage_desktop.core.mapping import (
    STANDARD_ATTRIBUTES,
    MappingSpec,
    MappingWarning,
    mapping_row_errors,
    mapping_warnings,
    row_label,
)
from engage_desktop.core.setup import default_mappings
from engage_desktop.ui.widgets.read_only_table import Index

NAME, TYPE, PATH, NOTES = range(4)
HEADERS = ("Platform field", "Type", "Klaviyo field", "")
TYPE_LABELS = {FieldType.TEXT: "Text", FieldType.NUMBER: "Number", FieldType.DATE: "Date"}


@dataclass(frozen=True)
class MappingRow:
    """One row of the table: the mapping, and whether it is one of our contact columns."""

    spec: MappingSpec
    builtin: bool = False  # our contact columns: name and type fixed, the source can change


class Problem(NamedTuple):
    """One line of the editor's summary: the row, its words, and a fix one click applies."""

    row: int
    text: str  # "Shoe size ← properties.shoe: No Klaviyo field is named exactly …"
    error: bool  # errors block saving; warnings never do
    suggestion: str | None  # a Klaviyo field to use instead


class MappingTableModel(QAbstractTableModel):
    """Built-in rows first (read-only), then the person's own mappings (editable)."""

    def __init__(
        self,
        existing_fields: dict[str, FieldType] | None = None,
        source: str = "Klaviyo",
        builtin: bool = True,
        standard: tuple[str, ...] = STANDARD_ATTRIBUTES,
    ) -> None:
        super().__init__()
        # Another source (Mailjet) has no built-in rows: its names come from its own rules.
        self._defaults = list(default_mappings()) if builtin else []
        self._rows = [MappingRow(s, builtin=True) for s in self._defaults]
        self._builtin = len(self._rows)
        self.headers = (*HEADERS[:PATH], f"{source} field", *HEADERS[PATH + 1 :])
        self.existing = dict(existing_fields or {})
        self._sample: list[dict[str, Any]] = []
        self._known: list[str] = list(standard)
        self._warnings: dict[int, list[MappingWarning]] = {}
        self._errors: dict[int, list[str]] = {}
        self.sampled = False  # warnings need sampled profiles: none before the sample comes
        self._recheck()

    # ----- Qt -----------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section] if 0 <= section < len(self.headers) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, col = self._rows[index.row()], index.column()
        errors = self._errors.get(index.row(), [])
        warnings = [w.message for w in self._warnings.get(index.row(), [])]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == NAME:
                return row.spec.name
            if col == TYPE:
                return TYPE_LABELS[row.spec.type]
            if col == PATH:
                return row.spec.path
            if col == NOTES and role == Qt.ItemDataRole.DisplayRole:
                return self._note(index.row(), errors, warnings)
        if role == Qt.ItemDataRole.DecorationRole and col == NOTES:
            return self._icon(errors, warnings)
        if role == Qt.ItemDataRole.ToolTipRole:
            if row.builtin and not errors + warnings:
                default = self._defaults[index.row()].path
                return (
                    f"Built in: {row.spec.name} (text) is filled from {row.spec.path or default}."
                )
            return "\n".join(errors + warnings) or None
        if role == Qt.ItemDataRole.ForegroundRole:
            if row.builtin and col != PATH:
                return QColor("#6b6b6b")
            if col == NOTES and errors:
                return QColor("#b00020")
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        builtin = self._rows[index.row()].builtin
        if index.column() == NOTES or (builtin and index.column() != PATH):
            return base | Qt.ItemFlag.ItemNeverHasChildren
        return base | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemNeverHasChildren

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not (self.flags(index) & Qt.ItemFlag.ItemIsEditable):
            return False
        row = self._rows[index.row()]
        text = str(value)
        if index.column() == NAME:
            spec = replace(row.spec, name=text.strip())
            if spec.name in self.existing:  # an existing field keeps its type by default
                spec = replace(spec, type=self.existing[spec.name])
        elif index.column() == TYPE:
            by_label = {v.lower(): k for k, v in TYPE_LABELS.items()}
            spec = replace(row.spec, type=by_label.get(text.lower(), FieldType.TEXT))
        else:
            spec = replace(row.spec, path=text.strip())
        self._rows[index.row()] = replace(row, spec=spec)
        self._recheck()
        return True

    # ----- ours ---------------------------------------------------------------------------
    def add_row(self) -> int:
        """A new empty mapping; returns its row."""
        at = len(self._rows)
        self.beginInsertRows(QModelIndex(), at, at)
        self._rows.append(MappingRow(MappingSpec("", "")))
        self._check()  # before the views hear of the row: they read its problems at once
        self.endInsertRows()
        self._notes_changed()
        return at

    def remove_row(self, row: int) -> bool:
        if not self._builtin <= row < len(self._rows):
            return False
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self._check()  # problems are kept by row: none may point past the end
        self.endRemoveRows()
        self._notes_changed()
        return True

    def is_builtin(self, row: int) -> bool:
        return 0 <= row < self._builtin

    def set_mappings(self, specs: list[MappingSpec]) -> None:
        """Saved mappings: a built-in name changes that row's source; others add rows."""
        builtins = {s.name: s for s in specs if s.name in {d.name for d in self._defaults}}
        self.beginResetModel()
        self._rows = [
            MappingRow(replace(d, path=builtins[d.name].path) if d.name in builtins else d, True)
            for d in self._defaults
        ] + [MappingRow(s) for s in specs if s.name not in builtins]
        self._check()
        self.endResetModel()
        self._notes_changed()

    def mappings(self) -> list[MappingSpec]:
        """What to save: every own row, and each built-in row whose source was changed."""
        return [spec for _, spec in self._saved()]

    def _saved(self) -> list[tuple[int, MappingSpec]]:
        out = []
        for i, row in enumerate(self._rows):
            default = self._defaults[i].path if row.builtin else None
            if not row.builtin or row.spec.path != default:
                out.append((i, row.spec))
        return out

    def set_sample(self, sample: list[dict[str, Any]], known_paths: list[str]) -> None:
        self._sample = sample
        self._known = known_paths
        self.sampled = True
        self._recheck()

    @property
    def sample_size(self) -> int:
        return len(self._sample)

    def errors(self) -> list[str]:
        return [m for row in sorted(self._errors) for m in self._errors[row]]

    def warnings(self) -> list[str]:
        return [w.message for row in sorted(self._warnings) for w in self._warnings[row]]

    def problems(self) -> list[Problem]:
        """Every error, then every warning, each naming its row."""
        out = [
            Problem(row, f"{self.label(row)}: {message}", True, None)
            for row in sorted(self._errors)
            for message in self._errors[row]
        ]
        out += [
            Problem(row, f"{self.label(row)}: {w.message}", False, w.suggestion)
            for row in sorted(self._warnings)
            for w in self._warnings[row]
        ]
        return out

    def label(self, row: int) -> str:
        return row_label(self._rows[row].spec)

    def suggestion(self, row: int) -> str | None:
        """The Klaviyo field a warning of this row suggests instead ("Did you mean …")."""
        return next((w.suggestion for w in self._warnings.get(row, []) if w.suggestion), None)

    def apply_suggestion(self, row: int) -> bool:
        """Use the suggested Klaviyo field for this row (one click in the editor's summary)."""
        suggested = self.suggestion(row) if 0 <= row < len(self._rows) else None
        return suggested is not None and self.setData(self.index(row, PATH), suggested)

    def row_of_field(self, name: str) -> int | None:
        return next((i for i, row in enumerate(self._rows) if row.spec.name == name), None)

    def is_new_field(self, row: int) -> bool:
        name = self._rows[row].spec.name
        return bool(name) and not self._rows[row].builtin and name not in self.existing

    def _recheck(self) -> None:
        self._check()
        self._notes_changed()

    def _check(self) -> None:
        """Errors and warnings per row, for the rows as they are now."""
        saved = self._saved()
        self._errors = {}
        for i, message in mapping_row_errors([spec for _, spec in saved]):
            self._errors.setdefault(saved[i][0], []).append(message)
        self._warnings = {}
        checkable = [(row, spec) for row, spec in saved if spec.path]
        if self._sample:
            specs = [spec for _, spec in checkable]
            new = {self._rows[row].spec.name for row, _ in checkable if self.is_new_field(row)}
            for w in mapping_warnings(specs, self._sample, self._known, new):
                self._warnings.setdefault(checkable[w.row][0], []).append(w)

    def _notes_changed(self) -> None:
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, NOTES))

    def _note(self, index: int, errors: list[str], warnings: list[str]) -> str:
        if self._rows[index].builtin and not errors + warnings:
            changed = self._rows[index].spec.path != self._defaults[index].path
            return "built in (source changed)" if changed else "built in"
        problems = errors + warnings
        if problems:  # the cell is narrow: the first problem, and how many more the tooltip has
            more = len(problems) - 1
            return problems[0] + (f" (+{more} more)" if more else "")
        return "new field (created on save)" if self.is_new_field(index) else ""

    @staticmethod
    def _icon(errors: list[str], warnings: list[str]) -> QIcon | None:
        if not errors and not warnings:
            return None
        style = QApplication.style()
        kind = (
            QStyle.StandardPixmap.SP_MessageBoxCritical
            if errors
            else QStyle.StandardPixmap.SP_MessageBoxWarning
        )
        return style.standardIcon(kind)
