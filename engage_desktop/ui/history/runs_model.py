"""Sync history tables: the runs, a run's identical problems, and its issues."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from engage_desktop.core.runs import RUN_COUNTS
from engage_desktop.core.sources import CSV, source_label
from engage_desktop.storage.runs import IssueDetail, IssueGroup, RunRecord
from engage_desktop.ui.widgets.phone_text import phone_text
from engage_desktop.ui.widgets.read_only_table import Column, RowsTableModel, text_or_blank

STATUS_COLOURS = {
    "succeeded": QColor("#1b5e20"),
    "failed": QColor("#b00020"),
    "interrupted": QColor("#b00020"),
    "cancelled": QColor("#8a6d00"),
    "running": QColor("#0b57d0"),
}
PLACEHOLDER_COLOUR = QColor("#6b6b6b")
RUNNING = "running"


def _problem(run: RunRecord) -> str | None:
    """Every cell of a run tells what went wrong with it, if anything did; an import's says
    which file went into which group."""
    if run.imported is not None:
        return f"Import of {run.imported}" + (f": {run.error}" if run.error else "")
    return run.error or run.suspicious


def _run_column(
    header: str, text: Callable[[RunRecord], str | int], sample: str, shed: int = 0
) -> Column[RunRecord]:
    return Column(header, text, tooltip=_problem, sample=sample, shed=shed)


def _so_far(number: Callable[[RunRecord], int]) -> Callable[[RunRecord], str]:
    """A count of a run; a running run's counts are written when it ends, so "—" until then."""
    return lambda run: "—" if run.status == RUNNING else f"{number(run):,}"


def _count_column(count: str) -> Column[RunRecord]:
    header = count.replace("_", " ").capitalize()
    # What a run changed stays in view; how it got there goes first when space is short.
    shed = {
        "unchanged": 4,
        "invalid": 3,
        "opted_out": 1,
        "fetched": 5,
        "requests": 6,
        "throttled": 6,
    }
    return _run_column(
        header, _so_far(lambda run: run.counts[count]), "100,000", shed.get(count, 0)
    )


def _kind(run: RunRecord) -> str:
    if run.imported is not None:
        return "CSV file"
    return "full" if run.full else "incremental"


def _duration(run: RunRecord) -> str:
    return "—" if run.ended_at is None else f"{run.ended_at - run.started_at:.1f} s"


RUN_COLUMNS: tuple[Column[RunRecord], ...] = (
    _run_column("#", lambda run: f"i{run.id}" if run.imported else run.id, "i9999"),
    Column(
        "Started",
        lambda run: datetime.fromtimestamp(run.started_at).strftime("%Y-%m-%d %H:%M"),
        tooltip=lambda run: datetime.fromtimestamp(run.started_at).strftime("%Y-%m-%d %H:%M:%S"),
        stretch=1,
        sample="2026-11-30 22:13",
    ),
    _run_column("Trigger", lambda run: run.trigger, "schedule", shed=2),
    _run_column("Kind", _kind, "incremental", 1),
    Column(
        "Status",
        lambda run: run.status + (" ⚠" if run.suspicious else ""),
        tooltip=_problem,
        colour=lambda run: STATUS_COLOURS.get(run.status),
        sample="interrupted ⚠",
    ),
    _run_column("Duration", _duration, "1,234.5 s"),
    *(_count_column(count) for count in RUN_COUNTS),
    _run_column("Issues", _so_far(lambda run: run.issues), "100,000"),
)


def _issue_column(
    header: str,
    value: Callable[[IssueDetail], object],
    *,
    stretch: int = 0,
    sample: str | None = None,
    shed: int = 0,
    elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
) -> Column[IssueDetail]:
    """A stored value as it is; the tooltip repeats it (values can be long)."""

    def text(issue: IssueDetail) -> str:
        return text_or_blank(value(issue))

    return Column(
        header, text, tooltip=text, stretch=stretch, sample=sample, shed=shed, elide=elide
    )


def _who(issue: IssueDetail) -> str:
    """The contact's name; what stands in for it says why there is none (an import's problem
    names its row in the file)."""
    if issue.contact_id is None:
        return issue.name or "(not a contact)"
    return issue.name or "(no name)"


def _who_tooltip(issue: IssueDetail) -> str:
    if issue.source == CSV and issue.contact_id is None:
        return f"{issue.name or 'A row'} of the imported file."
    record = (
        f"{source_label(issue.source)} profile {issue.profile_id}"
        if issue.source and issue.profile_id
        else "Found outside a source's records"
    )
    if issue.contact_id is None:
        return f"{record}: not a contact in Engage, so there is nothing to open."
    return f"{record}. Double-click or press Enter to open the contact."


ISSUE_COLUMNS: tuple[Column[IssueDetail], ...] = (
    Column(
        "Name",
        _who,
        tooltip=_who_tooltip,
        colour=lambda issue: None if issue.name else PLACEHOLDER_COLOUR,
        stretch=2,
    ),
    # As All Contacts shows it ("+1 415-555-0101"); the CSV keeps the stored number.
    _issue_column(
        "Phone",
        lambda issue: phone_text(issue.phone) if issue.phone else None,
        sample="+44 7700 900123",
        shed=1,
    ),
    _issue_column(
        "Email", lambda issue: issue.email, stretch=2, shed=2, elide=Qt.TextElideMode.ElideMiddle
    ),
    _issue_column("Field", lambda issue: issue.field, sample="Shoe size"),
    _issue_column("Value", lambda issue: issue.value, stretch=1, shed=3),
    _issue_column("Reason", lambda issue: issue.reason, stretch=3),
)


def group_text(group: IssueGroup) -> str:
    """ "727 × Shoe size: '12' is not an ISO 8601 date"; for several values, one as an example:
    "727 × Shoe size: not an ISO 8601 date (e.g. '12')"."""
    problem = group.example
    if group.values > 1 and group.problem != group.example:
        quoted = group.example.removesuffix(group.problem).removesuffix(" is ")
        problem = f"{group.problem} (e.g. {quoted})"
    about = f"{group.field}: {problem}" if group.field else problem
    return f"{group.issues:,} × {about}"


GROUP_COLUMNS: tuple[Column[IssueGroup], ...] = (
    Column("Problems", group_text, tooltip=group_text, stretch=1),
)


class RunsTableModel(RowsTableModel[RunRecord]):
    """Every run, newest first."""

    columns = RUN_COLUMNS

    def row_of(self, run_id: int) -> int | None:
        """The row of this sync run (imports number themselves apart)."""
        return self.row_of_key((False, run_id))

    def row_of_key(self, key: tuple[bool, int]) -> int | None:
        for row, run in enumerate(self.rows):
            if run.key == key:
                return row
        return None


class IssuesTableModel(RowsTableModel[IssueDetail]):
    """The issues of one run (or of one group of it), in the order they were found."""

    columns = ISSUE_COLUMNS


class IssueGroupsTableModel(RowsTableModel[IssueGroup]):
    """A run's identical problems, the most frequent first."""

    columns = GROUP_COLUMNS
