"""Replies as a table: when, from whom, what they said, whether it was an opt-out word."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtGui import QColor

from engage_desktop.storage.inbound import ReplyRow
from engage_desktop.ui.widgets.phone_text import phone_text
from engage_desktop.ui.widgets.read_only_table import Column, RowsTableModel


def _when(r: ReplyRow) -> str:
    at = r.received_at
    return "" if at is None else datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M")


COLUMNS: tuple[Column[ReplyRow], ...] = (
    Column("Received", _when, sample="2026-12-31 23:59"),
    Column("From", lambda r: phone_text(r.phone) if r.phone else "—", sample="+44 20 7946 0958"),
    Column("Reply", lambda r: r.content, tooltip=lambda r: r.content, stretch=3),
    Column(
        "Opt-out",
        lambda r: f"opted out ({r.keyword})" if r.keyword else "",
        colour=lambda r: QColor("#b00020") if r.keyword else None,
        sample="opted out (STOP)",
    ),
    Column(
        "Campaign",
        lambda r: "" if r.campaign_id is None else str(r.campaign_id),
        sample="Campaign",
        shed=1,
    ),
)


class RepliesTableModel(RowsTableModel[ReplyRow]):
    """The newest replies (a few hundred, held whole)."""

    columns = COLUMNS
