"""The command-line front door: `engage-desktop [--data-dir DIR] [-v] COMMAND …`.

It parses and prints: what the commands do is in `actions/`, shared with the app.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from engage_desktop import __version__
from engage_desktop.actions import EXIT_TABLE, ActionError, Exit
from engage_desktop.commands import add_parsers, build_actions, interactive_client_factory
from engage_desktop.commands import run as run_command
from engage_desktop.commands_database import add_parsers as add_database_parsers
from engage_desktop.commands_database import run as run_database_command
from engage_desktop.commands_gateway import add_parsers as add_gateway_parsers
from engage_desktop.commands_sources import add_parsers as add_source_parsers
from engage_desktop.config import (
    DATA_DIR_ENV,
    DATABASE_ENV,
    chosen_url,
    data_dir,
    describe_url,
    is_server_url,
    private_files,
    setup_logging,
    use_saved_database,
)
from engage_desktop.core.secrets import redact

log = logging.getLogger(__name__)

EXIT_CODES = "exit codes:\n" + "\n".join(f"  {int(code)}  {what}" for code, what in EXIT_TABLE)


def _common() -> argparse.ArgumentParser:
    """Options every command takes, before or after its name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help=f"where the database lives (env {DATA_DIR_ENV}; default: your user data folder)",
    )
    common.add_argument(
        "--database",
        metavar="URL",
        default=argparse.SUPPRESS,
        help=f"the team database, postgresql://user@host:port/db (env {DATABASE_ENV}; "
        "default: the SQLite file in the data folder)",
    )
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="log to stderr too (-vv: debug)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="engage-desktop",
        description="Engage Desktop: keep your SMS contacts in step with Klaviyo. Without a "
        "command, the desktop app opens.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"where the database lives (env {DATA_DIR_ENV}; default: your user data folder)",
    )
    p.add_argument(
        "--database",
        metavar="URL",
        help=f"the team database, postgresql://user@host:port/db (env {DATABASE_ENV}; "
        "default: the SQLite file in the data folder)",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="open the app on the built-in emulators (no Klaviyo account needed)",
    )
    p.add_argument(
        "-v", "--verbose", action="count", default=0, help="log to stderr too (-vv: debug)"
    )
    sub = p.add_subparsers(
        dest="command", metavar="COMMAND", help="what to do (`COMMAND --help` for its options)"
    )
    common = _common()
    emu = sub.add_parser(
        "emulator",
        parents=[common],
        help="run a local emulator of Klaviyo, MessageMedia or Mailjet (tests, demos)",
        description="A local server that plays a service with generated data. Not the service.",
    )
    emu.add_argument(
        "--service",
        choices=["klaviyo", "messagemedia", "mailjet"],
        default="klaviyo",
        help="which service to play (default klaviyo)",
    )
    emu.add_argument("--host", default="127.0.0.1", help="address to listen on")
    emu.add_argument("--port", type=int, default=8765, help="0 picks a free port (printed)")
    emu.add_argument("--profiles", type=int, default=5000, help="Klaviyo: generated profiles")
    emu.add_argument("--contacts", type=int, default=5000, help="Mailjet: generated contacts")
    emu.add_argument("--lists", type=int, default=8, help="Klaviyo, Mailjet: generated lists")
    emu.add_argument(
        "--phone-property", default="phone", help="Mailjet: the contact property holding phones"
    )
    emu.add_argument("--seed", type=int, default=1, help="the same seed, the same data")
    emu.add_argument("--api-key", help="the accepted key (default: the service's demo key)")
    emu.add_argument("--api-secret", help="MessageMedia, Mailjet: the accepted secret")
    emu.add_argument("--latency-ms", type=float, default=0.0, help="delay added to each request")
    emu.add_argument(
        "--rate-limits",
        choices=["klaviyo", "off"],
        default="klaviyo",
        help="Klaviyo: its published rate limits, or none",
    )
    emu.add_argument(
        "--job-delay", type=float, default=0.5, help="Klaviyo: seconds before bulk jobs apply"
    )
    vk = sub.add_parser(
        "verify-key",
        parents=[common],
        help="check a Klaviyo private API key (from env KLAVIYO_API_KEY) and its scopes",
    )
    vk.add_argument("--base-url", default="https://a.klaviyo.com", help="Klaviyo's address")
    vk.add_argument("--json", action="store_true", help="one JSON object")
    providers = add_parsers(sub, common)
    add_gateway_parsers(sub, common, providers)
    add_source_parsers(sub, common, providers)
    add_database_parsers(sub, common)
    return p


def _run_emulator(args: argparse.Namespace) -> int:
    from engage_desktop.emulator.server import serve_forever

    if min(args.profiles, args.lists, args.contacts) < 0:
        print("error: --profiles, --contacts and --lists must be 0 or more", file=sys.stderr)
        return Exit.CONFIG
    if args.service == "messagemedia":
        from engage_desktop.emulator import messagemedia as mm

        return serve_forever(
            mm.MessageMediaEmulator(
                mm.Settings(
                    api_key=args.api_key or mm.DEMO_API_KEY,
                    api_secret=args.api_secret or mm.DEMO_API_SECRET,
                    latency_ms=args.latency_ms,
                    seed=args.seed,
                )
            ),
            args.host,
            args.port,
        )
    if args.service == "mailjet":
        from engage_desktop.emulator import mailjet as mj

        return serve_forever(
            mj.MailjetEmulator(
                mj.Settings(
                    contacts=args.contacts,
                    lists=args.lists,
                    phone_property=args.phone_property,
                    api_key=args.api_key or mj.DEMO_API_KEY,
                    api_secret=args.api_secret or mj.DEMO_API_SECRET,
                    latency_ms=args.latency_ms,
                    seed=args.seed,
                )
            ),
            args.host,
            args.port,
        )
    from engage_desktop.emulator import DEMO_API_KEY, Settings

    settings = Settings(
        profiles=args.profiles,
        lists=args.lists,
        seed=args.seed,
        api_key=args.api_key or DEMO_API_KEY,
        latency_ms=args.latency_ms,
        rate_limits=args.rate_limits == "klaviyo",
        job_delay_s=args.job_delay,
    )
    return serve_forever(settings, args.host, args.port)


def _verify_key(args: argparse.Namespace) -> int:
    from engage_desktop.actions import Credentials
    from engage_desktop.actions.connection import verify_key
    from engage_desktop.klaviyo.scopes import PURPOSE

    key = Credentials().environment_key()
    if key is None:
        print("error: set KLAVIYO_API_KEY to the private key to check", file=sys.stderr)
        return Exit.CONFIG
    try:
        verified = asyncio.run(verify_key(interactive_client_factory(), key, args.base_url))
    except ActionError as exc:
        if args.json:
            print(json.dumps({"ok": False, "error": exc.message}))
        print(f"error: key {key.masked}: {exc.message}", file=sys.stderr)
        return int(exc.exit)
    missing = [{"scope": s, "needed_to": PURPOSE[s]} for s in verified.missing_scopes]
    if args.json:
        print(
            json.dumps(
                {
                    "ok": not missing,
                    "account_id": verified.account_id,
                    "account_name": verified.account_name,
                    "missing_scopes": missing,
                }
            )
        )
    else:
        print(
            f"The key {key.masked} works: Klaviyo account {verified.account_name} "
            f"({verified.account_id})."
        )
        for m in missing:
            print(f"It lacks the scope {m['scope']}, needed to {m['needed_to']}.")
        if not missing:
            print("It has every scope Engage Desktop needs.")
    return Exit.OK if not missing else Exit.FAILED


def _run_gui(args: argparse.Namespace) -> int:
    """The desktop app; --demo runs it on the emulators with a throw-away data folder."""
    explicit = args.data_dir or os.environ.get(DATA_DIR_ENV)
    try:
        folder = data_dir(args.data_dir) if explicit or not args.demo else None
        if folder is not None:
            use_saved_database(folder)
        setup_logging(args.verbose)
    except OSError as exc:
        print(f"error: cannot use data folder: {exc}", file=sys.stderr)
        return Exit.CONFIG
    from engage_desktop.ui.platform_check import window_problem

    problem = window_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return Exit.CONFIG
    from engage_desktop import app

    if args.demo:
        return app.run_demo(folder)
    assert folder is not None
    return app.run(app.Options(folder))


def _data_folder_problem(folder: Path | str, exc: BaseException) -> str:
    url = chosen_url()
    on_disk = isinstance(exc, OSError) and getattr(exc, "filename", None) is not None
    if url and is_server_url(url) and not on_disk:  # a file that cannot be made: the folder's
        return (
            f"cannot use the team database {describe_url(url)}: {redact(str(exc))}. Nothing "
            f"was half-saved (a run under way failed as a whole). Check that the server is "
            f"running and reachable, or choose another with --database."
        )
    return (
        f"cannot use the data folder {folder}: {redact(str(exc))}. Check that it exists and "
        f"that you may write to it, or choose another with --data-dir."
    )


def main(argv: Sequence[str] | None = None) -> int:
    private_files()
    args = build_parser().parse_args(argv)
    args.data_dir = getattr(args, "data_dir", None)
    args.verbose = getattr(args, "verbose", 0) or 0
    if getattr(args, "database", None):  # every open, this process's and its sync workers'
        os.environ[DATABASE_ENV] = args.database
    try:
        chosen_url()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return Exit.CONFIG
    if args.command is None:
        return _run_gui(args)
    try:
        return _main(args)
    except BrokenPipeError:  # `engage-desktop contacts | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return Exit.OK


def _main(args: argparse.Namespace) -> int:
    try:
        folder = data_dir(args.data_dir)
        use_saved_database(folder)
        setup_logging(args.verbose)
    except OSError as exc:
        print(f"error: {_data_folder_problem(args.data_dir or '(default)', exc)}", file=sys.stderr)
        return Exit.CONFIG
    log.debug("data dir %s", folder)
    if args.command == "emulator":
        return _run_emulator(args)
    if args.command == "verify-key":
        return _verify_key(args)
    if args.command == "database":
        return run_database_command(args, folder)
    from engage_desktop.storage.database import DB_NAME, DatabaseError, open_database

    created = not (folder / DB_NAME).exists()
    try:
        db = open_database(folder)
    except (DatabaseError, OSError) as exc:
        print(f"error: {_data_folder_problem(folder, exc)}", file=sys.stderr)
        return Exit.CONFIG
    try:
        return run_command(args, folder, db, build_actions(db), created)
    except DatabaseError as exc:
        print(f"error: {_data_folder_problem(folder, exc)}", file=sys.stderr)
        return Exit.CONFIG
    finally:
        db.close()
