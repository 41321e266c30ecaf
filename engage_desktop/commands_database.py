"""`engage-desktop database test|move`: the team database from the command line. Parses and
prints; the work is in actions/database.py."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from engage_desktop.actions.database import move_local_data, try_connection
from engage_desktop.actions.outcomes import ActionError, Exit


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    db = sub.add_parser(
        "database",
        parents=[common],
        help="the team database (PostgreSQL): test a server, move this computer's data to it",
        description="Several desktops can share one PostgreSQL database (see README, 'A team "
        "database'). Point each desktop at it with --database URL or ENGAGE_DESKTOP_DATABASE.",
    )
    what = db.add_subparsers(
        dest="database_command", metavar="ACTION", required=True, help="test or move"
    )
    t = what.add_parser("test", parents=[common], help="connect to a server and say what it holds")
    t.add_argument("--url", required=True, help="postgresql://user@host:port/db")
    m = what.add_parser(
        "move",
        parents=[common],
        help="copy this computer's data (the data folder's SQLite file) to a team database "
        "once; resumable, verified by counts, the file left as it is",
    )
    m.add_argument("--to", required=True, metavar="URL", help="postgresql://user@host:port/db")


def run(args: argparse.Namespace, folder: Path) -> int:
    try:
        if args.database_command == "test":
            check = try_connection(args.url)
            print(check.message, file=sys.stdout if check.ok else sys.stderr)
            return Exit.OK if check.ok else Exit.FAILED
        return _move(args, folder)
    except ActionError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return int(exc.exit)


def _move(args: argparse.Namespace, folder: Path) -> int:
    shown: dict[str, float] = {}

    def progress(table: str, copied: int, total: int) -> None:
        now = time.monotonic()
        if copied >= total or now - shown.get(table, 0.0) > 1.0:
            shown[table] = now
            print(f"  {table}: {copied}/{total}", file=sys.stderr, flush=True)

    report = move_local_data(folder, args.to, progress)
    tables = sum(1 for n in report.counts.values() if n)
    print(
        f"Moved {report.total} rows in {tables} tables to the team database"
        f"{' (resumed)' if report.resumed else ''}; every table's count checked. The local "
        f"file is unchanged. Start Engage Desktop with --database {args.to} (or set "
        f"ENGAGE_DESKTOP_DATABASE) to use it."
    )
    return Exit.OK
