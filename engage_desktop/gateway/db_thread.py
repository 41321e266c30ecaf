"""Database work off the event loop: one thread with its own SQLite connection.

A send keeps dozens of requests in flight on one asyncio loop; a claim or a commit that had
to wait for a sync's commit would stall every one of them if it ran on the loop. So each
gateway task hands its database work to one thread (one writer, in order, as Anki's
`taskman` does). peewee keeps a connection per thread, so that thread opens its own (WAL:
it reads committed data only) and closes it at the end.

A write that finds the database locked (a sync's commit taking longer than the busy
timeout) waits and tries again instead of failing: what it records (a batch was accepted,
an opt-out was heard) must not be lost.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from engage_desktop.storage.database import PATIENT_WAIT_S, Database, is_locked

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


class DbThread:
    """Runs database calls in order on one thread; `await db_thread.run(fn, *args)`."""

    def __init__(self, db: Database, name: str = "gateway-db") -> None:
        self.db = db
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name)
        self.waited = 0  # times a write waited for another writer (a sync's commit)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        call = functools.partial(self._patiently, functools.partial(fn, *args, **kwargs))
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """The same, blocking (from a thread that is not the loop's)."""
        return self._pool.submit(self._patiently, functools.partial(fn, *args, **kwargs)).result()

    def _patiently(self, fn: Callable[[], T]) -> T:
        deadline = time.monotonic() + PATIENT_WAIT_S
        while True:
            try:
                return fn()
            except Exception as exc:
                if not is_locked(exc) or time.monotonic() > deadline:
                    raise
                self.waited += 1
                log.info("the database is busy (a sync saving?); trying again")
                time.sleep(0.2)

    def close(self) -> None:
        """Close this thread's connection and end the thread."""
        try:
            self._pool.submit(self.db.close).result(timeout=30)
        finally:
            self._pool.shutdown(wait=True)

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)
