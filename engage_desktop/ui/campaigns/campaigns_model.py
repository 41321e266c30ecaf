"""The campaigns, newest first, with their counts (a few hundred rows, held whole)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from PySide6.QtGui import QColor

from engage_desktop.storage.campaigns import Campaign
from engage_desktop.ui.widgets.read_only_table import RIGHT, Column, RowsTableModel


class CampaignRow(NamedTuple):
    """A campaign and its replies, as the table shows it."""

    campaign: Campaign
    replies: int


def _delivery(row: CampaignRow, *names: str) -> int:
    return sum(row.campaign.counts.delivery.get(n, 0) for n in names)


def _status(row: CampaignRow) -> str:
    c = row.campaign
    if c.counts.unknown:
        return f"{c.status.value} — {c.counts.unknown:,} to decide"
    return c.status.value


def _status_colour(row: CampaignRow) -> QColor | None:
    if row.campaign.counts.unknown:
        return QColor("#b00020")
    return QColor("#1b5e20") if row.campaign.status.value == "finished" else None


def _n(value: int) -> str:
    return f"{value:,}"


COLUMNS: tuple[Column[CampaignRow], ...] = (
    Column(
        "Sent",
        lambda r: datetime.fromtimestamp(r.campaign.created_at).strftime("%Y-%m-%d %H:%M"),
        sample="2026-12-31 23:59",
    ),
    Column("List", lambda r: r.campaign.list_name, stretch=1, sample="Klaviyo: VIP", shed=4),
    Column(
        "Message",
        lambda r: r.campaign.text.replace("\n", " "),
        tooltip=lambda r: r.campaign.text,
        stretch=3,
        sample="Hi {first_name}, 20% off",
        shed=5,
    ),
    Column("Status", _status, colour=_status_colour, sample="finished — 100 to decide"),
    Column("Recipients", lambda r: _n(r.campaign.counts.total), alignment=RIGHT, sample="100,000"),
    Column(
        "Submitted", lambda r: _n(r.campaign.counts.submitted), alignment=RIGHT, sample="100,000"
    ),
    Column(
        "Skipped",
        lambda r: _n(sum(r.campaign.counts.skipped.values())),
        alignment=RIGHT,
        sample="100,000",
        shed=1,
    ),
    Column("Delivered", lambda r: _n(_delivery(r, "delivered")), alignment=RIGHT, sample="100,000"),
    Column(
        "Failed",
        lambda r: _n(_delivery(r, "failed", "rejected", "expired") + r.campaign.counts.failed),
        alignment=RIGHT,
        sample="10,000",
        shed=1,
    ),
    Column("Replies", lambda r: _n(r.replies), alignment=RIGHT, sample="10,000", shed=1),
)


class CampaignsTableModel(RowsTableModel[CampaignRow]):
    """The newest campaigns."""

    columns = COLUMNS
