"""The SMS gateway in the app: its worker, the tile, New Message's sending, Campaigns, and
what replies change. `app.py` builds one and wires it to the rest in a few lines.

Background events arrive only through the `EngineBridge` (sends run in a child process that
the gateway worker's thread reads; polling rounds run on that thread); screens are told what
changed, never reach a service.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox

from engage_desktop.actions import ActionError, Changes
from engage_desktop.actions.gateway import GatewayStatus
from engage_desktop.core.messaging import GatewayCredentials
from engage_desktop.core.words import plural
from engage_desktop.gateway.events import PollRound, SendFinished, SendRefused
from engage_desktop.ui.bridge import EngineBridge
from engage_desktop.ui.campaigns.campaigns_screen import CampaignsScreen
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.gateway_worker import GatewayWorker
from engage_desktop.ui.integrations.gateway_flows import GatewayFlows
from engage_desktop.ui.integrations.gateway_tile import GatewayTile
from engage_desktop.ui.message_screen import NewMessageScreen
from engage_desktop.ui.messages.send_flow import SendFlow
from engage_desktop.ui.notifier import Notifier
from engage_desktop.ui.widgets.question import ask

OPT_OUTS_GATHERED_MS = 3000  # opt-outs heard within this long make one notification


class GatewayFeature(QObject):
    """Owns the gateway worker and connects the gateway's screens and events."""

    changed = Signal(object)  # Changes: what replies or connecting changed elsewhere
    campaign_requested = Signal(int)
    contact_requested = Signal(int)

    def __init__(
        self,
        ctx: AppContext,
        bridge: EngineBridge,
        tile: GatewayTile,
        message: NewMessageScreen,
        campaigns: CampaignsScreen,
        notifier: Notifier,
        window: QMainWindow,
        data_dir: Path,
        push_opt_outs: Callable[[], concurrent.futures.Future[Any]] | None = None,
        demo: tuple[str, GatewayCredentials] | None = None,  # the emulator's URL, its keys
        poll_every_s: float = 5.0,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.bridge = bridge
        self.message = message
        self.campaigns = campaigns
        self.notifier = notifier
        self.window = window
        self.demo = demo
        self.worker = GatewayWorker(
            ctx.actions, data_dir, bridge.publish, push_opt_outs, poll_every_s
        )
        creds = (demo[1].key, demo[1].reveal_secret()) if demo else None
        self.flows = GatewayFlows(ctx, tile, window, demo[0] if demo else None, creds)
        self.send_flow = SendFlow(ctx, message, self.worker, window)
        self.status: GatewayStatus | None = None
        self.question: QMessageBox | None = None
        self.heard_opt_outs: list[str] = []
        self.finished: list[SendFinished] = []
        self.stopped = False
        self._opt_out_timer = QTimer(self, singleShot=True, interval=OPT_OUTS_GATHERED_MS)
        self._opt_out_timer.timeout.connect(self._notify_opt_outs)
        self._wire()

    def _wire(self) -> None:
        b = self.bridge
        progress = self.message.progress
        self._listening = [
            (b.send_progress, progress.show_progress),
            (b.send_progress, self._progressed),
            (b.send_finished, self._send_finished),
            (b.send_refused, self._send_refused),
            (b.poll_heard, self._heard),
        ]
        for signal, slot in self._listening:
            signal.connect(slot)
        self.flows.changed.connect(self._connection_changed)
        self.send_flow.campaign_started.connect(self._started)
        self.send_flow.campaigns_changed.connect(self.campaigns.reload)
        progress.campaign_requested.connect(self.campaign_requested)
        self.campaigns.decision_requested.connect(self._ask_decision)
        self.campaigns.resume_requested.connect(self.resume)
        self.campaigns.contact_requested.connect(self.contact_requested)

    # ----- life --------------------------------------------------------------------------------
    def start(self) -> None:
        self.worker.start()
        if self.demo is not None:
            self.ctx.spawn(self.connect_demo())
        else:
            self.ctx.spawn(self.show_status())
        self.campaigns.reload()

    def stop(self) -> None:
        """Pause the sends (resume continues them) and stop hearing: nothing reaches the
        window from here on (events already queued are dropped)."""
        self.stopped = True
        self._opt_out_timer.stop()
        for signal, slot in self._listening:
            signal.disconnect(slot)
        self.worker.stop()

    def ask_quit(self, quit_now: Callable[[], None]) -> QMessageBox:
        """Quitting while a message is being sent: it pauses, nothing is lost or doubled."""
        return ask(
            self.window,
            "A message is being sent",
            "Quit anyway? Sending pauses: what is on its way is recorded, and Resume sending "
            "under Campaigns sends the rest (nobody gets it twice).",
            "&Quit and pause sending",
            quit_now,
            no="&Keep sending",
        )

    async def connect_demo(self) -> None:
        """Demo mode: the gateway is the MessageMedia emulator, connected from the start."""
        assert self.demo is not None
        url, credentials = self.demo
        gateway = self.ctx.actions.gateway
        try:
            verified = await gateway.verify(credentials, url)
            await self.ctx.blocking_io(gateway.connect, verified, None)
        except ActionError as exc:
            self.window.statusBar().showMessage(
                f"The demo SMS gateway did not connect: {exc.message}", 30000
            )
        await self.show_status()
        self.worker.poll_now()

    async def show_status(self) -> GatewayStatus:
        self.status = await self.flows.show_tile()
        ready = self.status.settings is not None and self.status.key_place is not None
        self.message.set_gateway_ready(ready)
        return self.status

    def _connection_changed(self, changes: Changes) -> None:
        self.ctx.spawn(self.show_status())
        self.worker.poll_now()
        self.changed.emit(changes)

    # ----- sending ---------------------------------------------------------------------------
    def _progressed(self, _progress: object) -> None:
        self.campaigns.reload_soon()

    def _started(self, campaign_id: int) -> None:
        self.campaigns.sending.add(campaign_id)
        self.campaigns.campaign_id = campaign_id

    def resume(self, campaign_id: int) -> None:
        self.campaigns.sending.add(campaign_id)
        self.message.progress.started(campaign_id, 0)
        self.worker.send(campaign_id)
        self.campaigns.reload_detail()

    def _send_finished(self, result: SendFinished) -> None:
        self.finished.append(result)
        self.campaigns.sending.discard(result.campaign_id)
        self.message.progress.show_finished(result)
        self.campaigns.reload()
        self.ctx.spawn(self.show_status())
        skipped = sum(result.skipped.values())
        body = f"{plural(result.submitted, 'message')} submitted" + (
            f", {skipped:,} skipped" if skipped else ""
        )
        unknown = result.unknown + result.recovered_unknown
        if unknown:
            body += f"; {unknown:,} unknown — decide in Campaigns"
        title = {
            "finished": f"Campaign {result.campaign_id} sent",
            "cancelled": f"Campaign {result.campaign_id} cancelled",
        }.get(result.status, f"Campaign {result.campaign_id} stopped")
        if result.error:
            body += f". {result.error}"
        self.notifier.say(title, body)
        self.window.statusBar().showMessage(f"{title}: {body}", 30000)

    def _send_refused(self, refused: SendRefused) -> None:
        if refused.campaign_id is not None:
            self.campaigns.sending.discard(refused.campaign_id)
        self.message.progress.show_refused(refused.campaign_id, refused.reason)
        self.campaigns.reload()

    def _ask_decision(self, campaign_id: int, resend: bool) -> None:
        if resend:
            self.question = ask(
                self.window,
                "Resend to the unknown recipients?",
                "MessageMedia may already have some of these messages: those people would get "
                "it twice. Anyone who opted out meanwhile is skipped.",
                "&Resend",
                lambda: self.ctx.spawn(self.decide(campaign_id, True)),
            )
        else:
            self.question = ask(
                self.window,
                "Mark them as not sent?",
                "They are recorded as skipped (outcome unknown) and never resent. Delivery "
                "reports that still arrive are kept.",
                "Mark as &not sent",
                lambda: self.ctx.spawn(self.decide(campaign_id, False)),
            )

    async def decide(self, campaign_id: int, resend: bool) -> int:
        n: int = await self.ctx.write(self.ctx.actions.sending.decide_unknown, campaign_id, resend)
        if resend and n:
            self.resume(campaign_id)
        self.campaigns.reload()
        self.ctx.spawn(self.show_status())
        return n

    # ----- replies -----------------------------------------------------------------------------
    def _heard(self, heard: PollRound) -> None:
        if heard.replies or heard.reports or heard.confirmed_sent:
            self.campaigns.reload_soon()
        numbers = [*heard.opt_outs, *heard.blacklist_opt_outs]
        if numbers:
            self.heard_opt_outs.extend(numbers)
            if not self._opt_out_timer.isActive():
                self._opt_out_timer.start()
            self.changed.emit(Changes(contacts=True, lists=True, outbox=True))
        elif heard.replies:
            self.changed.emit(Changes(contacts=True))

    def _notify_opt_outs(self) -> None:
        n, self.heard_opt_outs = len(self.heard_opt_outs), []
        if not n:
            return
        text = f"{plural(n, 'contact')} opted out by SMS"
        self.notifier.say(text, "Klaviyo is being told. Their numbers get no more messages.")
        self.window.statusBar().showMessage(text + "; Klaviyo is being told.", 30000)
