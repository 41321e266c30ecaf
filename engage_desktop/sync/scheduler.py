"""Background loops the app runs: the sync schedule and the opt-out pusher. No Qt here."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from engage_desktop.core.schedule import FAILED_RETRY_S, next_run
from engage_desktop.sync.events import SyncResult
from engage_desktop.sync.lock import SyncLockHeld

log = logging.getLogger(__name__)

STARTUP_DELAY_S = 30.0  # an overdue sync waits this long after start-up
BUSY_RETRY_S = 300.0  # another run holds the lock (or none can start): look again later
__all__ = ["BUSY_RETRY_S", "FAILED_RETRY_S", "OptOutLoop", "SyncScheduler"]

Sleep = Callable[[float], Awaitable[None]]


class SyncScheduler:
    """Runs a sync every `interval_s()` seconds after the last successful one, a failed one
    sooner (core/schedule.py: the rule `status` shows too). An overdue sync starts shortly
    after start-up; a sync already running anywhere (the lock) is never overlapped: the
    scheduler skips and looks again later."""

    def __init__(
        self,
        run_sync: Callable[[str], Awaitable[SyncResult | None]],
        marks: Callable[[], tuple[float | None, float | None]],
        interval_s: Callable[[], float],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        startup_delay_s: float = STARTUP_DELAY_S,
    ) -> None:
        self._run_sync = run_sync
        self._marks = marks  # (last success started, a later failure ended)
        self._interval_s = interval_s
        self._clock = clock
        self._sleep = sleep
        self._earliest = clock() + startup_delay_s

    def next_due(self) -> float:
        """When the next scheduled sync starts (epoch seconds)."""
        success, failure = self._marks()
        due = next_run(success, failure, self._interval_s(), self._clock()).at
        return max(due, self._earliest)

    async def run_forever(self) -> None:
        while True:
            wait = self.next_due() - self._clock()
            if wait > 0:
                await self._sleep(min(wait, 60.0))  # settings may change meanwhile
                continue
            try:
                result = await self._run_sync("schedule")
            except SyncLockHeld as exc:
                log.info("scheduled sync skipped: %s", exc)
                self._earliest = self._clock() + BUSY_RETRY_S
                continue
            if result is None:  # nothing to sync with (no connection, no key, sync off)
                self._earliest = self._clock() + BUSY_RETRY_S
            elif result.status != "succeeded":
                log.info("scheduled sync %d %s; retrying later", result.run_id, result.status)
                if result.status == "cancelled":  # not a failure: the usual schedule
                    self._earliest = self._clock() + BUSY_RETRY_S
            else:
                log.info("scheduled sync %d: succeeded", result.run_id)
                self._earliest = self._clock()


class OptOutLoop:
    """Sends queued opt-outs as soon as they are due, checking every `poll_s` seconds."""

    def __init__(
        self,
        push_due: Callable[[], Awaitable[object]],
        *,
        poll_s: float = 2.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._push_due = push_due
        self._poll_s = poll_s
        self._sleep = sleep

    async def run_forever(self) -> None:
        while True:
            try:
                await self._push_due()
            except Exception:  # a failure to notify Klaviyo must never stop the loop
                log.exception("opt-out push failed; retrying")
            await self._sleep(self._poll_s)
