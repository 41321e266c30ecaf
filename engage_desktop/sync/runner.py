"""Syncs in the background: the engine on its own asyncio loop in a worker thread.

The app never waits on it. It hands in requests (`request_sync`, `cancel`, `push_opt_outs`)
and hears back through one callback, called on the worker thread with immutable events
(`SyncProgress`, `SyncResult`, `SyncRefused`); the GUI's bridge turns those into signals.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.database import Database, open_database
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.sync.engine import NotConnected, SyncEngine
from engage_desktop.sync.events import SyncProgress, SyncRefused, SyncResult
from engage_desktop.sync.lock import SyncLockHeld
from engage_desktop.sync.pusher import OptOutPusher

log = logging.getLogger(__name__)

# Builds a client for the saved connection; None when its key is unavailable.
ConnectionClient = Callable[[Connection], KlaviyoClient | None]
Listener = Callable[[object], None]


class BackgroundSync:
    """Owns the worker thread, its loop and the run in progress (one at a time)."""

    def __init__(
        self,
        db_path: Path | str,
        client_for: ConnectionClient,
        listener: Listener,
        *,
        who: str = "Engage Desktop",
        chains: int = 32,
    ) -> None:
        self._db_path = db_path
        self._client_for = client_for
        self._listener = listener
        self._who = who
        self._chains = chains
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="sync", daemon=True)
        self._db: Database | None = None
        self._current: asyncio.Task[Any] | None = None
        self._run_id = 0  # of the run in progress, from its snapshots
        self._started = threading.Event()

    # ----- life -----------------------------------------------------------------------------
    def start(self) -> BackgroundSync:
        self._thread.start()
        self._started.wait()
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._db = open_database(self._db_path)
        self._loop.call_soon(self._started.set)
        try:
            self._loop.run_forever()
        finally:
            self._db.close()
            self._loop.close()

    def stop(self, timeout_s: float = 10.0) -> bool:
        """Cancel a run in progress (contacts stay as they were) and end the thread.
        True when a run was cancelled."""
        if not self._thread.is_alive():
            return False
        was_running = self.submit(self._cancel_and_wait()).result(timeout_s)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout_s)
        return bool(was_running)

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Run a coroutine on the worker loop (from any thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    @property
    def running(self) -> bool:
        return self._current is not None and not self._current.done()

    # ----- requests (any thread) -------------------------------------------------------------
    def request_sync(self, trigger: str, full: bool = False) -> concurrent.futures.Future[Any]:
        """Start a run; a refusal (a run already going, here or elsewhere) comes as an event."""
        return self.submit(self.run(trigger, full))

    def cancel(self) -> None:
        self._loop.call_soon_threadsafe(self._cancel_current)

    def push_opt_outs(self) -> concurrent.futures.Future[Any]:
        return self.submit(self.push_due())

    # ----- on the worker loop -----------------------------------------------------------------
    async def run(self, trigger: str, full: bool = False) -> SyncResult | None:
        """One run, reported through the listener; also what the scheduler calls."""
        # A second request while ours runs is refused by the lock like any other.
        mine = not self.running
        if mine:
            self._current = asyncio.current_task()
        try:
            return await self._run(trigger, full)
        finally:
            if mine:
                self._current = None

    async def _run(self, trigger: str, full: bool) -> SyncResult | None:
        assert self._db is not None
        conn = ConnectionRepo(self._db).get()
        client = self._client_for(conn) if conn is not None else None
        if conn is None or client is None:
            why = "Not connected to Klaviyo." if conn is None else "The API key is not available."
            self._listener(SyncRefused(why, "config"))
            return None
        async with client:
            engine = SyncEngine(
                self._db, client, who=self._who, on_progress=self._progress, chains=self._chains
            )
            try:
                result = await engine.run(trigger, full)
            except SyncLockHeld as exc:
                self._listener(SyncRefused(str(exc), "locked"))
                raise
            except NotConnected as exc:
                self._listener(SyncRefused(str(exc), "config"))
                return None
            except asyncio.CancelledError:
                self._listener(
                    SyncResult(
                        self._run_id,
                        "cancelled",
                        trigger,
                        full,
                        error="cancelled; contacts were left as they were",
                    )
                )
                raise
        self._listener(result)
        return result

    def _progress(self, snapshot: SyncProgress) -> None:
        self._run_id = snapshot.run_id
        self._listener(snapshot)

    async def push_due(self) -> object:
        assert self._db is not None
        conn = ConnectionRepo(self._db).get()
        if conn is None or OutboxRepo(self._db).next_due_at() is None:
            return None
        client = self._client_for(conn)
        if client is None:
            return None
        async with client:
            return await OptOutPusher(OutboxRepo(self._db), client).push_due()

    def _cancel_current(self) -> None:
        if self._current is not None:
            self._current.cancel()

    async def _cancel_and_wait(self) -> bool:
        """Cancel everything on the loop (a run, the schedule, the opt-out loop); True when a
        run was in progress."""
        was_running = self.running
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        if others:
            await asyncio.wait(others)
        return was_running
