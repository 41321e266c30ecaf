"""Sync history tables: the runs, a run's identical problems, and its issues."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtGui import QColor

from engage_desktop.core.runs import RUN_COUNTS
from engage_desktop.core.sources import source_label
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
    """Every cell of a run tells what went wrong with it, if anything did."""
    return run.error or run.suspicious


def _run_column(header: str, text: Callable[[RunRecord], str | int]) -> Column[RunRecord]:
    return Column(header, text, tooltip=_problem)


def _so_far(number: Callable[[RunRecord], int]) -> Callable[[RunRecord], str]:
    """A count of a run; a running run's counts are written when it ends, so "—" until then."""
    return lambda run: "—" if run.status == RUNNING else f"{number(run):,}"


def _count_column(count: str) -> Column[RunRecord]:
    header = count.replace("_", " ").capitalize()
    return _run_column(header, _so_far(lambda run: run.counts[count]))


def _duration(run: RunRecord) -> str:
    return "—" if run.ended_at is None else f"{run.ended_at - run.started_at:.1f} s"


RUN_COLUMNS: tuple[Column[RunRecord], ...] = (
    _run_column("#", lambda run: run.id),
    _run_column(
        "Started", lambda run: datetime.fromtimestamp(run.started_at).strftime("%Y-%m-%d %H:%M:%S")
    ),
    _run_column("Trigger", lambda run: run.trigger),
    _run_column("Kind", lambda run: "full" if run.full else "incremental"),
    Column(
        "Status",
        lambda run: run.status + (" ⚠" if run.suspicious else ""),
        tooltip=_problem,
        colour=lambda run: STATUS_COLOURS.get(run.status),
    ),
    _run_column("Duration", _duration),
    *(_count_column(count) for count in RUN_COUNTS),
    _run_column("Issues", _so_far(lambda run: run.issues)),
)


def _issue_column(header: str, value: Callable[[IssueDetail], object]) -> Column[IssueDetail]:
    """A stored value as it is; the tooltip repeats it (values can be long)."""

    def text(issue: IssueDetail) -> str:
        return text_or_blank(value(issue))

    return Column(header, text, tooltip=text)


def _who(issue: IssueDetail) -> str:
    """The contact's name; what stands in for it says why there is none."""
    if issue.contact_id is None:
        return "(not a contact)"
    return issue.name or "(no name)"


def _who_tooltip(issue: IssueDetail) -> str:
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
    ),
    # As All Contacts shows it ("+1 415-555-0101"); the CSV keeps the stored number.
    _issue_column("Phone", lambda issue: phone_text(issue.phone) if issue.phone else None),
    _issue_column("Email", lambda issue: issue.email),
    _issue_column("Field", lambda issue: issue.field),
    _issue_column("Value", lambda issue: issue.value),
    _issue_column("Reason", lambda issue: issue.reason),
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
    Column(
        "Identical problems (select one to see only its issues)", group_text, tooltip=group_text
    ),
)


class RunsTableModel(RowsTableModel[RunRecord]):
    """Every run, newest first."""

    columns = RUN_COLUMNS

    def row_of(self, run_id: int) -> int | None:
        for row, run in enumerate(self.rows):
            if run.id == run_id:
                return row
        return None


class IssuesTableModel(RowsTableModel[IssueDetail]):
    """The issues of one run (or of one group of it), in the order they were found."""

    columns = ISSUE_COLUMNS


class IssueGroupsTableModel(RowsTableModel[IssueGroup]):
    """A run's identical problems, the most frequent first."""

    columns = GROUP_COLUMNS
