"""Sync history: runs (and CSV imports) above; below, the selected one's identical problems and
its issues, each naming its contact (a double click opens it), with CSV export, and what it
merged across sources."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.core.mapping import is_type_problem
from engage_desktop.core.sources import CSV, source_label
from engage_desktop.core.words import plural
from engage_desktop.storage.import_history import ImportHistory
from engage_desktop.storage.runs import IssueDetail, IssueGroup, RunRecord, RunRepo
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.history.history_chart import HistoryChart
from engage_desktop.ui.history.merge_panel import MergeReportPanel, sources_words
from engage_desktop.ui.history.runs_model import (
    GROUP_COLUMNS,
    ISSUE_COLUMNS,
    RUN_COLUMNS,
    RUNNING,
    IssueGroupsTableModel,
    IssuesTableModel,
    RunsTableModel,
    group_text,
)
from engage_desktop.ui.widgets.read_only_table import ColumnFitter, row_view

RUNS_SHOWN = 500


def _table(model: QAbstractItemModel) -> QTableView:
    view = row_view(model)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


class HistoryScreen(QWidget):
    """Every run with its counts and status; its issues, grouped, linked to contact and mapping."""

    contact_requested = Signal(int)  # contact id: show it in All Contacts
    mapping_requested = Signal(str)  # platform field: show its row in the mapping editor

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.repo = RunRepo(ctx.db)
        self.imports = ImportHistory(ctx.db)
        self.loading: asyncio.Task[None] | None = None
        self._shown: tuple[bool, int] | None = None  # whose groups the groups table holds
        self.runs = RunsTableModel()
        self.groups = IssueGroupsTableModel()
        self.issues = IssuesTableModel()
        self.chart = HistoryChart()
        self.runs_view = _table(self.runs)
        self.groups_view = _table(self.groups)
        self.groups_view.setWordWrap(False)  # one line a group; the tooltip has it whole
        self.groups_view.setToolTip("Select a problem to see only its issues.")
        self.issues_view = _table(self.issues)
        self.issues_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.detail = QLabel("Select a run to see its issues.")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export = QPushButton("&Export issues as CSV…")
        self.export.setEnabled(False)
        self.show_all = QPushButton("Show &all issues")
        self.show_all.setEnabled(False)
        self.fix_mapping = QPushButton()
        self.fix_mapping.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)

        # Groups beside the issues they filter, not above them: the runs table keeps its
        # height in a small window.
        groups_panel = QWidget()
        beside = QVBoxLayout(groups_panel)
        beside.setContentsMargins(0, 0, 0, 0)
        beside.addWidget(self.groups_view, 1)
        beside.addWidget(self.show_all)
        beside.addWidget(self.fix_mapping)
        issues_split = QSplitter(Qt.Orientation.Horizontal)
        issues_split.addWidget(groups_panel)
        issues_split.addWidget(self.issues_view)
        issues_split.setStretchFactor(0, 1)
        issues_split.setStretchFactor(1, 3)
        below = QWidget()
        lower = QVBoxLayout(below)
        lower.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(self.detail, 1)
        bar.addWidget(self.export)
        lower.addLayout(bar)
        # Issues, and what the run merged across sources (issue 14), one tab each.
        self.merge = MergeReportPanel(ctx)
        self.tabs = QTabWidget()
        self.tabs.addTab(issues_split, "&Issues")
        self.tabs.addTab(self.merge, "&Merge report")
        lower.addWidget(self.tabs, 1)
        lower.addWidget(self.status)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.chart)
        split.addWidget(self.runs_view)
        split.addWidget(below)
        split.setCollapsible(0, False)
        split.setStretchFactor(1, 1)
        split.setStretchFactor(2, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)

        # Sized by role to the view's width: no horizontal scrolling, the least needed go first.
        self.runs_fit = ColumnFitter(self.runs_view, RUN_COLUMNS)
        self.issues_fit = ColumnFitter(self.issues_view, ISSUE_COLUMNS)
        self.groups_fit = ColumnFitter(self.groups_view, GROUP_COLUMNS)
        self.runs_view.selectionModel().currentRowChanged.connect(self._run_chosen)
        self.groups_view.selectionModel().currentRowChanged.connect(self._group_chosen)
        # Enter or a double click (the platform's "activate") opens the issue's contact.
        self.issues_view.activated.connect(self._issue_activated)
        # The chart draws the syncs the table holds: no query of its own on the GUI thread.
        self.runs.modelReset.connect(
            lambda: self.chart.set_runs([r for r in self.runs.rows if r.imported is None])
        )
        self.chart.run_clicked.connect(self.show_run)
        self.export.clicked.connect(self._ask_export_path)
        self.show_all.clicked.connect(self.show_every_issue)
        self.fix_mapping.clicked.connect(self._fix_mapping)

    # ----- runs -----------------------------------------------------------------------------
    def reload(self) -> None:
        chosen = self.current()
        self.runs.set_rows(self._recent())
        if chosen is not None:
            row = self.runs.row_of_key(chosen.key)
            if row is not None:
                self.runs_view.setCurrentIndex(self.runs.index(row, 0))

    def _recent(self) -> list[RunRecord]:
        """Runs and imports, newest first."""
        both = self.repo.recent(RUNS_SHOWN) + self.imports.recent(RUNS_SHOWN)
        return sorted(both, key=lambda r: r.started_at, reverse=True)[:RUNS_SHOWN]

    def show_running(self, run_id: int) -> None:
        """A sync is under way (its progress names its run): list it, once, as running."""
        if self.runs.row_of(run_id) is None:
            self.reload()

    def show_run(self, run_id: int) -> None:
        """Select a run (a notification or the status panel links here)."""
        if self.runs.row_of(run_id) is None:  # newer than what is shown
            self.runs.set_rows(self._recent())
        row = self.runs.row_of(run_id)
        if row is not None:
            self.runs_view.setCurrentIndex(self.runs.index(row, 0))

    def current(self) -> RunRecord | None:
        """The selected run or import."""
        return self.runs.row_at(self.runs_view.currentIndex())

    def current_run(self) -> int | None:
        """The selected sync run's id (None for an import)."""
        chosen = self.current()
        return chosen.id if chosen is not None and chosen.imported is None else None

    def _repo(self, is_import: bool) -> RunRepo | ImportHistory:
        return self.imports if is_import else self.repo

    def current_group(self) -> IssueGroup | None:
        return self.groups.row_at(self.groups_view.currentIndex())

    def _run_chosen(self) -> None:
        chosen = self.current()
        self.chart.set_current(self.current_run())
        if chosen is not None:
            self.loading = self.ctx.spawn(self._show_run_issues(chosen.key))

    async def _show_run_issues(self, key: tuple[bool, int]) -> None:
        """A run can have 100,000 issues: they are read (and grouped) off the GUI thread."""
        is_import, run_id = key
        repo = self._repo(is_import)
        groups = await self.ctx.read(repo.issue_groups, run_id)
        issues = await self.ctx.read(repo.issue_details, run_id)
        run = repo.get(run_id)
        chosen = self.current()
        if run is None or chosen is None or chosen.key != key:
            return  # another run was chosen meanwhile
        # The same run read again (a reload after another run): its chosen group stays.
        keep = self.current_group() if key == self._shown else None
        self._shown = key
        self.groups.set_rows(groups)  # no group is current: every issue shows
        self.issues.set_rows(issues)
        self.export.setEnabled(bool(issues))
        self._group_shown(None)
        if keep in groups:
            self.groups_view.setCurrentIndex(self.groups.index(groups.index(keep), 0))
        if is_import:
            kept = f" (the first {len(issues):,} are kept)" if run.issues > len(issues) else ""
            problems = plural(run.issues, "problem")
            parts = [f"Import #{run.id} of {run.imported}: {run.status}, {problems}{kept}."]
        elif run.status == RUNNING:
            parts = [f"Run #{run.id} is running: its counts and issues show when it ends."]
        else:
            parts = [f"Run #{run.id}: {run.status}, {plural(len(issues), 'issue')}."]
        if run.suspicious:
            parts.append(f"Warning: {run.suspicious}")
        if run.error:
            parts.append(f"Error: {run.error}")
        per_source = (
            "" if is_import else sources_words(self.ctx.actions.sources.run_sources(run_id))
        )
        if per_source:
            parts.append(per_source + ".")
        self.detail.setText(" ".join(parts))
        await self.merge.load(run_id, is_import)

    # ----- groups -----------------------------------------------------------------------------
    def show_every_issue(self) -> None:
        self.groups_view.clearSelection()
        self.groups_view.setCurrentIndex(QModelIndex())  # no group: every issue

    def _group_chosen(self) -> None:
        chosen = self.current()
        if chosen is not None:
            self.loading = self.ctx.spawn(self._show_group(chosen, self.current_group()))

    async def _show_group(self, chosen: RunRecord, group: IssueGroup | None) -> None:
        issues = await self.ctx.read(
            self._repo(chosen.imported is not None).issue_details, chosen.id, group
        )
        now = self.current()
        if now is None or now.key != chosen.key or group != self.current_group():
            return  # another run or group was chosen meanwhile
        self.issues.set_rows(issues)
        self._group_shown(group)

    def _group_shown(self, group: IssueGroup | None) -> None:
        self.show_all.setEnabled(group is not None)
        fixable = group is not None and group.field is not None and is_type_problem(group.example)
        self.fix_mapping.setVisible(fixable)
        if group is not None and group.field is not None:
            self.fix_mapping.setText(f"&Fix the mapping of “{group.field}”…")
        self.status.setText(f"Showing only {group_text(group)}." if group is not None else "")

    def _fix_mapping(self) -> None:
        group = self.current_group()
        if group is not None and group.field is not None:
            self.mapping_requested.emit(group.field)

    # ----- one issue --------------------------------------------------------------------------
    def _issue_activated(self, index: QModelIndex) -> None:
        issue: IssueDetail | None = self.issues.row_at(index)
        if issue is None:
            return
        if issue.contact_id is None:
            who = (
                f"{source_label(issue.source)} profile {issue.profile_id}"
                if issue.source and issue.profile_id
                else f"{issue.name} of the imported file"
                if issue.source == CSV and issue.name
                else "This issue's record"
            )
            self.status.setText(f"{who} is not a contact in Engage: there is nothing to open.")
            return
        self.contact_requested.emit(issue.contact_id)

    # ----- export -----------------------------------------------------------------------------
    def _ask_export_path(self) -> None:
        chosen = self.current()
        if chosen is None:
            return
        name = (
            f"import-{chosen.id}-problems.csv"
            if chosen.imported
            else f"sync-{chosen.id}-issues.csv"
        )
        dialog = QFileDialog(self, "Export issues", str(Path.home() / name))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter("CSV files (*.csv)")
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(
            lambda path: self.ctx.spawn(self.export_csv(chosen, Path(path)))
        )
        dialog.open()
        self.file_dialog = dialog

    async def export_csv(self, chosen: RunRecord | int, path: Path) -> int:
        """Write the run's (or import's) issues to `path` off the GUI thread; says how it
        went. A number is a sync run's."""
        run = self.repo.get(chosen) if isinstance(chosen, int) else chosen
        if run is None:
            return 0
        try:
            n: int = await self.ctx.read(
                self._repo(run.imported is not None).export_issues_csv, run.id, path
            )
        except OSError as exc:
            self.status.setText(f"Could not write {path}: {exc.strerror or exc}.")
            return 0
        self.status.setText(f"Exported {plural(n, 'issue')} to {path}.")
        return n
