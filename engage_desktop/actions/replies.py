"""Hearing the gateway: one polling round (replies, delivery reports, now and then the
blacklist), then telling Klaviyo about the opt-outs it found. The app's loop and the command
line's `replies` call the same round.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from engage_desktop.actions.gateway import GatewayActions
from engage_desktop.actions.optouts import OptOutActions, Pushed
from engage_desktop.actions.outcomes import ActionError, Changes
from engage_desktop.core.messaging import GatewayCredentials
from engage_desktop.gateway.db_thread import DbThread
from engage_desktop.gateway.events import PollRound
from engage_desktop.gateway.inbound import InboundPoller
from engage_desktop.messagemedia import MessageMediaClient
from engage_desktop.storage.database import Database
from engage_desktop.storage.gateway_settings import GatewaySettings
from engage_desktop.storage.inbound import InboundRepo, ReplyRow
from engage_desktop.storage.outbox import OutboxRepo

PUSH_WAIT_S = 10.0  # how long a headless round waits for Klaviyo before leaving it queued


@dataclass(frozen=True)
class RepliesHeard:
    """What one round did, and whether Klaviyo was told."""

    round: PollRound
    pushed: Pushed | None
    changes: Changes


class ReplyActions:
    """Polls the gateway and closes the opt-out loop."""

    def __init__(
        self,
        db: Database,
        gateway: GatewayActions,
        optouts: OptOutActions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.gateway = gateway
        self.optouts = optouts
        self.clock = clock
        self._kept: tuple[GatewaySettings, GatewayCredentials] | None = None
        self._client: MessageMediaClient | None = None
        self._poller: InboundPoller | None = None
        self._db_thread: DbThread | None = None

    async def round(
        self, reconcile: bool | None = None, push_wait_s: float | None = PUSH_WAIT_S
    ) -> RepliesHeard:
        """One round, then (when it opted numbers out or opt-outs wait) push them to
        Klaviyo, waiting at most `push_wait_s`; the rest stays queued (never lost)."""
        try:
            heard = await self.poll_round(reconcile)
        finally:
            await self.aclose()
        pushed = None
        if heard.opted_out or self.optouts_pending():
            pushed = await self.optouts.push(push_wait_s)
        opted = heard.opted_out
        return RepliesHeard(
            heard, pushed, Changes(contacts=opted, lists=opted, outbox=opted or pushed is not None)
        )

    def optouts_pending(self) -> bool:
        return OutboxRepo(self.db).pending_count() > 0

    async def poll_round(self, reconcile: bool | None = None) -> PollRound:
        """One round on a kept client (what the app's `PollLoop` calls every 5 s): a new
        client only when the connection or its credentials changed. Not connected: a round
        that says so (the loop backs off)."""
        try:
            poller = await self._current_poller()
        except ActionError as exc:
            return PollRound(error=exc.message)
        return await poller.round(reconcile)

    async def _current_poller(self) -> InboundPoller:
        settings = self.gateway.settings()
        found = self.gateway.credentials.current()
        if found is None:
            raise ActionError("The MessageMedia key and secret are not available: connect again.")
        wanted = (settings, found[0])
        if self._poller is not None and self._kept is not None and _same(self._kept, wanted):
            return self._poller
        if self._client is not None:  # the connection changed: a client for the new one
            await self._client.aclose()
        if self._db_thread is None:
            self._db_thread = DbThread(self.db, "gateway-poll")
        self._client = self.gateway.make_client(found[0], settings.base_url)
        self._kept = wanted
        self._poller = InboundPoller(
            self._db_thread,
            self._client,
            keywords=settings.opt_out_keywords,
            blacklist_opt_outs=settings.blacklist_opt_outs,
            last_reconcile_at=settings.last_reconcile_at,
            clock=self.clock,
        )
        return self._poller

    async def aclose(self) -> None:
        """Close the kept client and the database thread (the app: when its loop ends)."""
        client, self._client, self._poller, self._kept = self._client, None, None, None
        if client is not None:
            await client.aclose()
        if self._db_thread is not None:
            await self._db_thread.aclose()
            self._db_thread = None

    def recent(self, limit: int = 100) -> list[ReplyRow]:
        """The newest replies, opt-out words marked."""
        return InboundRepo(self.db).recent_replies(limit)


def _same(
    a: tuple[GatewaySettings, GatewayCredentials], b: tuple[GatewaySettings, GatewayCredentials]
) -> bool:
    (sa, ca), (sb, cb) = a, b
    return (
        ca == cb
        and sa.base_url == sb.base_url
        and sa.opt_out_keywords == sb.opt_out_keywords
        and sa.blacklist_opt_outs == sb.blacklist_opt_outs
    )
