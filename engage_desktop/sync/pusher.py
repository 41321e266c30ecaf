"""Opt-out write-back: outbox rows -> Klaviyo's bulk unsubscribe job, in batches of <= 100."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from engage_desktop.klaviyo.client import UNSUBSCRIBE_BATCH, KlaviyoClient
from engage_desktop.klaviyo.errors import KlaviyoError
from engage_desktop.klaviyo.ratelimit import backoff
from engage_desktop.storage.outbox import OutboxRepo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushResult:
    """What one push did."""

    sent: int
    failed: int
    pending: int
    error: str | None = None


class OptOutPusher:
    """Sends what is due. Rows are claimed first (a second pusher, here or in another process,
    skips them), marked sent only after Klaviyo answered 202 and then never sent again; a
    failure leaves them queued with a later retry time (the queue is the database)."""

    def __init__(
        self, outbox: OutboxRepo, client: KlaviyoClient, clock: Callable[[], float] = time.time
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.clock = clock
        self.claimant = f"pusher-{uuid.uuid4().hex[:12]}"

    async def push_due(self) -> PushResult:
        sent = failed = 0
        error = None
        try:
            while True:
                batch = self.outbox.claim(self.claimant, self.clock(), UNSUBSCRIBE_BATCH)
                if not batch:
                    break
                ids = [e.id for e in batch]
                try:
                    await self.client.bulk_unsubscribe_sms(sorted({e.phone for e in batch}))
                except KlaviyoError as exc:
                    attempts = max(e.attempts for e in batch)
                    retry_at = self.clock() + min(3600.0, 30 * backoff(attempts, base=1.0))
                    self.outbox.mark_failed(ids, self.claimant, exc.user_message, retry_at)
                    log.warning(
                        "opt-outs not sent (%d), retry later: %s", len(ids), exc.user_message
                    )
                    failed += len(ids)
                    error = exc.user_message
                    break
                self.outbox.mark_sent(ids, self.claimant, self.clock())
                sent += len(ids)
        finally:
            self.outbox.release(self.claimant)  # stopped mid-push: the rows go back at once
        return PushResult(sent, failed, self.outbox.pending_count(), error)
