"""The lease: who may take it over, and when."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engage_desktop.storage.database import open_database
from engage_desktop.storage.lease import Lease, LeaseRepo
from engage_desktop.sync.lock import STALE_AFTER_S, SyncLock, SyncLockHeld


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def plant(repo: LeaseRepo, lease: Lease) -> None:
    assert repo.try_take(lease, lambda held: True) is None


@pytest.mark.sqlite_only  # the lease row as the lock; PostgreSQL: test_team_lock.py
def test_live_holder_on_this_host_keeps_it(tmp_path: Path) -> None:
    repo, clock = LeaseRepo(open_database(tmp_path)), Clock()
    mine = SyncLock(repo, "scheduler", clock)
    plant(repo, Lease("app window", os.getppid(), mine.host, clock.now - 3600, clock.now - 3600))
    with pytest.raises(SyncLockHeld, match="app window") as info:
        mine.acquire()
    assert f"process {os.getppid()}" in str(info.value) and "since" in str(info.value)


@pytest.mark.sqlite_only  # the lease row as the lock; PostgreSQL: test_team_lock.py
def test_dead_holder_on_this_host_is_taken_over_at_once(tmp_path: Path) -> None:
    repo, clock = LeaseRepo(open_database(tmp_path)), Clock()
    mine = SyncLock(repo, "scheduler", clock)
    plant(repo, Lease("crashed", 2**22 + 12345, mine.host, clock.now, clock.now))
    mine.acquire()
    held = repo.current()
    assert held is not None and held.holder == mine.holder


@pytest.mark.sqlite_only  # the lease row as the lock; PostgreSQL: test_team_lock.py
def test_other_host_after_60_s_without_heartbeat(tmp_path: Path) -> None:
    repo, clock = LeaseRepo(open_database(tmp_path)), Clock()
    mine = SyncLock(repo, "scheduler", clock)
    plant(repo, Lease("laptop", 4242, "another-host", clock.now, clock.now))
    clock.now += STALE_AFTER_S - 1
    with pytest.raises(SyncLockHeld):
        mine.acquire()
    assert repo.heartbeat("laptop", clock.now)  # it is alive: the clock starts again
    clock.now += STALE_AFTER_S - 1
    with pytest.raises(SyncLockHeld):
        mine.acquire()
    clock.now += 2
    mine.acquire()
    mine.release()
    assert repo.current() is None
