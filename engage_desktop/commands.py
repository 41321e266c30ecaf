"""The headless commands: connect, sync, status, contacts, optout. They parse and print; what
they do is in `actions/` (the app calls the same actions)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engage_desktop.actions import ActionError, Actions, Credentials, Exit, NeedsConfirmation
from engage_desktop.actions.connection import Lists, check_region, connect_plan_from
from engage_desktop.actions.contacts import contact_batches
from engage_desktop.actions.status import Status, when
from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.mapping import MappingError, MappingSpec, parse_mapping, validate_mappings
from engage_desktop.core.runs import RUN_COUNTS
from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.urls import UnsafeUrlError, check_base_url
from engage_desktop.core.words import plural
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.storage.database import DB_NAME, Database
from engage_desktop.sync.events import Event, SyncProgress, SyncRefused, SyncResult, event_line

KEY_ENV = "KLAVIYO_API_KEY"
OPT_OUT_WAIT_S = 10.0  # how long `optout` waits for Klaviyo before saying it is queued


Handler = Callable[[argparse.Namespace, Actions], int]
# What each command runs: `connect` by provider ("connect klaviyo"), the others by name.
# Other services' command modules add theirs (their `add_parsers` registers them).
HANDLERS: dict[str, Handler] = {}


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> Any:
    """The commands of this module; returns `connect`'s provider subparsers for other
    services' command modules to add theirs."""
    connect = sub.add_parser(
        "connect",
        parents=[common],
        help="connect a service (Klaviyo), or change its connection",
        description="Checks the credentials live and saves the connection. Run again to change "
        "it: what you do not name stays as it is.",
    )
    providers = connect.add_subparsers(
        dest="provider", metavar="SERVICE", required=True, help="the service to connect"
    )
    c = providers.add_parser(
        "klaviyo",
        parents=[common],
        help="connect to Klaviyo, or change the connection (key from env KLAVIYO_API_KEY)",
        description="Checks the key live and saves the connection. Run again to change it: "
        "what you do not name stays as it is (consent, lists, region, mappings, schedule).",
    )
    c.add_argument("--base-url", help="Klaviyo's address (default https://a.klaviyo.com)")
    c.add_argument(
        "--consent",
        choices=["inferred", "explicit"],
        help="how profiles without SMS consent count (needed the first time)",
    )
    c.add_argument("--lists", help="'all', or list ids separated by commas (needed the first time)")
    c.add_argument(
        "--map",
        action="append",
        metavar="FIELD=PATH[:TYPE]",
        help='a field mapping, e.g. "Shoe size=properties.Shoe Size:number" (repeatable; '
        "given, it replaces the saved mappings)",
    )
    c.add_argument("--default-region", help="country of numbers written without +country (US)")
    c.add_argument("--api-key-stdin", action="store_true", help="read the key from stdin")
    c.add_argument(
        "--yes", action="store_true", help="confirm a change that makes contacts messageable"
    )
    s = sub.add_parser(
        "sync", parents=[common], help="sync contacts from every connected source now"
    )
    s.add_argument("--full", action="store_true", help="fetch everything (finds removals)")
    s.add_argument(
        "--source",
        choices=["klaviyo", "mailjet"],
        help="sync only this source (default: every connected one)",
    )
    s.add_argument("--json", action="store_true", help="last stdout line: the result as JSON")
    s.add_argument(
        "--events",
        action="store_true",
        help="stdout: one JSON line per progress snapshot and one for the result",
    )
    s.add_argument(
        "--trigger",
        choices=["manual", "schedule", "install"],
        default="manual",
        help="what started the run, as the history records it",
    )
    st = sub.add_parser(
        "status", parents=[common], help="connection, last run, next run, counts, opt-outs"
    )
    st.add_argument("--json", action="store_true", help="one JSON object")
    ct = sub.add_parser("contacts", parents=[common], help="list contacts")
    ct.add_argument("--list", dest="list_name", help="only the members of this list")
    ct.add_argument("--source", help="only contacts from this source (KLAVIYO, …)")
    ct.add_argument("--json", action="store_true", help="one JSON object per line")
    o = sub.add_parser("optout", parents=[common], help="opt a phone number out and tell Klaviyo")
    o.add_argument("phone", help="the number, written any way (+1 415 555 0100, 0415…)")
    HANDLERS.update(
        {
            "connect klaviyo": _connect,
            "sync": _sync,
            "status": _status,
            "contacts": _contacts,
            "optout": _optout,
        }
    )
    return providers


def run(
    args: argparse.Namespace, folder: Path, db: Database, actions: Actions, created: bool
) -> int:
    """Run the command; `created`: this command made the database (a failed first connect
    removes it again)."""
    name = f"connect {args.provider}" if args.command == "connect" else args.command
    handler = HANDLERS[name]
    try:
        code = handler(args, actions)
    except NeedsConfirmation as exc:
        _err(f"{exc.message} Run again with --yes to confirm.")
        code = int(exc.exit)
    except ActionError as exc:
        _err(exc.message)
        code = int(exc.exit)
    if args.command == "connect" and code != Exit.OK and created:
        db.close()  # a failed first connect leaves no database behind
        for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"):
            (folder / name).unlink(missing_ok=True)
    return code


def _err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def interactive_client_factory() -> Callable[[ApiKey, str], KlaviyoClient]:
    """Clients for a person waiting at a terminal: few retries, each one said on stderr."""

    def said(problem: str, attempt: int, attempts: int, wait: float) -> None:
        what = (
            "Klaviyo asked us to slow down (its rate limit)"
            if problem == "throttled"
            else f"Klaviyo answered {problem}"
            if problem.startswith("HTTP")
            else f"Klaviyo did not answer ({problem})"
        )
        print(
            f"{what}; trying again in {max(wait, 1):.0f} s (attempt {attempt + 1} of {attempts})…",
            file=sys.stderr,
            flush=True,
        )

    def make(key: ApiKey, base_url: str) -> KlaviyoClient:
        return KlaviyoClient(
            key, base_url, timeout_s=10.0, max_attempts=4, max_wait_s=20.0, on_retry=said
        )

    return make


# ----- connect --------------------------------------------------------------------------------
def _connect(args: argparse.Namespace, actions: Actions) -> int:
    raw = sys.stdin.readline().strip() if args.api_key_stdin else None
    key = ApiKey(raw) if raw else None
    if args.api_key_stdin and key is None:
        raise ActionError("--api-key-stdin was given, but stdin held no key.")
    if key is None:
        key = actions.credentials.environment_key()  # else the saved key, when there is one
    # What no retry can fix is refused before Klaviyo is asked anything.
    if args.default_region is not None:
        check_region(args.default_region)
    if args.base_url is not None:
        try:
            check_base_url(args.base_url)
        except UnsafeUrlError as exc:
            raise ActionError(str(exc)) from None
    mappings: tuple[MappingSpec, ...] | None = None
    if args.map is not None:
        try:
            mappings = tuple(parse_mapping(m) for m in args.map)
        except MappingError as exc:
            raise ActionError(str(exc)) from None
        problems = validate_mappings(list(mappings))
        if problems:
            raise ActionError(" ".join(problems))
    lists: Lists | None = None
    if args.lists is not None:
        text = args.lists.strip()
        lists = "all" if text.lower() == "all" else tuple(x.strip() for x in text.split(",") if x)

    async def check() -> Any:
        verified = await actions.connection.verify(key, args.base_url)
        known = await actions.connection.lists(verified)
        return verified, known

    verified, known = asyncio.run(check())
    for scope in verified.missing_scopes:
        print(f"warning: the key lacks {scope}: opt-outs cannot be sent back", file=sys.stderr)
    plan = connect_plan_from(
        verified,
        known,
        ConsentMode(args.consent) if args.consent else None,
        lists,
        args.default_region,
        mappings,
    )
    done = actions.connection.connect(plan, confirm=args.yes)
    conn = done.connection
    shown = "off" if conn.lists == () else "all" if conn.lists is None else ", ".join(conn.lists)
    print(
        f"Connected to Klaviyo account {conn.account_name} ({conn.account_id}); lists: {shown}; "
        f"consent: {conn.consent_mode.value}; numbers without +country: {conn.default_region}."
    )
    for note in done.notes:
        print(note, file=sys.stderr)
    return Exit.OK


# ----- sync -----------------------------------------------------------------------------------
class _Bar:
    """A one-line progress display on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()

    def __call__(self, event: Event) -> None:
        if not self.tty or not isinstance(event, SyncProgress):
            return
        p = event
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


def _print_event(event: Event) -> None:
    sys.stdout.write(event_line(event) + "\n")
    sys.stdout.flush()


def _sync(args: argparse.Namespace, actions: Actions) -> int:
    bar = _Bar()
    on_event = _print_event if args.events else bar
    who = "Engage Desktop" if args.events else "command line"
    try:
        outcome: SyncResult | SyncRefused = asyncio.run(
            actions.sync(args.trigger, args.full, on_event, who, args.source)
        )
    except (KeyboardInterrupt, asyncio.CancelledError):
        bar.done()
        outcome = SyncResult(
            0,
            "cancelled",
            args.trigger,
            args.full,
            error="cancelled; contacts were left as they were",
        )
    bar.done()
    if args.events:
        _print_event(outcome)
    if isinstance(outcome, SyncRefused):
        _err(outcome.reason)
        if args.json:
            print(json.dumps({"status": "refused", "kind": outcome.kind, "error": outcome.reason}))
        return Exit.LOCKED if outcome.kind == "locked" else Exit.CONFIG
    summary = outcome.as_json()
    if outcome.status != "succeeded":
        _err(f"sync {outcome.status}: {outcome.error}")
    elif not args.events:  # with --events, stdout holds nothing but events
        print(
            f"Sync succeeded in {outcome.duration_s:.1f}s: "
            + ", ".join(f"{k} {summary[k]:,}" for k in RUN_COUNTS[:6])
            + f", {plural(summary['issues'], 'issue')}"
        )
    if outcome.suspicious:
        print(f"warning: {outcome.suspicious}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
    return Exit.OK if outcome.status == "succeeded" else Exit.FAILED


# ----- status, contacts -----------------------------------------------------------------------
def _status(args: argparse.Namespace, actions: Actions) -> int:
    st = actions.status()
    if args.json:
        print(json.dumps(st.as_json()))
        return Exit.OK
    for line in status_lines(st):
        print(line)
    return Exit.OK


def status_lines(st: Status) -> list[str]:
    """`status` as sentences."""
    doc = st.as_json()
    conn, last = st.connection, st.last_run
    lines = []
    if conn is None:
        lines.append("Not connected to Klaviyo: run `engage-desktop connect klaviyo …`.")
    else:
        account = doc["account"]
        lines.append(
            f"Klaviyo: {conn.account_name} ({conn.account_id}) at {account['base_url']}, "
            f"{conn.consent_mode.value} consent, numbers without +country read as "
            f"{conn.default_region}."
        )
        key = {
            None: "missing — connect again to enter it",
            "keyring": "in the system keyring",
            "environment": "from KLAVIYO_API_KEY",
            "session": "held for this session",
        }[account["key"]]
        lines.append(f"API key: {key}.")
    if st.running:
        lines.append(st.running)
    if last is not None:
        kind = "full" if last.full else "incremental"
        started = when(last.started_at)
        line = f"Last run #{last.id}: {last.status} ({last.trigger}, {kind}) at {started}"
        if last.error:
            line += f" — {last.error}"
        lines.append(line + ".")
        if last.suspicious:
            lines.append(f"Warning: {last.suspicious}")
    if st.next_run is not None:
        lines.append(
            f"Next automatic sync: {when(st.next_run.at)} ({st.next_run.why}; while the app runs)."
        )
    c = st.contacts
    lines.append(
        f"Contacts: {c['total']:,} ({c['subscribed']:,} subscribed, {c['never_subscribed']:,} "
        f"never subscribed, {c['opted_out']:,} opted out; {c['without_phone']:,} without a "
        f"valid phone)."
    )
    lines.append(f"Opt-outs waiting for Klaviyo: {st.pending_opt_outs:,}.")
    return lines


def _contacts(args: argparse.Namespace, actions: Actions) -> int:
    shown = 0
    for batch in contact_batches(actions.db, args.list_name, args.source):
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
        print(f"{shown:,} contact{'' if shown == 1 else 's'}", file=sys.stderr)
    return Exit.OK


# ----- optout ---------------------------------------------------------------------------------
def _optout(args: argparse.Namespace, actions: Actions) -> int:
    def waiting() -> None:
        print(
            "A sync is saving its changes; the opt-out waits for it to finish (it is not lost)…",
            file=sys.stderr,
            flush=True,
        )

    done = actions.optouts.opt_out_number(args.phone, "opted out by hand", waiting)
    if not done.known:
        print(f"{done.phone} was not a contact: kept as an opted-out number.")
    elif not done.newly:
        print(f"{done.phone} was already opted out (Klaviyo is told again).")
    else:
        print(f"{done.phone} opted out.")
    pushed = asyncio.run(actions.optouts.push(OPT_OUT_WAIT_S))
    if pushed.error:
        print(
            f"Klaviyo not told yet ({pushed.error}): the opt-out is queued and goes with the "
            f"next sync or while the app runs.",
            file=sys.stderr,
        )
    else:
        print(f"Klaviyo told: {pushed.sent} opt-out{'' if pushed.sent == 1 else 's'} sent.")
    return Exit.OK


def build_actions(db: Database) -> Actions:
    return Actions(db, Credentials(), interactive_client_factory())
