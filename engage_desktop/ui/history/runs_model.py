"""Sync history tables: the runs, and the issues of one run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtGui import QColor

from engage_desktop.core.runs import RUN_COUNTS
from engage_desktop.storage.runs import IssueRow, RunRecord
from engage_desktop.ui.widgets.read_only_table import Column, RowsTableModel, text_or_blank

STATUS_COLOURS = {
    "succeeded": QColor("#1b5e20"),
    "failed": QColor("#b00020"),
    "interrupted": QColor("#b00020"),
    "cancelled": QColor("#8a6d00"),
}


def _problem(run: RunRecord) -> str | None:
    """Every cell of a run tells what went wrong with it, if anything did."""
    return run.error or run.suspicious


def _run_column(header: str, text: Callable[[RunRecord], str | int]) -> Column[RunRecord]:
    return Column(header, text, tooltip=_problem)


def _count_column(count: str) -> Column[RunRecord]:
    return _run_column(count.replace("_", " ").capitalize(), lambda run: f"{run.counts[count]:,}")


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
    _run_column("Issues", lambda run: f"{run.issues:,}"),
)


def _issue_column(header: str, value: Callable[[IssueRow], object]) -> Column[IssueRow]:
    """A stored value as it is; the tooltip repeats it (values can be long)."""

    def text(issue: IssueRow) -> str:
        return text_or_blank(value(issue))

    return Column(header, text, tooltip=text)


ISSUE_COLUMNS: tuple[Column[IssueRow], ...] = (
    _issue_column("Klaviyo profile", lambda issue: issue.profile_id),
    _issue_column("Contact", lambda issue: issue.contact_id),
    _issue_column("Field", lambda issue: issue.field),
    _issue_column("Value", lambda issue: issue.value),
    _issue_column("Reason", lambda issue: issue.reason),
)


class RunsTableModel(RowsTableModel[RunRecord]):
    """Every run, newest first."""

    columns = RUN_COLUMNS

    def row_of(self, run_id: int) -> int | None:
        for row, run in enumerate(self.rows):
            if run.id == run_id:
                return row
        return None


class IssuesTableModel(RowsTableModel[IssueRow]):
    """The issues of one run, in the order they were found."""

    columns = ISSUE_COLUMNS
