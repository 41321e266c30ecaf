"""One sync run to its end, reported as events: the body of `engage-desktop sync` and of the
app's sync process.

The app runs each sync in a child process (`python -m engage_desktop.sync.worker`, or the
frozen app with `--sync-worker` first): a sync is CPU work in Python, and sharing the
interpreter lock with the GUI thread stalled the window (docs/PERFORMANCE.md). The child
writes one JSON event per line on stdout; the key comes in its environment, never on its
command line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.urls import UnsafeUrlError
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.klaviyo.ratelimit import RateBudget
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.database import Database, open_database
from engage_desktop.sync.engine import NotConnected, SyncEngine
from engage_desktop.sync.events import Event, SyncRefused, SyncResult, event_line
from engage_desktop.sync.lock import SyncLockHeld

log = logging.getLogger(__name__)

WORKER_FLAG = "--sync-worker"  # the frozen app's first argument when it is the sync process
KEY_ENV = "KLAVIYO_API_KEY"
# "off" lifts our own rate budget: only for the emulator run with --rate-limits off.
BUDGET_ENV = "ENGAGE_DESKTOP_RATE_BUDGET"
# How many times one request is tried before a sync gives up (default 8): tests make it 2.
ATTEMPTS_ENV = "ENGAGE_DESKTOP_MAX_ATTEMPTS"


async def run_once(
    db: Database,
    conn: Connection,
    key: ApiKey,
    trigger: str,
    full: bool,
    on_event: Callable[[Event], None],
    who: str,
) -> SyncResult | SyncRefused:
    """One run with this key; SIGTERM ends it as cancelled (contacts as they were)."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    limited = os.environ.get(BUDGET_ENV, "").lower() != "off"
    # Concurrency hides latency under the rate limit; a local server needs little.
    chains = 32 if limited else 6
    try:
        client = KlaviyoClient(
            key,
            base_url=conn.base_url,
            budget=RateBudget(enabled=limited),
            max_in_flight=128 if limited else chains,
            max_attempts=int(os.environ.get(ATTEMPTS_ENV) or 8),
        )
    except UnsafeUrlError as exc:
        return SyncRefused(str(exc), "config")
    async with client:
        engine = SyncEngine(db, client, who=who, on_progress=on_event, chains=chains)
        try:
            return await engine.run(trigger, full=full)
        except SyncLockHeld as exc:
            return SyncRefused(str(exc), "locked")
        except NotConnected as exc:
            return SyncRefused(str(exc), "config")


def command(data_dir: Path | str, trigger: str, full: bool) -> list[str]:
    """How to start this module as a process (the frozen app is its own interpreter)."""
    if getattr(sys, "frozen", False):
        program = [sys.executable, WORKER_FLAG]
    else:
        program = [sys.executable, "-m", "engage_desktop.sync.worker"]
    return [
        *program,
        "--data-dir",
        str(data_dir),
        "--trigger",
        trigger,
        *(["--full"] if full else []),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """The sync process: events on stdout, its log on stderr. Exit 0 when the run succeeded."""
    p = argparse.ArgumentParser(prog="engage-desktop sync worker")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--trigger", choices=["manual", "schedule", "install"], default="manual")
    p.add_argument("--full", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    def emit(event: Event) -> None:
        sys.stdout.write(event_line(event) + "\n")
        sys.stdout.flush()

    raw = os.environ.get(KEY_ENV, "").strip()
    db = open_database(args.data_dir)
    try:
        conn = ConnectionRepo(db).get()
        if conn is None or not raw:
            why = "Not connected to Klaviyo." if conn is None else "The API key is not available."
            emit(SyncRefused(why, "config"))
            return 2
        try:
            outcome = asyncio.run(
                run_once(db, conn, ApiKey(raw), args.trigger, args.full, emit, "Engage Desktop")
            )
        except (KeyboardInterrupt, asyncio.CancelledError):
            return 1  # the run is recorded as cancelled; the app knows it asked for that
        emit(outcome)
        return 0 if isinstance(outcome, SyncResult) and outcome.status == "succeeded" else 1
    finally:
        db.close()


if __name__ == "__main__":
    raise SystemExit(main())
