"""The commands for contacts from several sources: `connect mailjet`, `import`, `sources`
and `merge-report`. They parse and print; what they do is in `actions/` (the app calls the
same actions)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from engage_desktop.actions import ActionError, Actions, Exit
from engage_desktop.actions.imports import Imported
from engage_desktop.actions.mailjet import MailjetActions, MailjetPlan
from engage_desktop.commands import HANDLERS, OPT_OUT_WAIT_S
from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.mapping import MappingError, MappingSpec, parse_mapping
from engage_desktop.core.sources import source_label
from engage_desktop.core.urls import UnsafeUrlError, check_base_url
from engage_desktop.core.words import plural
from engage_desktop.imports.report import ImportProgress, ImportReport
from engage_desktop.mailjet.client import MailjetClient
from engage_desktop.sync.sources.mailjet_keys import MailjetKeys

SHOWN_PROBLEMS = 20  # problem rows printed (all are in --json and in the import's history)


def add_parsers(sub: Any, common: argparse.ArgumentParser, providers: Any) -> None:
    """`connect mailjet` on `connect`'s SERVICE subparsers, and this module's commands."""
    c = providers.add_parser(
        "mailjet",
        parents=[common],
        help="connect to Mailjet, or change the connection (keys from env MAILJET_API_KEY and "
        "MAILJET_API_SECRET)",
        description="Checks the key pair live and saves the connection. Run again to change it: "
        "what you do not name stays as it is (phone property, lists, consent, mappings).",
    )
    c.add_argument("--base-url", help="Mailjet's address (default https://api.mailjet.com)")
    c.add_argument(
        "--phone-property",
        metavar="NAME",
        help="the contact property holding phone numbers (needed the first time)",
    )
    c.add_argument(
        "--lists", help="'all', or Mailjet list ids separated by commas (needed the first time)"
    )
    c.add_argument(
        "--consent",
        choices=["inferred", "explicit"],
        help="how contacts without an SMS consent count (default explicit: not messageable)",
    )
    c.add_argument(
        "--consent-property",
        metavar="NAME",
        help="a true/false contact property: true is SMS consent, false an opt-out ('' clears it)",
    )
    c.add_argument(
        "--map",
        action="append",
        metavar="FIELD=PROPERTY[:TYPE]",
        help='a field mapping from a contact property, e.g. "City=city" or '
        '"Points=loyalty_points:number" (repeatable; given, it replaces the saved mappings)',
    )
    c.add_argument("--default-region", help="country of numbers written without +country (US)")
    c.add_argument(
        "--yes", action="store_true", help="confirm a change that makes contacts messageable"
    )
    i = sub.add_parser(
        "import",
        parents=[common],
        help="import contacts from a CSV file into a group (merged by phone number)",
        description="Reads the file (UTF-8 or Windows-1252; comma, semicolon, tab or | "
        "separated), guesses what each column holds, and imports every row with a valid phone "
        "number in one go. Importing the same file again changes nothing.",
    )
    i.add_argument("file", help="the CSV file")
    i.add_argument("--group", required=True, help="the group the contacts join ('CSV: NAME')")
    i.add_argument(
        "--map",
        action="append",
        metavar="COLUMN=FIELD",
        help="what a column holds: phone, email, first_name, last_name, name, opted_out, "
        "subscribed, skip, or a field 'Name[:text|number|date]' (repeatable)",
    )
    i.add_argument("--default-region", help="country of numbers written without +country")
    i.add_argument(
        "--replace",
        action="store_true",
        help="the group becomes exactly this file (contacts not in it leave the group)",
    )
    i.add_argument("--dry-run", action="store_true", help="say what would happen; change nothing")
    i.add_argument("--json", action="store_true", help="one JSON object (with the problem rows)")
    so = sub.add_parser(
        "sources",
        parents=[common],
        help="the connected sources and which one wins a field (the source priority)",
    )
    so.add_argument(
        "--priority",
        metavar="SOURCES",
        help="a new priority, first wins: e.g. KLAVIYO,CSV,MAILJET (applies at once)",
    )
    so.add_argument("--json", action="store_true", help="one JSON object")
    mr = sub.add_parser(
        "merge-report",
        parents=[common],
        help="what a sync run or an import merged across sources",
    )
    which = mr.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", type=int, help="the sync run's number (`status` shows the last)")
    which.add_argument("--import-id", type=int, help="the import's number (`import` prints it)")
    mr.add_argument("--export", metavar="FILE", help="write the whole report as a CSV file")
    mr.add_argument("--json", action="store_true", help="one JSON object per line")
    HANDLERS.update(
        {
            "connect mailjet": _connect,
            "import": _import,
            "sources": _sources,
            "merge-report": _merge_report,
        }
    )


def _err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _said_retry(problem: str, attempt: int, attempts: int, wait: float) -> None:
    what = (
        "Mailjet asked us to slow down (its rate limit)"
        if problem == "throttled"
        else f"Mailjet answered {problem}"
        if problem.startswith("HTTP")
        else f"Mailjet did not answer ({problem})"
    )
    print(
        f"{what}; trying again in {max(wait, 1):.0f} s (attempt {attempt + 1} of {attempts})…",
        file=sys.stderr,
        flush=True,
    )


def interactive_client(keys: MailjetKeys, base_url: str) -> MailjetClient:
    """A client for a person at a terminal: few retries, each one said on stderr."""
    return MailjetClient(
        keys.key,
        keys.secret,
        base_url,
        timeout_s=10.0,
        max_attempts=4,
        max_wait_s=20.0,
        on_retry=_said_retry,
    )


# ----- connect mailjet ------------------------------------------------------------------------
def _connect(args: argparse.Namespace, actions: Actions) -> int:
    mailjet = MailjetActions(
        actions.db, actions.mailjet.credentials, interactive_client, actions.clock
    )
    keys = mailjet.credentials.environment_keys()  # else the saved pair, when there is one
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
    lists: Any = None
    if args.lists is not None:
        text = args.lists.strip()
        lists = "all" if text.lower() == "all" else tuple(x.strip() for x in text.split(",") if x)

    async def check() -> MailjetPlan:
        verified = await mailjet.verify(keys, args.base_url)
        plan = MailjetPlan(
            verified,
            args.phone_property,
            lists,
            ConsentMode(args.consent) if args.consent else None,
            args.consent_property,
            args.default_region,
            mappings,
        )
        return await mailjet.check_plan(plan)

    plan = asyncio.run(check())
    done = mailjet.connect(plan, confirm=args.yes)
    s = done.settings
    shown = "off" if s.lists == () else "all" if s.lists is None else ", ".join(s.lists)
    consent = s.consent_mode.value + (
        f" (from '{s.consent_property}')" if s.consent_property else ""
    )
    print(
        f"Connected to Mailjet (key {s.key_hint}, {plural(plan.verified.contacts, 'contact')}); "
        f"phones from '{s.phone_property}'; lists: {shown}; consent: {consent}; numbers "
        f"without +country: {s.default_region}."
    )
    for note in done.notes:
        print(note, file=sys.stderr)
    return Exit.OK


# ----- import ---------------------------------------------------------------------------------
class _Progress:
    """A one-line progress display on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()

    def __call__(self, p: ImportProgress) -> None:
        if self.tty:
            share = p.bytes_read / p.total_bytes if p.total_bytes else 1.0
            sys.stderr.write(f"\r{p.phase}: {p.rows:,} rows ({share:.0%})   ")
            sys.stderr.flush()

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def _import(args: argparse.Namespace, actions: Actions) -> int:
    prepared = actions.imports.prepare(
        Path(args.file), args.group, tuple(args.map or ()), args.default_region, args.replace
    )
    progress = _Progress()
    try:
        if args.dry_run:
            report = actions.imports.dry_run(prepared, progress)
            done: Imported | None = None
        else:
            done = actions.imports.run(prepared, "command line", progress)
            report = done.report
    finally:
        progress.done()
    pushed = None
    if done is not None and report.counts.queued_opt_outs:
        pushed = asyncio.run(actions.optouts.push(OPT_OUT_WAIT_S))
    if args.json:
        doc = report.as_json()
        if pushed is not None:
            doc["opt_outs_sent"], doc["opt_outs_error"] = pushed.sent, pushed.error
        print(json.dumps(doc, ensure_ascii=False))
    else:
        for line in import_lines(report):
            print(line)
        for p in report.problems[:SHOWN_PROBLEMS]:
            where = f"line {p.line}" + (f", {p.column}" if p.column else "")
            value = f" '{p.value}'" if p.value else ""
            print(f"  {where}:{value} {p.reason}", file=sys.stderr)
        if report.counts.problems > SHOWN_PROBLEMS:
            more = report.counts.problems - SHOWN_PROBLEMS
            print(f"  … and {plural(more, 'more problem')} (--json lists them).", file=sys.stderr)
        if pushed is not None and pushed.error:
            print(
                f"Klaviyo not told yet ({pushed.error}): the opt-outs are queued.", file=sys.stderr
            )
    return Exit.OK


def import_lines(report: ImportReport) -> list[str]:
    """An import (or its dry run) in sentences."""
    c = report.counts
    verb = "Would import" if report.dry_run else "Imported"
    number = "" if report.dry_run or report.import_id is None else f" (import #{report.import_id})"
    lines = [
        f"{report.file}: {report.format.encoding_label}, {report.format.delimiter_label}-"
        f"separated, {plural(c.rows, 'row')}.",
        f"{verb} into 'CSV: {report.group}'{number}: {c.new:,} new, {c.merged:,} merged into "
        f"existing contacts, {c.unchanged:,} unchanged, {c.invalid:,} not imported (no valid "
        f"number), {c.duplicates:,} repeated numbers; {c.opted_out:,} opted out.",
    ]
    if c.left_group:
        lines.append(f"{plural(c.left_group, 'contact')} left the group (not in this file).")
    if c.queued_opt_outs:
        lines.append(f"{plural(c.queued_opt_outs, 'opt-out')} queued for Klaviyo.")
    if report.import_id is not None and report.merge:
        m = report.merge
        lines.append(
            f"Merge report (import {report.import_id}): {m.get('merged', 0):,} merged across "
            f"sources, {m.get('conflict', 0):,} field conflicts, {m.get('phone', 0):,} numbers "
            f"read differently."
        )
    return lines


# ----- sources, merge-report ------------------------------------------------------------------
def _sources(args: argparse.Namespace, actions: Actions) -> int:
    if args.priority is not None:
        done = actions.sources.set_priority([s for s in args.priority.split(",") if s.strip()])
        if done.rederived:
            print(f"{plural(done.rederived, 'merged contact')} changed details.", file=sys.stderr)
    order = actions.sources.priority()
    mailjet = actions.mailjet.settings()
    doc = {
        "priority": list(order),
        "klaviyo": actions.status().as_json()["account"],
        "mailjet": None
        if mailjet is None
        else {
            "base_url": mailjet.base_url,
            "key": mailjet.key_hint,
            "phone_property": mailjet.phone_property,
            "lists": "all" if mailjet.lists is None else list(mailjet.lists),
            "consent_mode": mailjet.consent_mode.value,
            "consent_property": mailjet.consent_property,
            "default_region": mailjet.default_region,
        },
        "groups": [
            {"name": g.name, "source": g.source, "members": g.members}
            for g in actions.sources.groups()
        ],
    }
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
        return Exit.OK
    print("Source priority (first wins a field): " + ", ".join(source_label(s) for s in order))
    print("Klaviyo: " + ("connected" if doc["klaviyo"] else "not connected") + ".")
    print("Mailjet: " + ("not connected" if mailjet is None else f"key {mailjet.key_hint}") + ".")
    for g in doc["groups"]:
        print(f"  {g['name']}: {plural(int(g['members']), 'contact')}")
    return Exit.OK


def _merge_report(args: argparse.Namespace, actions: Actions) -> int:
    run_id, import_id = args.run, args.import_id
    if args.export:
        n = actions.sources.export_merge_report(Path(args.export), run_id, import_id)
        print(f"{plural(n, 'row')} written to {args.export}.")
        return Exit.OK
    offset = 0
    while True:
        page = actions.sources.merge_report(run_id, import_id, limit=1000, offset=offset)
        for r in page.rows:
            if args.json:
                print(json.dumps(r._asdict(), ensure_ascii=False))
            else:
                others = "; ".join(
                    f"{source_label(s)}: {v}" if v else source_label(s) for s, v in r.others.items()
                )
                won = f"{r.value or ''} ({source_label(r.source or '')})"
                print(f"{r.kind:8} {r.phone or '-':16} {r.field or '':14} {won} | {others}")
        if len(page.rows) < 1000:
            break
        offset += 1000
    if not args.json:
        c = page.counts
        print(
            f"{c['merged']:,} merged across sources, {c['conflict']:,} field conflicts, "
            f"{c['phone']:,} numbers read differently.",
            file=sys.stderr,
        )
    return Exit.OK
