"""The command-line front door: `engage-desktop [--data-dir DIR] [-v] COMMAND …`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence

from engage_desktop import __version__
from engage_desktop.commands import add_parsers
from engage_desktop.commands import run as run_command
from engage_desktop.config import DATA_DIR_ENV, data_dir, private_files, setup_logging
from engage_desktop.core.secrets import ApiKey

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="engage-desktop",
        description="Engage Desktop: keep your SMS contacts in step with Klaviyo.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"where the database lives (env {DATA_DIR_ENV}; default: your user data folder)",
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="open the app on the built-in Klaviyo emulator (no Klaviyo account needed)",
    )
    p.add_argument(
        "-v", "--verbose", action="count", default=0, help="log to stderr too (-vv: debug)"
    )
    sub = p.add_subparsers(
        dest="command", metavar="COMMAND", help="without a command, the desktop app opens"
    )

    emu = sub.add_parser(
        "emulator",
        help="run the local Klaviyo emulator (demo data, tests, benchmarks)",
        description="A local Klaviyo-compatible server with generated data. Not Klaviyo.",
    )
    emu.add_argument("--host", default="127.0.0.1")
    emu.add_argument("--port", type=int, default=8765, help="0 picks a free port (printed)")
    emu.add_argument("--profiles", type=int, default=5000)
    emu.add_argument("--lists", type=int, default=8)
    emu.add_argument("--seed", type=int, default=1)
    emu.add_argument("--api-key", help="the accepted private key (default: the demo key)")
    emu.add_argument("--latency-ms", type=float, default=0.0, help="delay added to each request")
    emu.add_argument("--rate-limits", choices=["klaviyo", "off"], default="klaviyo")
    emu.add_argument("--job-delay", type=float, default=0.5, help="seconds before bulk jobs apply")

    vk = sub.add_parser(
        "verify-key",
        help="check a Klaviyo private API key (from env KLAVIYO_API_KEY) and its scopes",
    )
    vk.add_argument("--base-url", default="https://a.klaviyo.com")
    add_parsers(sub)
    return p


def _run_emulator(args: argparse.Namespace) -> int:
    from engage_desktop.emulator import DEMO_API_KEY, Settings
    from engage_desktop.emulator.server import serve_forever

    if args.profiles < 0 or args.lists < 0:
        print("error: --profiles and --lists must be 0 or more", file=sys.stderr)
        return EXIT_CONFIG
    settings = Settings(
        profiles=args.profiles,
        lists=args.lists,
        seed=args.seed,
        api_key=args.api_key or DEMO_API_KEY,
        latency_ms=args.latency_ms,
        rate_limits=args.rate_limits == "klaviyo",
        job_delay_s=args.job_delay,
    )
    log.info("emulator: %d profiles, %d lists, seed %d", args.profiles, args.lists, args.seed)
    return serve_forever(settings, args.host, args.port)


def _verify_key(args: argparse.Namespace) -> int:
    from engage_desktop.klaviyo.client import KlaviyoClient
    from engage_desktop.klaviyo.errors import KlaviyoError

    raw = os.environ.get("KLAVIYO_API_KEY", "")
    if not raw:
        print("error: set KLAVIYO_API_KEY to the private key to check", file=sys.stderr)
        return EXIT_CONFIG

    from engage_desktop.core.urls import UnsafeUrlError, check_base_url

    try:
        base_url = check_base_url(args.base_url)
    except UnsafeUrlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG

    async def check() -> int:
        key = ApiKey(raw)
        async with KlaviyoClient(key, base_url=base_url) as client:
            try:
                result = await client.validate_key()
            except KlaviyoError as exc:
                print(f"Key {key.masked}: {exc.user_message}", file=sys.stderr)
                return EXIT_FAILED
        print(json.dumps(result.as_json(), indent=2))
        return EXIT_OK if not result.missing else EXIT_FAILED

    return asyncio.run(check())


def _run_gui(args: argparse.Namespace) -> int:
    """The desktop app; --demo runs it on the emulator with a throw-away data folder."""
    explicit = args.data_dir or os.environ.get(DATA_DIR_ENV)
    try:
        folder = data_dir(args.data_dir) if explicit or not args.demo else None
        setup_logging(args.verbose)
    except OSError as exc:
        print(f"error: cannot use data folder: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    from engage_desktop import app

    if args.demo:
        return app.run_demo(folder)
    assert folder is not None
    return app.run(app.Options(folder))


def main(argv: Sequence[str] | None = None) -> int:
    private_files()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return _run_gui(args)
    try:
        folder = data_dir(args.data_dir)
        setup_logging(args.verbose)
    except OSError as exc:
        print(f"error: cannot use data folder: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    log.debug("data dir %s", folder)
    if args.command == "emulator":
        return _run_emulator(args)
    if args.command == "verify-key":
        return _verify_key(args)
    if args.command in ("connect", "sync", "status", "contacts", "optout"):
        return run_command(args, str(folder))
    parser.error(f"unknown command {args.command}")
    return EXIT_CONFIG
