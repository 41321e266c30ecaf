"""The SMS gateway's commands: `connect messagemedia`, `send`, `replies`. They parse and print;
what they do is in `actions/` (the app calls the same actions)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from engage_desktop.actions import ActionError, Actions, Exit
from engage_desktop.actions.gateway import KEY_ENV, SECRET_ENV, check_source_number
from engage_desktop.commands import HANDLERS
from engage_desktop.core.messaging import BASE_URLS, GatewayCredentials, SkipReason
from engage_desktop.core.urls import UnsafeUrlError, check_base_url
from engage_desktop.core.words import plural
from engage_desktop.gateway.events import GatewayEvent, SendFinished, SendProgress
from engage_desktop.gateway.sender import CONCURRENCY
from engage_desktop.messagemedia import MessageMediaClient

SEND_HELP_TEXT = (
    "the message; {first_name}, {last_name}, {email}, {phone} and field names such as "
    "{Shoe size} are replaced per contact; {first_name|there} gives a fallback, and a contact "
    "without a value for a placeholder with no fallback is skipped; {{ and }} write braces"
)


def add_parsers(sub: Any, common: argparse.ArgumentParser, providers: Any) -> None:
    """Add `connect messagemedia` to `connect`'s SERVICE subparsers, `send` and `replies` to
    the commands, and their handlers to `commands.HANDLERS`."""
    m = providers.add_parser(
        "messagemedia",
        parents=[common],
        help="connect the SMS gateway, Sinch MessageMedia (key and secret from env "
        f"{KEY_ENV} and {SECRET_ENV})",
        description="Checks the key and secret live and keeps them in the system keyring. "
        "Run again to change the connection: what you do not name stays as it is.",
    )
    m.add_argument(
        "--base-url",
        help="MessageMedia's address: "
        + ", ".join(f"{url} ({region})" for region, url in BASE_URLS.items())
        + "; default: the saved one, else the legacy host",
    )
    m.add_argument(
        "--source-number",
        metavar="+E164",
        help="the number messages are sent from, with + and country code (default: the "
        "account's own sender)",
    )
    m.add_argument(
        "--opt-out-words",
        metavar="WORD,WORD",
        help="replies that opt a number out, as whole texts (default STOP, STOPALL, "
        "UNSUBSCRIBE, CANCEL, END, QUIT)",
    )
    m.add_argument(
        "--blacklist-opt-outs",
        choices=["yes", "no"],
        help="add every local opt-out to MessageMedia's blacklist as a safety net (default "
        "yes; note: the blacklist blocks every message from the account to those numbers)",
    )
    s = sub.add_parser(
        "send",
        parents=[common],
        help="send an SMS to a contact list through MessageMedia (shows what would be sent "
        "unless --yes)",
        description="Without --yes nothing is sent: it shows who would get the message, who "
        "not and why, and how many segments it takes. With --yes it prepares a campaign and "
        "sends it, 100 messages a request. A send that stopped (killed, cancelled by Ctrl-C, "
        "an error) is continued with --resume: recipients whose outcome was lost are never "
        "resent unless you decide so with --unknown resend.",
    )
    s.add_argument("--list", dest="list_ref", metavar="NAME_OR_ID", help="the contact list")
    s.add_argument("--text", help=SEND_HELP_TEXT)
    s.add_argument("--yes", action="store_true", help="send for real")
    s.add_argument(
        "--json",
        action="store_true",
        help="one JSON line: campaign_id, recipients, submitted, skipped (by reason), failed, "
        "unknown, requests, duration_s",
    )
    s.add_argument(
        "--resume",
        type=int,
        metavar="CAMPAIGN_ID",
        help="continue a campaign that stopped before its end (with --yes)",
    )
    s.add_argument(
        "--unknown",
        choices=["resend", "drop"],
        help="with --resume: resend or drop recipients whose outcome was lost; run "
        "`engage-desktop replies` first, its delivery reports confirm the ones that went",
    )
    s.add_argument(
        "--concurrency",
        type=int,
        default=CONCURRENCY,
        help=f"requests on the wire at once (default {CONCURRENCY})",
    )
    r = sub.add_parser(
        "replies",
        parents=[common],
        help="hear MessageMedia once: replies (an opt-out word opts the number out), delivery "
        "reports, the blacklist when due; then tell Klaviyo",
    )
    r.add_argument("--json", action="store_true", help="one JSON object")
    r.add_argument(
        "--blacklist",
        action="store_true",
        help="compare MessageMedia's blacklist with local opt-outs now (else every 10 minutes)",
    )
    HANDLERS.update({"connect messagemedia": _connect, "send": _send, "replies": _replies})


def _err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _interactive(actions: Actions) -> None:
    """Clients for a person at a terminal: each retry said on stderr."""

    def said(problem: str, attempt: int, attempts: int, wait: float) -> None:
        print(
            f"MessageMedia: {problem}; trying again in {max(wait, 1):.0f} s (attempt "
            f"{attempt + 1} of {attempts})…",
            file=sys.stderr,
            flush=True,
        )

    def make(credentials: GatewayCredentials, base_url: str) -> MessageMediaClient:
        return MessageMediaClient(credentials, base_url, on_retry=said)

    actions.gateway.make_client = make


# ----- connect messagemedia -------------------------------------------------------------------
def _connect(args: argparse.Namespace, actions: Actions) -> int:
    credentials = actions.gateway.credentials.environment()
    if credentials is None and actions.gateway.credentials.current() is None:
        raise ActionError(f"Set {KEY_ENV} and {SECRET_ENV} to the MessageMedia API key and secret.")
    # What no retry can fix is refused before MessageMedia is asked anything.
    if args.base_url is not None:
        try:
            check_base_url(args.base_url)
        except UnsafeUrlError as exc:
            raise ActionError(str(exc)) from None
    source = check_source_number(args.source_number) if args.source_number else None
    words = None
    if args.opt_out_words is not None:
        words = tuple(w for w in args.opt_out_words.split(",") if w.strip())
    _interactive(actions)
    verified = asyncio.run(actions.gateway.verify(credentials, args.base_url))
    blacklist = None if args.blacklist_opt_outs is None else args.blacklist_opt_outs == "yes"
    done = actions.gateway.connect(verified, source, words, blacklist)
    s = done.settings
    kept = "kept in the system keyring" if s.key_in_keyring else "not stored"
    sender = s.source_number or "the account's default sender"
    print(
        f"Connected to MessageMedia at {s.base_url} (key {s.key_hint}, {kept}); sending from "
        f"{sender}; opt-out words: "
        f"{', '.join(s.opt_out_keywords)}."
    )
    for note in done.notes:
        print(note, file=sys.stderr)
    return Exit.OK


# ----- send -----------------------------------------------------------------------------------
class _Bar:
    """A one-line progress display on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()

    def __call__(self, event: GatewayEvent) -> None:
        if not self.tty or not isinstance(event, SendProgress):
            return
        p = event
        eta = f", ~{p.eta_s:.0f}s left" if p.eta_s is not None else ""
        sys.stderr.write(
            f"\rsent {p.submitted:,}/{p.recipients:,}, skipped {p.skipped:,}, failed "
            f"{p.failed:,}, unknown {p.unknown:,}; {p.rate:,.0f}/s{eta}   "
        )
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def _send(args: argparse.Namespace, actions: Actions) -> int:
    _interactive(actions)
    if args.resume is not None:
        if not args.yes:
            raise ActionError("--resume sends: add --yes.")
        if args.unknown is not None:
            n = actions.sending.decide_unknown(args.resume, args.unknown == "resend")
            print(f"{plural(n, 'recipient')} with a lost outcome: {args.unknown}.", file=sys.stderr)
        return _run_campaign(args, actions, args.resume)
    if args.unknown is not None:
        raise ActionError("--unknown goes with --resume CAMPAIGN_ID.")
    if not args.list_ref or not args.text:
        raise ActionError("Give the list (--list NAME_OR_ID) and the message (--text TEXT).")
    actions.gateway.settings()  # not connected: said before anything is counted
    plan = actions.sending.plan(args.list_ref, args.text)
    if not args.yes or plan.recipients == 0:
        if args.json:
            print(json.dumps({"campaign_id": None, **plan.as_json()}))
        else:
            _print_plan(plan.as_json(), plan.sample)
        if plan.recipients == 0:
            _err("nothing to send: no contact of the list can receive this message.")
            return Exit.NOTHING
        return Exit.OK
    campaign = actions.sending.prepare(args.list_ref, args.text)
    return _run_campaign(args, actions, campaign.id)


def _print_plan(doc: dict[str, Any], sample: Any) -> None:
    skipped = doc["skipped"]
    print(f"To {doc['list']}: {plural(doc['recipients'], 'recipient')}.")
    for reason, n in skipped.items():
        print(f"  skipped, {SkipReason(reason).label}: {n:,}")
    low, high = doc["segments_per_message"]
    per = f"{low}" if low == high else f"{low}–{high}"
    print(f"Segments: {doc['segments'] or 0:,} in all ({per} per message, {doc['encoding']}).")
    for row in sample[:3]:
        print(f"  e.g. to {row.phone}: {row.text}")
    print("Nothing was sent: add --yes to send.")


def _run_campaign(args: argparse.Namespace, actions: Actions, campaign_id: int) -> int:
    bar = _Bar()
    try:
        outcome = asyncio.run(
            actions.sending.send(campaign_id, bar, concurrency=args.concurrency, who="command line")
        )
    except KeyboardInterrupt:
        bar.done()
        _err(
            f"stopped. Batches on the wire were kept as 'unknown' (not resent). Continue with "
            f"`engage-desktop send --resume {campaign_id} --yes`."
        )
        return Exit.FAILED
    bar.done()
    if not isinstance(outcome, SendFinished):
        _err(outcome.reason)
        return {"busy": Exit.LOCKED, "nothing": Exit.NOTHING}.get(outcome.kind, Exit.CONFIG)
    campaign = actions.sending.campaign(campaign_id)
    c = campaign.counts
    if args.json:
        print(
            json.dumps(
                {
                    "campaign_id": campaign_id,
                    "status": outcome.status,
                    "recipients": c.eligible,
                    "submitted": c.submitted,
                    "skipped": c.skipped,
                    "failed": c.failed,
                    "unknown": c.unknown,
                    "requests": outcome.requests,
                    "duration_s": round(outcome.duration_s, 2),
                }
            )
        )
    else:
        print(
            f"Campaign {campaign_id} {outcome.status}: {c.submitted:,} of {c.eligible:,} sent, "
            f"{sum(c.skipped.values()):,} skipped, {c.failed:,} failed, {c.unknown:,} unknown; "
            f"{outcome.requests:,} requests in {outcome.duration_s:.1f}s."
        )
    if outcome.error:
        _err(outcome.error)
    if campaign.counts.unknown:
        _err(
            f"{plural(campaign.counts.unknown, 'recipient')} may or may not have been sent (an "
            f"answer was lost). Run `engage-desktop replies` (delivery reports confirm those "
            f"that went), then `send --resume {campaign_id} --yes --unknown resend|drop`."
        )
    ok = outcome.status == "finished" and not campaign.counts.failed and not campaign.counts.unknown
    return Exit.OK if ok else Exit.FAILED


# ----- replies --------------------------------------------------------------------------------
def _replies(args: argparse.Namespace, actions: Actions) -> int:
    actions.gateway.settings()
    if actions.gateway.credentials.current() is None:
        raise ActionError("The MessageMedia key and secret are not available: connect again.")
    _interactive(actions)
    heard = asyncio.run(actions.replies.round(reconcile=True if args.blacklist else None))
    r, pushed = heard.round, heard.pushed
    if args.json:
        doc = r.as_json()
        doc["klaviyo"] = (
            None
            if pushed is None
            else {
                "sent": pushed.sent,
                "pending": pushed.pending,
                "error": pushed.error,
            }
        )
        print(json.dumps(doc))
    else:
        opted = ", ".join(r.opt_outs + r.blacklist_opt_outs)
        print(
            f"Replies: {r.replies:,} new ({plural(len(r.opt_outs), 'opt-out')}"
            f"{': ' + opted if opted else ''}); delivery reports: {r.reports:,}"
            + (f"; {r.confirmed_sent:,} unknown confirmed sent" if r.confirmed_sent else "")
            + (
                f"; blacklist: {plural(len(r.blacklist_opt_outs), 'new opt-out')}, "
                f"{r.blacklisted:,} added"
                if r.blacklist_checked
                else ""
            )
            + "."
        )
        if r.blocked_but_subscribed:
            print(
                f"{plural(r.blocked_but_subscribed, 'number')} re-subscribed here but still on "
                f"MessageMedia's blacklist: campaigns skip them until unblocked.",
                file=sys.stderr,
            )
        if pushed is not None:
            if pushed.error:
                print(f"Klaviyo not told yet ({pushed.error}): queued.", file=sys.stderr)
            else:
                print(f"Klaviyo told: {plural(pushed.sent, 'opt-out')} sent.")
    if r.error:
        _err(r.error)
        return Exit.FAILED
    return Exit.OK
