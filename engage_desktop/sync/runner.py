"""Syncs in the background: their own asyncio loop in a worker thread, never the GUI's.

The app never waits on it. It hands in requests (`request_sync`, `cancel`, `push_opt_outs`)
and hears back through one callback, called on the worker thread with immutable events
(`SyncProgress`, `SyncResult`, `SyncRefused`); the GUI's bridge turns those into signals.
The run itself is the engine in a child process (`sync/child.py`), so its CPU work never
holds the interpreter lock the GUI thread needs; opt-out pushes (a few requests) run here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from engage_desktop.core.secrets import ApiKey
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.database import Database, open_database
from engage_desktop.storage.lease import LeaseRepo
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.sync import worker
from engage_desktop.sync.child import CANCEL_GRACE_S, run_child
from engage_desktop.sync.events import SyncProgress, SyncRefused, SyncResult
from engage_desktop.sync.lock import SyncLockHeld
from engage_desktop.sync.pusher import OptOutPusher
from engage_desktop.sync.sources.mailjet_keys import KEY_ENV as MJ_KEY_ENV
from engage_desktop.sync.sources.mailjet_keys import SECRET_ENV as MJ_SECRET_ENV
from engage_desktop.sync.sources.mailjet_keys import MailjetKeys

log = logging.getLogger(__name__)

# Builds a client for the saved connection; None when its key is unavailable.
ConnectionClient = Callable[[Connection], KlaviyoClient | None]
ConnectionKey = Callable[[Connection], ApiKey | None]
# The saved Mailjet connection's key pair; None when Mailjet is not connected or it is missing.
MailjetKeysFor = Callable[[], MailjetKeys | None]
Listener = Callable[[object], None]


class BackgroundSync:
    """Owns the worker thread, its loop and the run in progress (one at a time)."""

    def __init__(
        self,
        db_path: Path | str,
        key_for: ConnectionKey,
        client_for: ConnectionClient,
        listener: Listener,
        mailjet_keys: MailjetKeysFor = lambda: None,
    ) -> None:
        self._db_path = db_path
        self._mailjet_keys = mailjet_keys
        self._key_for = key_for
        self._client_for = client_for
        self._listener = listener
        # A plain asyncio loop even when the app's policy (qasync) makes Qt loops.
        self._loop = asyncio.DefaultEventLoopPolicy().new_event_loop()
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

    def stop(self, timeout_s: float = CANCEL_GRACE_S + 10.0) -> bool:
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
            result = await self._run(trigger, full)
        except asyncio.CancelledError:
            self._current = None if mine else self._current
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
        finally:
            if mine:
                self._current = None
        if result is not None:  # told once the run is over: `running` is already False
            self._listener(result)
        return result

    async def _run(self, trigger: str, full: bool) -> SyncResult | None:
        assert self._db is not None
        conn = ConnectionRepo(self._db).get()
        key = self._key_for(conn) if conn is not None else None
        mailjet = self._mailjet_keys()  # asked here: the child cannot reach a session keyring
        if conn is None and mailjet is None and trigger == "schedule":
            return None  # nothing installed yet: the schedule has nothing to say
        if mailjet is None and (conn is None or key is None):
            why = (
                "Not connected to Klaviyo: install it under Extensions → Integrations."
                if conn is None
                else "The Klaviyo API key is not available (not in the keyring, or the keyring "
                "is locked): Reconnect under Extensions → Integrations."
            )
            self._listener(SyncRefused(why, "config"))
            return None
        extra = (
            {}
            if mailjet is None
            else {MJ_KEY_ENV: mailjet.key.reveal(), MJ_SECRET_ENV: mailjet.secret.reveal()}
        )
        self._run_id = 0
        outcome = await run_child(
            worker.command(self._db_path, trigger, full), key, self._event, extra
        )
        last = outcome.last
        if isinstance(last, SyncResult):
            return last
        if isinstance(last, SyncRefused):
            held = LeaseRepo(self._db).current()
            if last.kind == "locked" and held is not None:
                raise SyncLockHeld(held)  # the scheduler looks again later
            return None
        log.error(
            "sync process ended (exit %d) without a result: %s",
            outcome.returncode,
            outcome.stderr_tail,
        )
        result = SyncResult(
            self._run_id,
            "failed",
            trigger,
            full,
            error=f"the sync process stopped unexpectedly (exit {outcome.returncode}): "
            f"{outcome.stderr_tail.splitlines()[-1] if outcome.stderr_tail else 'no message'}",
        )
        return result

    def _event(self, event: object) -> None:
        """Progress and refusals go on at once; the result once the run is over."""
        if isinstance(event, SyncProgress):
            self._run_id = event.run_id
        if not isinstance(event, SyncResult):
            self._listener(event)

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
