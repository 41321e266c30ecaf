"""Sending a message to a list: plan, preview, prepare, send (and resume), decide about
unknown recipients, cancel. One way for the app and the command line.

Blocking actions (plan, prepare, preview, decide, cancel) run where the caller says: directly
on the command line, on a worker thread in the app. `send` is a coroutine; its database work
runs on a thread of its own, so the loop it runs on stays free.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

from engage_desktop.actions.gateway import GatewayActions
from engage_desktop.actions.outcomes import ActionError, Exit
from engage_desktop.core.messaging import CampaignStatus
from engage_desktop.core.personalisation import TemplateError
from engage_desktop.gateway.campaign_plan import CampaignPlanner, PreviewRow, SendPlan
from engage_desktop.gateway.events import GatewayEvent, SendFinished, SendRefused
from engage_desktop.gateway.sender import CONCURRENCY, CampaignSender, process_alive
from engage_desktop.storage.audience import ListRef
from engage_desktop.storage.campaign_batches import BatchRepo, UnknownBatch
from engage_desktop.storage.campaign_views import CampaignViews
from engage_desktop.storage.campaigns import Campaign, CampaignRepo, RecipientRow, Sender
from engage_desktop.storage.database import Database

STALE_AFTER_S = 60.0


class SendingActions:
    """Campaigns from plan to finish."""

    def __init__(
        self,
        db: Database,
        gateway: GatewayActions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.gateway = gateway
        self.clock = clock
        self.planner = CampaignPlanner(db)

    # ----- before sending (blocking) ---------------------------------------------------------
    def find_list(self, ref: str | int | None) -> ListRef:
        try:
            return self.planner.find_list(ref)
        except LookupError as exc:
            raise ActionError(str(exc.args[0])) from None

    def field_names(self) -> list[str]:
        """The platform fields a message may name (besides first_name, last_name, …)."""
        return self.planner.audience.field_names()

    def plan(self, list_ref: str | int | None, text: str, with_segments: bool = True) -> SendPlan:
        """Who a message to this list would reach, who not and why, and its segments."""
        lst = self.find_list(list_ref)
        try:
            return self.planner.plan(lst, text, with_segments)
        except TemplateError as exc:
            raise ActionError(str(exc)) from None

    def preview_plan(
        self, list_ref: str | int | None, text: str, after_contact_id: int = 0, limit: int = 50
    ) -> list[PreviewRow]:
        """What each contact would get (skipped ones with their reason), a page at a time."""
        lst = self.find_list(list_ref)
        try:
            template = self.planner.template(text)
        except TemplateError as exc:
            raise ActionError(str(exc)) from None
        return self.planner.preview(lst, template, after_contact_id, limit, include_skipped=True)

    def prepare(
        self,
        list_ref: str | int | None,
        text: str,
        on_progress: Callable[[int], None] = lambda done: None,
    ) -> Campaign:
        """Write the campaign and its recipients (nothing is sent). Needs the gateway
        connected: the campaign keeps its sender number."""
        settings = self.gateway.settings()
        lst = self.find_list(list_ref)
        try:
            return self.planner.prepare(
                lst, text, settings.source_number, self.clock(), on_progress
            )
        except TemplateError as exc:
            raise ActionError(str(exc)) from None

    # ----- campaigns (blocking) --------------------------------------------------------------
    def campaign(self, campaign_id: int) -> Campaign:
        found = CampaignRepo(self.db).get(campaign_id)
        if found is None:
            raise ActionError(f"No campaign {campaign_id}.")
        return found

    def campaigns(self, limit: int = 50) -> list[Campaign]:
        return CampaignRepo(self.db).latest(limit)

    def recipients(
        self, campaign_id: int, after_id: int = 0, limit: int = 50, state: str | None = None
    ) -> list[RecipientRow]:
        """A campaign's recipients (their text, state, delivery), a page at a time."""
        return CampaignRepo(self.db).recipients(campaign_id, after_id, limit, state)

    def views(self) -> CampaignViews:
        """Read-only queries for screens (recipient ids by status, rows by id, replies)."""
        return CampaignViews(self.db)

    def unknown(self, campaign_id: int) -> list[UnknownBatch]:
        """Batches whose answer was lost (delivery reports confirm the ones that went)."""
        return BatchRepo(self.db).unknown_batches(campaign_id)

    def decide_unknown(self, campaign_id: int, resend: bool, batch: str | None = None) -> int:
        """A person's decision about unknown recipients: resend (they pass the consent check
        again when their batch is claimed; `send` sends them) or drop (never resent)."""
        self.campaign(campaign_id)
        n = BatchRepo(self.db).decide(campaign_id, resend, batch)
        CampaignRepo(self.db).refresh_counts(campaign_id)
        return n

    def cancel(self, campaign_id: int) -> Campaign:
        """Stop a campaign for good, from any process: a live sender finishes the batches on
        the wire and sends nothing more; what was not sent is skipped."""
        try:
            return CampaignRepo(self.db).cancel(campaign_id, self.clock(), self._alive)
        except LookupError:
            raise ActionError(f"No campaign {campaign_id}.") from None

    def after_crash(self, campaign_id: int, pid: int, error: str) -> tuple[Campaign, int]:
        """A sending process `pid` on this computer died: what it left on the wire becomes
        unknown (never resent on its own), the rest stays pending, and the campaign is paused
        (cancelled if a cancel was asked). Returns it and how many became unknown; a campaign
        held by another, live sender is left alone."""
        me = Sender(
            f"Engage Desktop [after process {pid}]", os.getpid(), socket.gethostname(), self.clock()
        )

        def dead(held: Sender) -> bool:
            return held.pid == pid and held.host == me.host and not process_alive(pid)

        repo = CampaignRepo(self.db)
        before = self.campaign(campaign_id)
        if before.sender is None or before.status in (
            CampaignStatus.PREPARING,
            CampaignStatus.CANCELLED,
            CampaignStatus.FINISHED,
        ):
            return before, 0  # it released the campaign (or never took it) before dying
        campaign, held, lost = repo.take(campaign_id, me, dead)
        if held is not None:
            return campaign, 0
        return repo.release(campaign_id, me.name, self.clock(), campaign.requests, error), lost

    def _alive(self, held: Sender) -> bool:
        if held.host == socket.gethostname():
            return process_alive(held.pid)
        return self.clock() - held.heartbeat_at <= STALE_AFTER_S

    # ----- sending (async) ---------------------------------------------------------------------
    async def send(
        self,
        campaign_id: int,
        on_event: Callable[[GatewayEvent], None] = lambda event: None,
        *,
        concurrency: int = CONCURRENCY,
        on_sender: Callable[[CampaignSender], None] = lambda sender: None,
        who: str = "Engage Desktop",
    ) -> SendFinished | SendRefused:
        """Send (or resume) a prepared campaign. Recipients a previous sender left on the wire
        become unknown first and are not resent. `on_sender` gets the sender (to `stop()` it:
        a pause that `send` resumes)."""
        campaign = self.campaign(campaign_id)
        if campaign.status is CampaignStatus.CANCELLED:
            raise ActionError(f"Campaign {campaign_id} was cancelled.", Exit.NOTHING)
        client = self.gateway.client()
        async with client:
            sender = CampaignSender(
                self.db,
                client,
                campaign_id,
                on_event=on_event,
                concurrency=concurrency,
                who=who,
                clock=self.clock,
            )
            on_sender(sender)
            return await sender.run()
