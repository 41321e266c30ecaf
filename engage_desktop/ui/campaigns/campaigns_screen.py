"""Campaigns: every campaign with its numbers; the chosen one's recipients (filtered by
status, lazily), its replies, and unknown recipients waiting for a decision. Inbox: every
reply, newest first."""

from __future__ import annotations

import asyncio
from array import array

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.storage.campaign_batches import UnknownBatch
from engage_desktop.storage.campaigns import Campaign
from engage_desktop.storage.inbound import ReplyRow
from engage_desktop.ui.campaigns.campaign_summary import CampaignSummary
from engage_desktop.ui.campaigns.campaigns_model import CampaignRow, CampaignsTableModel
from engage_desktop.ui.campaigns.recipients_model import RecipientsTableModel
from engage_desktop.ui.campaigns.replies_model import RepliesTableModel
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.widgets.read_only_table import ColumnFitter, row_view

FILTERS = (
    ("Every recipient", None),
    ("Waiting", "pending"),
    ("Submitted", "submitted"),
    ("Delivered", "delivered"),
    ("Failed, rejected or refused", "undelivered"),
    ("Unknown — needs a decision", "unknown"),
    ("Skipped", "skipped"),
)
RELOAD_AFTER_MS = 1000  # events while sending arrive 4 times a second: reload at most once


class CampaignsScreen(QWidget):
    """Lists campaigns; shows the chosen one; asks the app for decisions and resumes."""

    decision_requested = Signal(int, bool)  # campaign id, resend
    resume_requested = Signal(int)
    contact_requested = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.views = ctx.actions.sending.views()
        self.sending: set[int] = set()
        self.model = CampaignsTableModel()
        self.table = row_view(self.model)
        self.table.setAccessibleName("Campaigns")
        self.summary = CampaignSummary()
        self.filter = QComboBox()
        self.filter.setAccessibleName("Show recipients")
        for label, key in FILTERS:
            self.filter.addItem(label, key)
        self.recipients = RecipientsTableModel(self._rows_by_id)
        self.recipient_table = row_view(self.recipients)
        self.recipient_table.setAccessibleName("Recipients")
        self.recipient_table.verticalHeader().setDefaultSectionSize(24)
        self.campaign_replies = RepliesTableModel()
        self.replies_table = row_view(self.campaign_replies)
        self.inbox = RepliesTableModel()
        self.inbox_table = row_view(self.inbox)
        self.inbox_table.setAccessibleName("Inbox")
        self.fitters = [
            ColumnFitter(self.table, self.model.columns),
            ColumnFitter(self.recipient_table, self.recipients.columns),
            ColumnFitter(self.replies_table, self.campaign_replies.columns),
            ColumnFitter(self.inbox_table, self.inbox.columns),
        ]
        self.empty = QLabel(
            "No campaigns yet. Write one under <b>New Message</b>; it appears here with each "
            "recipient's status."
        )
        self.empty.setWordWrap(True)
        show = QLabel("S&how:")
        show.setBuddy(self.filter)
        self.shown = QLabel()
        filter_row = QHBoxLayout()
        filter_row.addWidget(show)
        filter_row.addWidget(self.filter)
        filter_row.addWidget(self.shown, 1)
        self.detail_tabs = QTabWidget()
        people = QWidget()
        people_layout = QVBoxLayout(people)
        people_layout.addLayout(filter_row)
        people_layout.addWidget(self.recipient_table, 1)
        self.detail_tabs.addTab(people, "R&ecipients")
        self.detail_tabs.addTab(self.replies_table, "Re&plies")
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.summary)
        detail_layout.addWidget(self.detail_tabs, 1)
        self.split = split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(detail)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        campaigns = QWidget()
        campaigns_layout = QVBoxLayout(campaigns)
        campaigns_layout.addWidget(self.empty)
        campaigns_layout.addWidget(split, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(campaigns, "&Campaigns")
        self.tabs.addTab(self.inbox_table, "&Inbox")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_AFTER_MS)
        self._reload_timer.timeout.connect(self.reload)
        self._detail_generation = 0
        self._stale = False
        self.loading: asyncio.Task[None] | None = None
        self.detail_loading: asyncio.Task[None] | None = None
        self.campaign_id: int | None = None
        self.table.selectionModel().currentRowChanged.connect(self._chosen)
        self.filter.currentIndexChanged.connect(lambda _: self.reload_detail(keep_rows=False))
        self.summary.decision_requested.connect(self.decision_requested)
        self.summary.resume_requested.connect(self.resume_requested)
        self.recipient_table.doubleClicked.connect(self._open_recipient)
        self.inbox_table.doubleClicked.connect(lambda i: self._open_reply(self.inbox, i))
        self.replies_table.doubleClicked.connect(
            lambda i: self._open_reply(self.campaign_replies, i)
        )
        for view in (self.inbox_table, self.replies_table):
            view.setToolTip("Double-click a reply to open its contact.")
        self.summary.show_campaign(None, 0, [], False)
        self.split.hide()  # until there is a campaign

    # ----- loading ---------------------------------------------------------------------------
    def reload_soon(self) -> None:
        """While a send runs: reload at most once a second, and only while on screen (a
        hidden screen reloads when it is shown)."""
        if not self.isVisible():
            self._stale = True
            return
        if not self._reload_timer.isActive():
            self._reload_timer.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.reload()

    def reload(self) -> asyncio.Task[None]:
        self.loading = self.ctx.spawn(self._reload())
        return self.loading

    async def _reload(self) -> None:
        campaigns: list[Campaign] = await self.ctx.read(self.ctx.actions.sending.campaigns, 200)
        replies: dict[int, int] = await self.ctx.read(self.views.reply_counts)
        inbox: list[ReplyRow] = await self.ctx.read(self.ctx.actions.replies.recent, 500)
        keep = self.campaign_id
        self.model.set_rows([CampaignRow(c, replies.get(c.id, 0)) for c in campaigns])
        self.inbox.set_rows(inbox)
        self.tabs.setTabText(1, f"&Inbox ({len(inbox):,})" if inbox else "&Inbox")
        self.empty.setVisible(not campaigns)
        self.split.setVisible(bool(campaigns))
        row = next((i for i, c in enumerate(campaigns) if c.id == keep), 0 if campaigns else -1)
        if row >= 0:
            self.table.selectRow(row)
            if campaigns[row].id == keep:
                await self._load_detail(keep_rows=True)

    def select_campaign(self, campaign_id: int) -> None:
        self.campaign_id = campaign_id
        for i, row in enumerate(self.model.rows):
            if row.campaign.id == campaign_id:
                self.table.selectRow(i)
                return

    def _chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.row_at(current)
        if row is None:
            return
        changed = row.campaign.id != self.campaign_id
        self.campaign_id = row.campaign.id
        if changed:
            self.reload_detail(keep_rows=False)

    def reload_detail(self, keep_rows: bool = True) -> asyncio.Task[None]:
        self.detail_loading = self.ctx.spawn(self._load_detail(keep_rows))
        return self.detail_loading

    async def _load_detail(self, keep_rows: bool) -> None:
        cid = self.campaign_id
        if cid is None:
            return
        self._detail_generation += 1
        generation = self._detail_generation
        status = self.filter.currentData()
        sending = self.ctx.actions.sending
        campaign: Campaign = await self.ctx.read(sending.campaign, cid)
        unknown: list[UnknownBatch] = await self.ctx.read(sending.unknown, cid)
        ids: array[int] = await self.ctx.read(self.views.recipient_ids, cid, status)
        replies: list[ReplyRow] = await self.ctx.read(self.views.campaign_replies, cid)
        if generation != self._detail_generation:
            return
        self.summary.show_campaign(campaign, len(replies), unknown, cid in self.sending)
        if keep_rows:
            self.recipients.refresh(ids)
        else:
            self.recipients.set_snapshot(ids)
        self.shown.setText(f"{len(ids):,} shown")
        self.campaign_replies.set_rows(replies)
        self.detail_tabs.setTabText(1, f"Re&plies ({len(replies):,})")

    def _rows_by_id(self, ids: list[int]) -> dict:  # type: ignore[type-arg]
        return self.views.recipients_by_id(ids)

    def show_unknown(self) -> None:
        self.filter.setCurrentIndex(self.filter.findData("unknown"))

    def _open_recipient(self, index: QModelIndex) -> None:
        row = self.recipients.row_for(index.row())
        if row is not None:
            self.contact_requested.emit(row.contact_id)

    def _open_reply(self, model: RepliesTableModel, index: QModelIndex) -> None:
        reply = model.row_at(index)
        if reply is not None and reply.contact_id is not None:
            self.contact_requested.emit(reply.contact_id)

    def table_view(self) -> QTableView:
        return self.recipient_table
