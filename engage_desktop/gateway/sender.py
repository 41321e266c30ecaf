"""Sending a campaign: batches of 100, many requests in flight, each recipient's state durable
before and after its request.

Never twice. A batch is claimed (its recipients `sending`, committed) before its request
leaves, and only the gateway's answer moves them on: 202 → `submitted` with their message
ids; a refusal (4xx: nothing of the batch was sent) → `failed` for the recipients it names
and `pending` again for the rest; an answer lost after the request may have arrived (a
dropped connection, a 5xx, no answer within the deadline, this task cancelled) → `unknown`.
Unknown recipients are never resent without a person's decision; their delivery reports,
if any arrive, show the gateway had them. A sender killed mid-send leaves its batches
`sending`; the next sender, finding it dead, turns them `unknown` first.

Never to an opted-out number: each claim checks consent in the statement that claims
(`storage/campaign_batches.py`), so an opt-out committed before a batch is claimed — a STOP
reply, a sync, a click — skips that recipient.

Cancelling is asked through the database (`CampaignRepo.cancel`, from any process): the
sender stops claiming, lets the batches on the wire finish, and what was not sent is skipped.
`stop()` only pauses (resume continues).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable

from engage_desktop.core.messaging import CampaignStatus
from engage_desktop.gateway.db_thread import DbThread
from engage_desktop.gateway.events import GatewayEvent, SendFinished, SendProgress, SendRefused
from engage_desktop.messagemedia import (
    SEND_BATCH,
    BadRequestError,
    GatewayError,
    MessageMediaClient,
    OutboundMessage,
    OutcomeUnknownError,
    SentMessage,
)
from engage_desktop.storage.campaign_batches import BatchRepo, Claim
from engage_desktop.storage.campaigns import Campaign, CampaignRepo, Sender
from engage_desktop.storage.database import Database

log = logging.getLogger(__name__)

STALE_AFTER_S = 60.0  # a sender on another machine silent this long is taken to be dead
HEARTBEAT_S = 10.0
CONCURRENCY = 48  # batches on the wire at once: sending is latency-bound (300 ms a request)
_DETAIL_INDEX = re.compile(r"^/messages/(\d+)/")


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class CampaignSender:
    """Sends one campaign's pending recipients; `run()` once, `stop()` from the same loop."""

    def __init__(
        self,
        db: Database,
        client: MessageMediaClient,
        campaign_id: int,
        *,
        on_event: Callable[[GatewayEvent], None] = lambda event: None,
        concurrency: int = CONCURRENCY,
        batch_size: int = SEND_BATCH,
        who: str = "Engage Desktop",
        clock: Callable[[], float] = time.time,
        progress_every_s: float = 0.25,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        self.db = db
        self.client = client
        self.campaign_id = campaign_id
        self.on_event = on_event
        self.concurrency = max(1, concurrency)
        self.batch_size = max(1, min(batch_size, SEND_BATCH))
        self.clock = clock
        self.progress_every_s = progress_every_s
        self.heartbeat_s = heartbeat_s
        self.host = socket.gethostname()
        self.name = f"{who} [{uuid.uuid4().hex[:8]}]"
        self._stop = False
        self._error: str | None = None
        self._campaign: Campaign | None = None
        self._recipients = 0
        self._submitted = self._failed = self._unknown = self._in_flight = 0
        self._requests_before = self._base_requests = 0
        self._skipped: Counter[str] = Counter()
        self._started = time.monotonic()
        self._last_progress = 0.0
        self._trailing: asyncio.TimerHandle | None = None  # the held-back snapshot's turn
        self._finished = False

    def stop(self) -> None:
        """Pause: claim nothing more; the batches on the wire finish and are recorded."""
        self._stop = True

    # ----- the run --------------------------------------------------------------------------
    async def run(self) -> SendFinished | SendRefused:
        db = DbThread(self.db, f"send-{self.campaign_id}")
        try:
            return await self._run(db)
        finally:
            await db.aclose()

    async def _run(self, db: DbThread) -> SendFinished | SendRefused:
        campaigns = CampaignRepo(self.db)
        me = Sender(self.name, os.getpid(), self.host, self.clock())
        campaign, held, recovered = await db.run(
            campaigns.take, self.campaign_id, me, self._may_take_over
        )
        if held is not None:
            since = time.strftime("%Y-%m-%d %H:%M", time.localtime(held.heartbeat_at))
            return self._refused(
                f"Campaign {self.campaign_id} is being sent by {held.name} (process {held.pid} "
                f"on {held.host}, alive at {since}).",
                "busy",
            )
        if campaign.status is CampaignStatus.PREPARING:
            return self._refused(
                f"Campaign {self.campaign_id} was never fully prepared (its preparation was "
                f"interrupted): prepare the message again.",
                "config",
            )
        if campaign.status is CampaignStatus.CANCELLED:
            return self._refused(f"Campaign {self.campaign_id} was cancelled.", "nothing")
        if recovered:
            log.warning(
                "campaign %d: %d recipients left sending by a sender that stopped are now "
                "unknown (not resent)",
                self.campaign_id,
                recovered,
            )
        self._campaign = campaign
        self._base_requests = campaign.requests
        counts = await db.run(campaigns.refresh_counts, self.campaign_id)
        self._recipients = counts.pending
        self._started = time.monotonic()
        self._requests_before = self.client.stats.requests
        self._emit(force=True)
        beat = asyncio.create_task(self._heartbeat(db, campaigns))
        try:
            try:
                async with asyncio.TaskGroup() as workers:
                    for _ in range(self.concurrency):
                        workers.create_task(self._worker(db))
            except* Exception as group:  # a worker failed: the others were stopped
                log.error("campaign %d stopped", self.campaign_id, exc_info=group.exceptions[0])
                self._error = f"stopped by an unexpected error: {group.exceptions[0]!r}"
        except asyncio.CancelledError:
            self._error = "stopped before the end (the app quit or the send was interrupted)"
            raise
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            final = await asyncio.shield(
                db.run(
                    campaigns.release,
                    self.campaign_id,
                    self.name,
                    self.clock(),
                    campaign.requests + self._requests_now(),
                    self._error,
                )
            )
            finished = self._result(final, recovered)
            self._finished = True
            if self._trailing is not None:
                self._trailing.cancel()
                self._trailing = None
            self.on_event(finished)
        return finished

    def _requests_now(self) -> int:
        return self.client.stats.requests - self._requests_before

    def _refused(self, reason: str, kind: str) -> SendRefused:
        refused = SendRefused(self.campaign_id, reason, kind)
        self.on_event(refused)
        return refused

    def _may_take_over(self, held: Sender) -> bool:
        if held.host == self.host:
            return held.pid != os.getpid() and not process_alive(held.pid)
        return self.clock() - held.heartbeat_at > STALE_AFTER_S

    async def _heartbeat(self, db: DbThread, campaigns: CampaignRepo) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            still = await db.run(
                campaigns.heartbeat,
                self.campaign_id,
                self.name,
                self.clock(),
                self._base_requests + self._requests_now(),
            )
            if not still:
                log.error("campaign %d: lost the hold on it; stopping", self.campaign_id)
                self._error = "another sender took this campaign over"
                self._stop = True
                return

    # ----- the workers --------------------------------------------------------------------
    async def _worker(self, db: DbThread) -> None:
        batches = BatchRepo(self.db)
        while not self._stop:
            batch = f"{self.campaign_id}-{uuid.uuid4().hex[:16]}"
            claim = await db.run(
                batches.claim, self.campaign_id, batch, self.clock(), self.batch_size
            )
            self._skipped.update(claim.skipped)
            if claim.stopped:
                self._stop = True
                return
            if not claim.recipients:
                if claim.skipped:
                    continue  # that window was all skipped: look at the next one
                return  # nothing left to send
            await self._send(db, batches, claim)
            self._emit()

    async def _send(self, db: DbThread, batches: BatchRepo, claim: Claim) -> None:
        source = self._campaign.source_number if self._campaign else None
        messages = [
            OutboundMessage(
                r.phone,
                r.text,
                {"campaign": str(self.campaign_id), "recipient": str(r.id)},
                source,
            )
            for r in claim.recipients
        ]
        self._in_flight += 1
        try:
            sent = await self.client.send_messages(messages)
        except OutcomeUnknownError as exc:
            self._unknown += await db.run(batches.unknown, claim.batch, exc.problem)
            log.warning("campaign %d: %s", self.campaign_id, exc.user_message)
        except BadRequestError as exc:
            await self._refused_batch(db, batches, claim, exc)
        except GatewayError as exc:  # refused or never reached: nothing of it was sent
            await db.run(batches.give_back, claim.batch)
            self._error = exc.user_message
            self._stop = True
        except asyncio.CancelledError:
            # It may have left: never resend it blindly.
            self._unknown += await asyncio.shield(
                db.run(batches.unknown, claim.batch, "the send was interrupted mid-request")
            )
            raise
        else:
            await db.run(batches.submitted, claim.batch, _message_ids(claim, sent), self.clock())
            self._submitted += len(claim.recipients)
        finally:
            self._in_flight -= 1

    async def _refused_batch(
        self, db: DbThread, batches: BatchRepo, claim: Claim, exc: BadRequestError
    ) -> None:
        """A 400 sends nothing of the batch: the recipients it names fail, the rest go back
        (and are claimed again). Without a recipient named, the whole batch fails."""
        named: dict[int, str] = {}
        for detail in exc.details:
            m = _DETAIL_INDEX.match(detail)
            if m and int(m.group(1)) < len(claim.recipients):
                rid = claim.recipients[int(m.group(1))].id
                named[rid] = f"{named[rid]}; {detail}" if rid in named else detail
        if not named:
            named = {r.id: exc.user_message for r in claim.recipients}
        await db.run(batches.failed, claim.batch, named)
        await db.run(batches.give_back, claim.batch)
        self._failed += len(named)
        log.warning("campaign %d: %d refused: %s", self.campaign_id, len(named), exc.user_message)

    # ----- progress -----------------------------------------------------------------------
    def _emit(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < self.progress_every_s:
            # Too soon: this snapshot goes out when its turn comes, not with the next batch
            # (which may be seconds away: the screen would show an old count till then).
            if self._trailing is None:
                wait = self.progress_every_s - (now - self._last_progress)
                self._trailing = asyncio.get_running_loop().call_later(wait, self._emit_held)
            return
        if self._trailing is not None:
            self._trailing.cancel()
            self._trailing = None
        self._last_progress = now
        elapsed = now - self._started
        rate = self._submitted / elapsed if elapsed > 0 else 0.0
        done = self._submitted + self._failed + self._unknown + sum(self._skipped.values())
        left = max(0, self._recipients - done)
        self.on_event(
            SendProgress(
                self.campaign_id,
                self._recipients,
                self._submitted,
                sum(self._skipped.values()),
                self._failed,
                self._unknown,
                self.client.stats.requests,
                self._in_flight,
                rate,
                left / rate if rate > 0 else None,
                elapsed,
            )
        )

    def _emit_held(self) -> None:
        self._trailing = None
        if not self._finished:
            self._emit(force=True)

    def _result(self, final: Campaign, recovered: int) -> SendFinished:
        return SendFinished(
            self.campaign_id,
            final.status.value,
            self._recipients,
            self._submitted,
            dict(self._skipped),
            self._failed,
            self._unknown,
            recovered,
            self._requests_now(),
            time.monotonic() - self._started,
            self._error,
        )


def _message_ids(claim: Claim, sent: list[SentMessage]) -> list[tuple[int, str | None]]:
    """Each recipient's message id from the 202's echo: by the recipient named in the echoed
    metadata, else by position when the number matches; None when the echo cannot tell."""
    by_recipient = {s.metadata.get("recipient"): s.message_id for s in sent}
    out: list[tuple[int, str | None]] = []
    for i, r in enumerate(claim.recipients):
        message_id = by_recipient.get(str(r.id))
        if message_id is None and i < len(sent) and sent[i].destination_number == r.phone:
            message_id = sent[i].message_id
        out.append((r.id, message_id))
    return out
