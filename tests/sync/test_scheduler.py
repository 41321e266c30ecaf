"""The schedule on a controllable clock, and the opt-out loop against the emulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.lease import Lease
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.sync.events import SyncResult
from engage_desktop.sync.lock import SyncLockHeld
from engage_desktop.sync.pusher import OptOutPusher
from engage_desktop.sync.scheduler import BUSY_RETRY_S, FAILED_RETRY_S, OptOutLoop, SyncScheduler

from .conftest import World

pytestmark = pytest.mark.asyncio
HOUR = 3600.0


class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class Runs:
    """Stands in for the engine: records when syncs ran; can pretend the lock is held."""

    def __init__(self, t: FakeTime, last: float | None) -> None:
        self.t = t
        self.last = last
        self.started: list[float] = []
        self.busy = 0

    async def run(self, trigger: str) -> SyncResult:
        if self.busy:
            self.busy -= 1
            raise SyncLockHeld(Lease("app window", 1, "here", self.t.now, self.t.now))
        self.started.append(self.t.now)
        self.t.now += 120  # a sync takes two minutes
        self.last = self.t.now
        return SyncResult(len(self.started), "succeeded", trigger, False)


def scheduler(
    t: FakeTime, runs: Runs, startup_delay_s: float, interval: Callable[[], float]
) -> SyncScheduler:
    return SyncScheduler(
        runs.run,
        lambda: (runs.last, None),
        interval,
        clock=t.clock,
        sleep=t.sleep,
        startup_delay_s=startup_delay_s,
    )


async def drive(scheduler: SyncScheduler, runs: Runs, until: int) -> None:
    task = asyncio.create_task(scheduler.run_forever())
    while len(runs.started) < until:
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_runs_every_interval_and_never_overlaps() -> None:
    t = FakeTime()
    runs = Runs(t, last=t.now - 1 * HOUR)
    sched = scheduler(t, runs, 30, lambda: 24 * HOUR)
    assert sched.next_due() == t.now + 23 * HOUR
    await drive(sched, runs, until=3)
    first, second, third = runs.started
    assert first == pytest.approx(1_000_000 + 23 * HOUR)
    assert second - first == pytest.approx(24 * HOUR + 120)  # 24 h after the last one ended
    assert third - second == pytest.approx(24 * HOUR + 120)


async def test_an_overdue_sync_starts_shortly_after_start_up() -> None:
    t = FakeTime()
    runs = Runs(t, last=t.now - 50 * HOUR)
    sched = scheduler(t, runs, 30, lambda: 24 * HOUR)
    await drive(sched, runs, until=1)
    assert runs.started == [pytest.approx(1_000_000 + 30)]


async def test_a_run_held_elsewhere_is_skipped_and_retried_later() -> None:
    t = FakeTime()
    runs = Runs(t, last=None)
    runs.busy = 1
    sched = scheduler(t, runs, 0, lambda: 24 * HOUR)
    await drive(sched, runs, until=1)
    assert runs.started == [pytest.approx(1_000_000 + BUSY_RETRY_S)]


async def test_changed_interval_is_picked_up() -> None:
    t = FakeTime()
    interval = [24 * HOUR]
    runs = Runs(t, last=t.now)
    sched = scheduler(t, runs, 0, lambda: interval[0])
    task = asyncio.create_task(sched.run_forever())
    await asyncio.sleep(0)
    interval[0] = 1 * HOUR
    while not runs.started:
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert runs.started[0] <= 1_000_000 + 1 * HOUR + 60  # not a day later


async def test_opt_out_loop_sends_within_a_poll(world: World) -> None:
    world.connect()
    await world.sync()
    contact = next(c for c in world.contacts() if c.phone and c.sms_status.value == "subscribed")
    loop = OptOutLoop(OptOutPusher(OutboxRepo(world.db), world.client).push_due, poll_s=0.05)
    task = asyncio.create_task(loop.run_forever())
    try:
        ContactRepo(world.db).mark_opted_out(contact.id, "STOP", time.time())
        for _ in range(100):
            if OutboxRepo(world.db).pending_count() == 0:
                break
            await asyncio.sleep(0.05)
        assert OutboxRepo(world.db).pending_count() == 0
        jobs = world.emulator.counters.as_json()["requests"]["bulk_unsubscribe_profiles"]
        assert jobs["202"] == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_failed_run_is_retried_sooner_than_the_interval() -> None:
    t = FakeTime()
    runs = Runs(t, last=None)
    outcomes = iter(["failed", "succeeded"])

    failed_at: list[float] = []

    async def flaky(trigger: str) -> SyncResult:
        result = await runs.run(trigger)
        status = next(outcomes, "succeeded")
        if status == "failed":
            failed_at.append(t.now)
        return SyncResult(result.run_id, status, trigger, False)

    s = SyncScheduler(
        flaky,
        # the failure is no "last success"; its end is when the retry counts from
        lambda: (runs.last if runs.started[1:] else None, failed_at[-1] if failed_at else None),
        lambda: 24 * HOUR,
        clock=t.clock,
        sleep=t.sleep,
        startup_delay_s=0,
    )
    await drive(s, runs, until=2)
    assert runs.started[1] - runs.started[0] == pytest.approx(FAILED_RETRY_S + 120)


async def test_nothing_to_sync_with_waits_instead_of_spinning() -> None:
    t = FakeTime()
    calls: list[float] = []

    async def refused(trigger: str) -> None:
        calls.append(t.now)

    s = SyncScheduler(
        refused, lambda: (None, None), lambda: HOUR, clock=t.clock, sleep=t.sleep, startup_delay_s=0
    )
    task = asyncio.create_task(s.run_forever())
    while len(calls) < 3:
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert calls[1] - calls[0] == pytest.approx(BUSY_RETRY_S)
