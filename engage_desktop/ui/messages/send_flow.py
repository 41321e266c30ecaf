"""From “Send…” to a campaign on the wire: plan, confirm, prepare, hand it to the worker.

Planning and preparing are database work (the reader and writer threads); the send itself
runs in a child process started by the gateway worker, and its snapshots come back through
the bridge.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from engage_desktop.actions import ActionError
from engage_desktop.gateway.campaign_plan import SendPlan
from engage_desktop.storage.campaigns import Campaign
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.gateway_worker import GatewayWorker
from engage_desktop.ui.message_screen import NewMessageScreen
from engage_desktop.ui.messages.send_confirm import confirm_send


class SendFlow(QObject):
    """Asks before sending, prepares the campaign, starts it, cancels it."""

    campaign_started = Signal(int)
    campaigns_changed = Signal()
    prepared_count = Signal(int)  # from the writer thread: queued to the GUI thread

    def __init__(
        self, ctx: AppContext, screen: NewMessageScreen, worker: GatewayWorker, window: QWidget
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.screen = screen
        self.worker = worker
        self.window = window
        self.question: QMessageBox | None = None
        self.plan: SendPlan | None = None
        screen.send_requested.connect(lambda lst, text: ctx.spawn(self.confirm(lst, text)))
        screen.progress.cancel_requested.connect(lambda cid: ctx.spawn(self.cancel(cid)))
        self.prepared_count.connect(screen.progress.prepared)

    async def confirm(self, list_id: int | None, text: str) -> SendPlan | None:
        """Work out the plan, then ask (the answer starts `send`)."""
        self.screen.send.setEnabled(False)
        try:
            plan: SendPlan = await self.ctx.read(self.ctx.actions.sending.plan, list_id, text)
        except ActionError as exc:
            self.screen.note.setText(exc.message)
            return None
        finally:
            self.screen.send.setEnabled(True)
        self.plan = plan
        if plan.recipients == 0:
            self.screen.note.setText("Nobody would receive this message: nothing to send.")
            return plan
        self.question = confirm_send(
            self.window, plan, lambda: self.ctx.spawn(self.send(list_id, text, plan))
        )
        return plan

    async def send(self, list_id: int | None, text: str, plan: SendPlan) -> Campaign | None:
        panel = self.screen.progress
        panel.preparing(plan.recipients + sum(plan.skipped.values()))
        self.screen.send.setEnabled(False)
        try:
            campaign: Campaign = await self.ctx.write(
                self.ctx.actions.sending.prepare, list_id, text, self.prepared_count.emit
            )
        except ActionError as exc:
            panel.show_refused(None, exc.message)
            self.screen.send.setEnabled(True)
            return None
        panel.started(campaign.id, campaign.counts.pending)
        # What is alive now (screens, caches, the preview) stays: keep it out of the cyclic
        # collector's full passes, which hold the interpreter lock for tens of milliseconds
        # (the send is in its own process now; the poll loop and the screens still allocate).
        gc.freeze()
        self.worker.send(campaign.id)
        self.campaign_started.emit(campaign.id)
        self.campaigns_changed.emit()
        self.screen.send.setEnabled(True)
        return campaign

    async def cancel(self, campaign_id: int) -> None:
        try:
            await self.ctx.write(self.ctx.actions.sending.cancel, campaign_id)
        except ActionError as exc:
            self.screen.progress.show_refused(campaign_id, exc.message)
        self.campaigns_changed.emit()
