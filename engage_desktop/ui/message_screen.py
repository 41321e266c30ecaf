"""New Message: pick a list, write with fields, preview per recipient, count, Send…."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.actions import ActionError
from engage_desktop.core.words import plural
from engage_desktop.gateway.campaign_plan import PreviewRow, SendPlan
from engage_desktop.storage.contact_table import ContactTable, ListRow, Recipients
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.messages.composer import MessageComposer
from engage_desktop.ui.messages.preview_panel import PreviewPanel, reason_label
from engage_desktop.ui.messages.send_progress import SendProgressPanel

# The list box is as wide as a long list name ("Klaviyo: Black Friday 2025"), not the window:
# a box across the whole screen reads as a text field.
LIST_CHARS = 40
PREVIEW_PAGE = 50
PREVIEW_AFTER_MS = 300  # typing pauses this long before the preview is worked out again


class NewMessageScreen(QWidget):
    """Writes and previews a message to a list; `send_requested` asks the app to send it."""

    send_requested = Signal(object, str)  # list id (None: every contact), text

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.table = ContactTable(ctx.db)
        self._generation = 0
        self._preview_generation = 0
        self.loading: asyncio.Task[None] | None = None
        self.previewing: asyncio.Task[None] | None = None
        self.gateway_ready = False
        self.list_choice = QComboBox()
        self.list_choice.setAccessibleName("Send to list")
        self.audience = QLabel()
        self.audience.setWordWrap(True)
        self.composer = MessageComposer()
        self.editor = self.composer.editor
        self.counter = self.composer.counter
        self.preview = PreviewPanel()
        self.progress = SendProgressPanel()
        self.send = QPushButton("Se&nd…")  # Alt+S is the status panel's Sync now
        self.send.setAutoDefault(True)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #8a6d00;")
        self.top = QVBoxLayout()  # the sync status panel goes here
        to = QLabel("&To:")
        to.setBuddy(self.list_choice)
        self.list_choice.setMinimumContentsLength(LIST_CHARS)
        self.list_choice.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        choose = QHBoxLayout()
        choose.addWidget(to)
        choose.addWidget(self.list_choice)
        choose.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.note, 1)
        bottom.addWidget(self.send)
        layout = QVBoxLayout(self)
        layout.addLayout(self.top)
        layout.addLayout(choose)
        layout.addWidget(self.audience)
        layout.addWidget(self.composer)
        layout.addWidget(self.preview)
        layout.addLayout(bottom)
        layout.addWidget(self.progress)
        layout.addStretch(1)
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_AFTER_MS)
        self._preview_timer.timeout.connect(self._preview_due)
        self.list_choice.currentIndexChanged.connect(lambda _: self.refresh())
        self.composer.text_changed.connect(self._edited)
        self.preview.more_requested.connect(lambda after: self.refresh_preview(after))
        self.send.clicked.connect(self._send_clicked)
        self.recipients: Recipients
        self._update_send()

    # ----- lists and audience ------------------------------------------------------------------
    def reload_lists(self) -> asyncio.Task[None]:
        return self.ctx.spawn(self._reload_lists())

    async def _reload_lists(self) -> None:
        rows: list[ListRow] = await self.ctx.read(self.table.list_rows)
        everyone: Recipients = await self.ctx.read(self.table.recipients, None)
        total = everyone.total
        fields: list[str] = await self.ctx.read(self.ctx.actions.sending.field_names)
        self.composer.set_fields(fields)
        chosen = self.list_choice.currentData()
        self.list_choice.blockSignals(True)
        self.list_choice.clear()
        self.list_choice.addItem(f"All contacts ({total:,})", None)
        for row in rows:
            self.list_choice.addItem(f"{row.name} ({row.members:,})", row.id)
        self.list_choice.setCurrentIndex(max(self.list_choice.findData(chosen), 0))
        self.list_choice.blockSignals(False)
        self.refresh()

    def list_id(self) -> int | None:
        found = self.list_choice.currentData()
        return None if found is None else int(found)

    def refresh(self) -> asyncio.Task[None]:
        """Recount the audience from committed data (after a sync commits, too)."""
        self._generation += 1
        self.loading = self.ctx.spawn(self._recount(self._generation, self.list_id()))
        self._preview_timer.stop()
        self.refresh_preview()
        return self.loading

    async def _recount(self, generation: int, list_id: int | None) -> None:
        found: Recipients = await self.ctx.read(self.table.recipients, list_id)
        if generation == self._generation:
            self.show_audience(found)

    def show_audience(self, r: Recipients) -> None:
        self.recipients = r
        left_out = [
            (r.opted_out, "opted out"),
            (r.never_subscribed, "never subscribed (Explicit consent)"),
            (r.no_valid_phone, "without a valid phone number"),
        ]
        parts = [f"{n:,} {why}" for n, why in left_out if n]
        self.audience.setText(
            f"<b>{r.eligible:,}</b> of {plural(r.total, 'contact')} will receive it."
            + (f" Left out: {', '.join(parts)}." if parts else "")
        )
        self._update_send()

    def show_plan(self, plan: SendPlan) -> None:
        total = plan.recipients + sum(plan.skipped.values())
        parts = [f"{n:,} {reason_label(why)}" for why, n in plan.skipped.items() if n]
        self.audience.setText(
            f"<b>{plan.recipients:,}</b> of {plural(total, 'contact')} will receive this message."
            + (f" Left out: {', '.join(parts)}." if parts else "")
        )

    # ----- preview -----------------------------------------------------------------------------
    def _edited(self) -> None:
        self._preview_timer.start()
        self._update_send()

    def _preview_due(self) -> None:
        """The typing pause is over; a timer left over after the loop ended does nothing."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self.refresh_preview()

    def refresh_preview(self, after: int = 0) -> asyncio.Task[None]:
        self._preview_generation += 1
        self.previewing = self.ctx.spawn(
            self._preview(self._preview_generation, self.list_id(), self.composer.text(), after)
        )
        return self.previewing

    async def _preview(self, generation: int, list_id: int | None, text: str, after: int) -> None:
        if not text.strip():
            self.preview.show_rows([], complete=True)
            self.preview.who.setText("<b>Preview</b>")
            self.preview.text.setText("Write a message to see what each recipient gets.")
            return
        try:
            rows: list[PreviewRow] = await self.ctx.read(
                self.ctx.actions.sending.preview_plan, list_id, text, after, PREVIEW_PAGE
            )
        except ActionError as exc:
            if generation == self._preview_generation:
                self.preview.show_rows([], complete=True)
                self.preview.text.setText(f"<span style='color:#b00020'>{exc.message}</span>")
            return
        if generation != self._preview_generation:
            return
        if not after:  # who gets this very text (a field without a value leaves people out)
            plan: SendPlan = await self.ctx.read(
                self.ctx.actions.sending.plan, list_id, text, False
            )
            if generation != self._preview_generation:
                return
            self.show_plan(plan)
        complete = len(rows) < PREVIEW_PAGE
        known = getattr(self, "recipients", None)
        self.preview.total = None if known is None else known.total
        if after:
            self.preview.add_rows(rows, complete)
        else:
            self.preview.show_rows(rows, complete, keep_position=True)

    # ----- sending ---------------------------------------------------------------------------
    def set_gateway_ready(self, ready: bool) -> None:
        self.gateway_ready = ready
        self._update_send()

    def _update_send(self) -> None:
        has_text = bool(self.composer.text().strip())
        eligible = getattr(self, "recipients", None)
        someone = eligible is not None and eligible.eligible > 0
        self.send.setEnabled(self.gateway_ready and has_text and someone)
        if not self.gateway_ready:
            self.note.setText(
                "Connect the SMS gateway (Extensions → Integrations → SMS gateway) to send."
            )
        elif not someone:
            self.note.setText("Nobody in this list can receive SMS.")
        else:
            self.note.setText("")

    def _send_clicked(self) -> None:
        self.send_requested.emit(self.list_id(), self.composer.text())
