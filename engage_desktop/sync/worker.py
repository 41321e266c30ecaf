"""One sync run to its end, reported as events: the body of `engage-desktop sync` and of the
app's sync process.

The app runs each sync in a child process (`python -m engage_desktop.sync.worker`, or the
frozen app with `--sync-worker` first): a sync is CPU work in Python, and sharing the
interpreter lock with the GUI thread stalled the window (docs/PERFORMANCE.md). The child
writes one JSON event per line on stdout; the Klaviyo key comes in its environment, never on
its command line; the Mailjet key pair from its environment or the keyring.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.sources import KLAVIYO, MAILJET
from engage_desktop.core.urls import UnsafeUrlError
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.klaviyo.ratelimit import RateBudget
from engage_desktop.mailjet.client import MailjetClient
from engage_desktop.mailjet.ratelimit import RateBudget as MailjetBudget
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.database import Database, DatabaseError, lost_database, open_database
from engage_desktop.storage.mailjet_settings import MailjetSettings, MailjetSettingsRepo
from engage_desktop.sync.engine import NotConnected, SyncEngine
from engage_desktop.sync.events import Event, SyncRefused, SyncResult, event_line
from engage_desktop.sync.lock import SyncLockHeld
from engage_desktop.sync.schedule_claim import ScheduledRunTaken
from engage_desktop.sync.sources.base import ContactSource, UnavailableSource
from engage_desktop.sync.sources.klaviyo import KlaviyoSource
from engage_desktop.sync.sources.mailjet import MailjetSource
from engage_desktop.sync.sources.mailjet_keys import MailjetCredentials, MailjetKeys

log = logging.getLogger(__name__)

WORKER_FLAG = "--sync-worker"  # the frozen app's first argument when it is the sync process
KEY_ENV = "KLAVIYO_API_KEY"
# "off" lifts our own rate budgets: only for emulators run without limits.
BUDGET_ENV = "ENGAGE_DESKTOP_RATE_BUDGET"
# How many times one request is tried before a sync gives up (default 8): tests make it 2.
ATTEMPTS_ENV = "ENGAGE_DESKTOP_MAX_ATTEMPTS"
SOURCES = ("klaviyo", "mailjet")  # what `--source` may name
NO_KLAVIYO_KEY = (
    "The Klaviyo API key is not available (not in KLAVIYO_API_KEY or the keyring): connect "
    "again to enter it. Klaviyo contacts were left as they were."
)
NO_MAILJET_KEYS = (
    "The Mailjet key pair is not available (not in MAILJET_API_KEY and MAILJET_API_SECRET or "
    "the keyring): connect Mailjet again. Mailjet contacts were left as they were."
)


@dataclass(frozen=True)
class MailjetAccess:
    """The Mailjet connection and the key pair to use with it."""

    settings: MailjetSettings
    keys: MailjetKeys


async def run_once(
    db: Database,
    conn: Connection | None,
    key: ApiKey | None,
    trigger: str,
    full: bool,
    on_event: Callable[[Event], None],
    who: str,
    *,
    mailjet: MailjetAccess | None = None,
    only: str | None = None,
) -> SyncResult | SyncRefused:
    """One run over the connected sources (`only`: klaviyo or mailjet); SIGTERM ends it as
    cancelled (contacts as they were). Klaviyo's client is made whenever Klaviyo is
    connected: opt-outs go there whichever source they came from."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    limited = os.environ.get(BUDGET_ENV, "").lower() != "off"
    attempts = int(os.environ.get(ATTEMPTS_ENV) or 8)
    # Concurrency hides latency under the rate limit; a local server needs little.
    chains = 32 if limited else 6
    if only == "klaviyo" and (conn is None or key is None):
        why = (
            "Not connected to Klaviyo." if conn is None else "The Klaviyo API key is not available."
        )
        return SyncRefused(why, "config")
    if only == "mailjet" and mailjet is None:
        return SyncRefused(
            "Not connected to Mailjet (or its key pair is not available): run "
            "`engage-desktop connect mailjet …` first.",
            "config",
        )
    async with contextlib.AsyncExitStack() as stack:
        sources: list[ContactSource] = []
        klaviyo: KlaviyoClient | None = None
        try:
            if conn is not None and key is not None:
                klaviyo = await stack.enter_async_context(
                    KlaviyoClient(
                        key,
                        base_url=conn.base_url,
                        budget=RateBudget(enabled=limited),
                        max_in_flight=128 if limited else chains,
                        max_attempts=attempts,
                    )
                )
                if only in (None, "klaviyo"):
                    sources.append(KlaviyoSource(db, klaviyo, chains))
            elif conn is not None and conn.lists != () and only is None:
                sources.append(UnavailableSource(KLAVIYO, "profiles", NO_KLAVIYO_KEY))
            if mailjet is None and only is None and MailjetSettingsRepo(db).get() is not None:
                sources.append(UnavailableSource(MAILJET, "contacts", NO_MAILJET_KEYS))
            if mailjet is not None and only in (None, "mailjet"):
                client = await stack.enter_async_context(
                    MailjetClient(
                        mailjet.keys.key,
                        mailjet.keys.secret,
                        mailjet.settings.base_url,
                        budget=MailjetBudget(enabled=limited),
                        max_attempts=attempts,
                    )
                )
                sources.append(MailjetSource(db, client))
        except UnsafeUrlError as exc:
            return SyncRefused(str(exc), "config")
        engine = SyncEngine(db, klaviyo, sources=sources, who=who, on_progress=on_event)
        try:
            return await engine.run(trigger, full=full)
        except (SyncLockHeld, ScheduledRunTaken) as exc:
            return SyncRefused(str(exc), "locked")
        except NotConnected as exc:
            return SyncRefused(str(exc), "config")


def mailjet_access(db: Database, credentials: MailjetCredentials) -> MailjetAccess | None:
    """The Mailjet connection with its key pair; None when either is missing (blocking: the
    keyring may be asked)."""
    settings = MailjetSettingsRepo(db).get()
    if settings is None:
        return None
    found = credentials.keys_for(settings.key_ref)
    return None if found is None else MailjetAccess(settings, found[0])


def command(data_dir: Path | str, trigger: str, full: bool, source: str | None = None) -> list[str]:
    """How to start this module as a process (the frozen app is its own interpreter)."""
    if getattr(sys, "frozen", False):
        program = [sys.executable, WORKER_FLAG]
    else:
        program = [sys.executable, "-m", "engage_desktop.sync.worker"]
    return [
        *program,
        "--data-dir",
        str(data_dir),
        *(["--source", source] if source else []),
        "--trigger",
        trigger,
        *(["--full"] if full else []),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """The sync process: events on stdout, its log on stderr. Exit 0 when the run succeeded."""
    p = argparse.ArgumentParser(prog="engage-desktop sync worker")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--source", choices=SOURCES)
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
        mailjet = mailjet_access(db, MailjetCredentials()) if args.source != "klaviyo" else None
        if mailjet is None and (conn is None or not raw):
            why = "Not connected to Klaviyo." if conn is None else "The API key is not available."
            emit(SyncRefused(why, "config"))
            return 2
        try:
            outcome = asyncio.run(
                run_once(
                    db,
                    conn,
                    ApiKey(raw) if raw else None,
                    args.trigger,
                    args.full,
                    emit,
                    "Engage Desktop",
                    mailjet=mailjet,
                    only=args.source,
                )
            )
        except (KeyboardInterrupt, asyncio.CancelledError):
            return 1  # the run is recorded as cancelled; the app knows it asked for that
        except DatabaseError as exc:  # the team database's server went away mid-run
            print(f"error: {lost_database(exc)}", file=sys.stderr)
            return 1
        emit(outcome)
        return 0 if isinstance(outcome, SyncResult) and outcome.status == "succeeded" else 1
    finally:
        db.close()


if __name__ == "__main__":
    raise SystemExit(main())
