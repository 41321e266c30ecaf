"""The headless commands: connect, sync, status, contacts, optout (scripts rely on them)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from datetime import datetime
from typing import Any

from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.mapping import MappingError, parse_mapping, validate_mappings
from engage_desktop.core.runs import RUN_COUNTS
from engage_desktop.core.secrets import ApiKey, redact
from engage_desktop.core.urls import UnsafeUrlError, check_base_url
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.klaviyo.errors import AuthenticationError, KlaviyoError
from engage_desktop.klaviyo.ratelimit import RateBudget
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import Database, open_database, patiently
from engage_desktop.storage.fields import FieldMapping, FieldRepo
from engage_desktop.storage.keystore import KeyStore
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.storage.runs import RunRepo
from engage_desktop.sync.engine import NotConnected, SyncEngine
from engage_desktop.sync.events import Event, SyncProgress, SyncRefused, event_line
from engage_desktop.sync.lock import SyncLockHeld
from engage_desktop.sync.phones import normalize_phone
from engage_desktop.sync.pusher import OptOutPusher

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_LOCKED = 0, 1, 2, 3
KEY_ENV = "KLAVIYO_API_KEY"
# "off" lifts our own rate budget: only for the emulator run with --rate-limits off.
BUDGET_ENV = "ENGAGE_DESKTOP_RATE_BUDGET"
# How many times one request is tried before a sync gives up (default 8): tests make it 2.
ATTEMPTS_ENV = "ENGAGE_DESKTOP_MAX_ATTEMPTS"


def add_parsers(sub: Any) -> None:
    c = sub.add_parser("connect", help="connect to Klaviyo (key from env KLAVIYO_API_KEY)")
    c.add_argument("provider", choices=["klaviyo"])
    c.add_argument("--base-url", default="https://a.klaviyo.com")
    c.add_argument("--consent", choices=["inferred", "explicit"], required=True)
    c.add_argument("--lists", required=True, help="all, or list ids separated by commas")
    c.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=PATH[:TYPE]",
        help='e.g. "Shoe size=properties.Shoe Size:number" (repeatable)',
    )
    c.add_argument("--default-region", default="US", help="for numbers without +country code")
    c.add_argument("--api-key-stdin", action="store_true", help="read the key from stdin")
    s = sub.add_parser("sync", help="sync contacts from Klaviyo now")
    s.add_argument("--full", action="store_true", help="fetch everything (finds removals)")
    s.add_argument("--json", action="store_true", help="last stdout line: the result as JSON")
    s.add_argument(
        "--events",
        action="store_true",
        help="stdout: one JSON line per progress snapshot and for the result (the app reads it)",
    )
    s.add_argument("--trigger", choices=["manual", "schedule", "install"], default="manual")
    st = sub.add_parser("status", help="connection, last run, next run, counts, pending opt-outs")
    st.add_argument("--json", action="store_true")
    ct = sub.add_parser("contacts", help="list contacts")
    ct.add_argument("--list", dest="list_name")
    ct.add_argument("--source")
    ct.add_argument("--json", action="store_true", help="one JSON object per line")
    o = sub.add_parser("optout", help="opt a phone number out and tell Klaviyo")
    o.add_argument("phone")


def run(args: argparse.Namespace, data_dir: str) -> int:
    db = open_database(data_dir)
    try:
        handler = {
            "connect": _connect,
            "sync": _sync,
            "status": _status,
            "contacts": _contacts,
            "optout": _optout,
        }[args.command]
        return handler(args, db)
    finally:
        db.close()


def _err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _key_for(conn: Connection) -> ApiKey | None:
    from_env = os.environ.get(KEY_ENV, "").strip()
    if from_env:
        return ApiKey(from_env)
    return KeyStore().load(conn.account_id) if conn.key_in_keyring else None


# ----- connect --------------------------------------------------------------------------------
def _connect(args: argparse.Namespace, db: Database) -> int:
    raw = sys.stdin.readline().strip() if args.api_key_stdin else os.environ.get(KEY_ENV, "")
    if not raw:
        _err(f"give the private API key in {KEY_ENV} or on stdin with --api-key-stdin")
        return EXIT_CONFIG
    key = ApiKey(raw)
    try:
        base_url = check_base_url(args.base_url)
        specs = [parse_mapping(m) for m in args.map]
    except (MappingError, UnsafeUrlError) as exc:
        _err(str(exc))
        return EXIT_CONFIG
    problems = validate_mappings(specs)
    if problems:
        _err(" ".join(problems))
        return EXIT_CONFIG

    async def check() -> tuple[Any, list[Any]]:
        async with KlaviyoClient(key, base_url=base_url) as client:
            return await client.validate_key(), await client.get_lists()

    try:
        check_result, lists = asyncio.run(check())
    except AuthenticationError as exc:
        _err(exc.user_message)
        return EXIT_CONFIG
    except KlaviyoError as exc:
        _err(exc.user_message)
        return EXIT_FAILED
    blocking = [m for m in check_result.missing if m.scope.endswith(":read")]
    if blocking:
        for need in blocking:
            _err(f"the key lacks {need.scope}, needed to {need.purpose}")
        return EXIT_CONFIG
    for need in check_result.missing:
        print(f"warning: the key lacks {need.scope}: cannot {need.purpose}", file=sys.stderr)
    chosen: tuple[str, ...] | None = None
    if args.lists.strip().lower() != "all":
        chosen = tuple(x.strip() for x in args.lists.split(",") if x.strip())
        unknown = sorted(set(chosen) - {lst.id for lst in lists})
        if unknown or not chosen:
            names = ", ".join(f"{lst.id} ({lst.name})" for lst in lists)
            _err(f"unknown list id(s) {', '.join(unknown) or '(none given)'}; lists: {names}")
            return EXIT_CONFIG
    stored = KeyStore().save(check_result.account.id, key)
    conn = ConnectionRepo(db).save(
        Connection(
            account_id=check_result.account.id,
            account_name=check_result.account.name,
            base_url=base_url,
            consent_mode=ConsentMode(args.consent),
            lists=chosen,
            default_region=args.default_region.upper(),
            key_in_keyring=stored,
        )
    )
    FieldRepo(db).replace_mappings([FieldMapping(s.name, s.type, s.path) for s in specs])
    print(
        f"Connected to Klaviyo account {conn.account_name} ({conn.account_id}); "
        f"lists: {'all' if chosen is None else ', '.join(chosen)}; consent: {args.consent}."
    )
    if not stored:
        print(
            f"No usable keyring on this machine: the key was not saved. Later commands read "
            f"it from {KEY_ENV}.",
            file=sys.stderr,
        )
    return EXIT_OK


# ----- sync -----------------------------------------------------------------------------------
class _Bar:
    """A one-line progress display on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()

    def __call__(self, p: SyncProgress) -> None:
        if not self.tty:
            return
        total = f"/{p.expected:,}" if p.expected else ""
        eta = f", ~{p.eta_s:.0f}s left" if p.eta_s is not None else ""
        sys.stderr.write(
            f"\r{p.phase}: {p.fetched:,}{total} profiles, {p.rate:,.0f}/s"
            f"{eta}, {p.requests} requests, {p.throttled} throttled   "
        )
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


class _Events:
    """The machine-readable progress stream of `sync --events`."""

    def __call__(self, event: Event) -> None:
        sys.stdout.write(event_line(event) + "\n")
        sys.stdout.flush()


def _sync(args: argparse.Namespace, db: Database) -> int:
    conn = ConnectionRepo(db).get()
    if conn is None:
        _err("not connected to Klaviyo yet: run `engage-desktop connect klaviyo …` first")
        if args.events:
            _Events()(SyncRefused("Not connected to Klaviyo.", "config"))
        return EXIT_CONFIG
    key = _key_for(conn)
    if key is None:
        _err(f"no API key: set {KEY_ENV} (no usable keyring held it)")
        if args.events:
            _Events()(SyncRefused("The API key is not available.", "config"))
        return EXIT_CONFIG
    bar = _Bar()
    events = _Events() if args.events else None

    async def go() -> Any:
        # SIGTERM (a service stopping, the app quitting) ends the run as Ctrl+C does: it is
        # recorded as cancelled and the contacts stay as they were.
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        limited = os.environ.get(BUDGET_ENV, "").lower() != "off"
        # Concurrency hides latency under the rate limit; a local server needs little.
        chains = 32 if limited else 6
        async with KlaviyoClient(
            key,
            base_url=conn.base_url,
            budget=RateBudget(enabled=limited),
            max_in_flight=128 if limited else chains,
            max_attempts=int(os.environ.get(ATTEMPTS_ENV) or 8),
        ) as client:
            engine = SyncEngine(
                db,
                client,
                who="Engage Desktop" if events else "command line",
                on_progress=events or bar,
                chains=chains,
            )
            return await engine.run(args.trigger, full=args.full)

    try:
        result = asyncio.run(go())
    except SyncLockHeld as exc:
        _err(str(exc))
        if events:
            events(SyncRefused(str(exc), "locked"))
        return EXIT_LOCKED
    except NotConnected as exc:
        _err(str(exc))
        if events:
            events(SyncRefused(str(exc), "config"))
        return EXIT_CONFIG
    except UnsafeUrlError as exc:
        _err(f"{exc} Fix it with `engage-desktop connect klaviyo --base-url …`.")
        if events:
            events(SyncRefused(str(exc), "config"))
        return EXIT_CONFIG
    except (KeyboardInterrupt, asyncio.CancelledError):
        bar.done()
        _err("cancelled; contacts were left as they were")
        return EXIT_FAILED
    bar.done()
    if events:
        events(result)
    summary = result.as_json()
    if result.status != "succeeded":
        _err(f"sync failed: {result.error}")
    elif not args.events:  # with --events, stdout holds nothing but events
        print(
            f"Sync {result.status} in {result.duration_s:.1f}s: "
            + ", ".join(f"{k} {summary[k]}" for k in (*RUN_COUNTS[:6], "issues"))
        )
    if result.suspicious:
        print(f"warning: {result.suspicious}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
    return EXIT_OK if result.status == "succeeded" else EXIT_FAILED


# ----- status, contacts -----------------------------------------------------------------------
def _when(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts).isoformat(timespec="seconds")


def _status(args: argparse.Namespace, db: Database) -> int:
    conn = ConnectionRepo(db).get()
    last = RunRepo(db).last()
    out: dict[str, Any] = {
        "connected": conn is not None,
        "account": None
        if conn is None
        else {
            "id": conn.account_id,
            "name": conn.account_name,
            "base_url": redact(conn.base_url),
            "consent_mode": conn.consent_mode.value,
            "lists": "all" if conn.lists is None else list(conn.lists),
            "key_in_keyring": conn.key_in_keyring,
        },
        "last_run": None
        if last is None
        else {
            "id": last.id,
            "status": last.status,
            "trigger": last.trigger,
            "full": last.full,
            "started": _when(last.started_at),
            "ended": _when(last.ended_at),
            **last.counts,
            "issues": last.issues,
            "error": last.error,
        },
        "next_run": None,
        "contacts": ContactRepo(db).counts(),
        "pending_opt_outs": OutboxRepo(db).pending_count(),
    }
    if conn is not None:
        base = last.ended_at if last and last.ended_at else time.time()
        out["next_run"] = _when(base + conn.schedule_hours * 3600)
    if args.json:
        print(json.dumps(out))
        return EXIT_OK
    if conn is None:
        print("Not connected to Klaviyo.")
    else:
        print(
            f"Klaviyo: {conn.account_name} ({conn.account_id}) at {redact(conn.base_url)}, "
            f"consent {conn.consent_mode.value}"
        )
    if last:
        print(
            f"Last run #{last.id}: {last.status} ({last.trigger}, "
            f"{'full' if last.full else 'incremental'}) at {_when(last.started_at)}"
        )
    if out["next_run"]:
        print(f"Next scheduled run: {out['next_run']} (while the app runs)")
    c = out["contacts"]
    print(
        f"Contacts: {c['total']} ({c['subscribed']} subscribed, {c['never_subscribed']} never "
        f"subscribed, {c['opted_out']} opted out, {c['without_phone']} without a valid phone)"
    )
    print(f"Opt-outs waiting for Klaviyo: {out['pending_opt_outs']}")
    return EXIT_OK


def _contacts(args: argparse.Namespace, db: Database) -> int:
    shown = 0
    for batch in ContactRepo(db).batches(args.list_name, args.source):
        for c in batch:
            if args.json:
                print(json.dumps(c.as_json(), ensure_ascii=False))
            else:
                name = " ".join(x for x in (c.first_name, c.last_name) if x) or "(no name)"
                print(
                    f"{name[:40]:40}  {c.phone or '-':16}  {(c.email or '-')[:32]:32}  "
                    f"{c.sms_status.value:16}  {','.join(c.sources)}"
                )
        shown += len(batch)
    if not args.json:
        print(f"{shown} contacts", file=sys.stderr)
    return EXIT_OK


# ----- optout ---------------------------------------------------------------------------------
def _optout(args: argparse.Namespace, db: Database) -> int:
    conn = ConnectionRepo(db).get()
    region = conn.default_region if conn else "US"
    phone = normalize_phone(args.phone, region)
    if phone is None:
        _err(f"'{args.phone}' is not a valid phone number (region {region})")
        return EXIT_CONFIG
    contacts = ContactRepo(db)

    def record() -> str:
        now = time.time()
        cid = contacts.find_by_phone(phone)
        if cid is None:
            contacts.add_opted_out(phone, "opted out by hand", now)
            return f"{phone} was not a contact: kept as an opted-out number."
        if not contacts.mark_opted_out(cid, "opted out by hand", now):
            return f"{phone} was already opted out."
        return f"{phone} opted out."

    def waiting() -> None:
        print(
            "A sync is saving its changes; the opt-out waits for it to finish (it is not lost)…",
            file=sys.stderr,
            flush=True,
        )

    print(patiently(db, record, waiting))
    key = _key_for(conn) if conn else None
    if conn is None or key is None:
        print("Not pushed to Klaviyo yet (no connection or key); the next sync sends it.")
        return EXIT_OK

    async def push() -> Any:
        async with KlaviyoClient(key, base_url=conn.base_url) as client:
            return await OptOutPusher(OutboxRepo(db), client).push_due()

    result = asyncio.run(push())
    if result.error:
        print(
            f"Klaviyo not told yet ({result.error}); it stays queued and is retried.",
            file=sys.stderr,
        )
    else:
        print(f"Sent to Klaviyo: {result.sent} opt-out(s) (SMS unsubscribed).")
    return EXIT_OK
