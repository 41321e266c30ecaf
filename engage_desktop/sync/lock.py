"""The single-run lock: a lease in the database, renewed by a heartbeat while a run lasts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from engage_desktop.storage.lease import Lease, LeaseRepo

log = logging.getLogger(__name__)

STALE_AFTER_S = 60.0
HEARTBEAT_S = 10.0


class SyncLockHeld(Exception):
    """Another run holds the lock; the message says who and since when."""

    def __init__(self, lease: Lease) -> None:
        since = datetime.fromtimestamp(lease.started_at).strftime("%Y-%m-%d %H:%M:%S")
        where = f"process {lease.pid} on {lease.host}" if lease.pid else f"from {lease.host}"
        super().__init__(f"A sync is already running: {lease.holder} ({where}) since {since}.")
        self.lease = lease


class SyncLockLost(Exception):
    """The run's lock went away while it ran: on the team database the session holding it
    ended (its connection dropped, or the server ended it), so another desktop may be syncing
    now; on SQLite another run took over a lease this one had stopped renewing."""

    def __init__(self) -> None:
        super().__init__(
            "The sync lock was lost while the run went on (its connection to the database "
            "dropped); nothing was committed, and another desktop may be syncing now."
        )


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SyncLock:
    """Take with `async with lock.held(): …`; refuses while another live run holds it."""

    def __init__(self, repo: LeaseRepo, who: str, clock: Callable[[], float] = time.time) -> None:
        self.repo = repo
        self.clock = clock
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.holder = f"{who} [{uuid.uuid4().hex[:8]}]"
        self.lost = False
        self.watching = True  # a lost lock stops the run (until it has committed)

    def _may_take_over(self, held: Lease) -> bool:
        if held.host == self.host:
            return held.pid != self.pid and not _process_alive(held.pid)
        return self.clock() - held.heartbeat_at > STALE_AFTER_S

    def acquire(self) -> None:
        now = self.clock()
        blocker = self.repo.try_take(
            Lease(self.holder, self.pid, self.host, now, now), self._may_take_over
        )
        if blocker is not None:
            raise SyncLockHeld(blocker)

    def release(self) -> None:
        self.repo.release(self.holder)

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Holds the lock for the block. If it is lost meanwhile, `lost` is set and the task
        running the block is cancelled (it must then leave the shared staging area alone)."""
        self.acquire()
        self.lost, self.watching = False, True
        runner = asyncio.current_task()
        beat = asyncio.create_task(self._heartbeat(runner))
        try:
            yield
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
            self.release()

    def check(self) -> None:
        """Right before the run commits: the lock is still this run's (SyncLockLost if not)."""
        if self.lost or not self.repo.heartbeat(self.holder, self.clock()):
            self.lost = True
            raise SyncLockLost()

    async def _heartbeat(self, runner: asyncio.Task[object] | None) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                kept = self.repo.heartbeat(self.holder, self.clock())
            except Exception:  # a busy database: the next beat tries again
                log.warning("sync lock heartbeat failed", exc_info=True)
                continue
            if not kept and self.watching:
                log.error("sync lock lost: stopping the run")
                self.lost = True
                if runner is not None:
                    runner.cancel()
                return


def run_elsewhere(repo: LeaseRepo, clock: Callable[[], float] = time.time) -> str | None:
    """Who holds the lock from another process (live), in words; None when nobody does.
    The app polls this to disable its sync buttons while another window or the command line
    syncs the same database."""
    held = repo.current()
    if held is None or (held.host == socket.gethostname() and held.pid == os.getpid()):
        return None
    if held.host == socket.gethostname():
        alive = _process_alive(held.pid)
    else:
        alive = clock() - held.heartbeat_at <= STALE_AFTER_S
    return str(SyncLockHeld(held)) if alive else None
