"""A dry run or an import in a process of its own, for the app.

Reading a million-row file is CPU work in Python; on a thread of the app it shares the
interpreter lock with the GUI thread, which then waited up to 600 ms for it (measured with
benchmarks/import_benchmarks.py). The sync went to a child process for the same reason
(sync/child.py). This process writes one JSON line per event on stdout: `progress`, then
`report` or `error`; SIGTERM cancels the import cleanly (nothing is written).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from engage_desktop.actions.imports import ImportActions
from engage_desktop.actions.outcomes import ActionError
from engage_desktop.imports.report import ImportProgress, ImportReport, Prepared
from engage_desktop.imports.rows import RowProblem
from engage_desktop.storage.database import open_database

WORKER_FLAG = "--import-worker"  # the frozen app's first argument when it is this process
MAX_PROBLEMS = 10_000  # problem rows sent back (all are counted)


def command(
    data_dir: Path | str, prepared: Prepared, maps: Sequence[str], dry_run: bool
) -> list[str]:
    """How to start this module as a process for a prepared file."""
    if getattr(sys, "frozen", False):
        program = [sys.executable, WORKER_FLAG]
    else:
        program = [sys.executable, "-m", "engage_desktop.actions.import_worker"]
    return [
        *program,
        "--data-dir",
        str(data_dir),
        "--file",
        str(prepared.path),
        "--group",
        prepared.name,
        "--region",
        prepared.region,
        *(["--replace"] if prepared.replace else []),
        *(["--dry-run"] if dry_run else []),
        *[f"--map={m}" for m in maps],
    ]


def _say(kind: str, **doc: Any) -> None:
    sys.stdout.write(json.dumps({"event": kind, **doc}) + "\n")
    sys.stdout.flush()


def report_doc(report: ImportReport) -> dict[str, Any]:
    return {
        "dry_run": report.dry_run,
        "counts": report.counts.as_json(),
        "problems": [asdict(p) for p in report.problems[:MAX_PROBLEMS]],
        "import_id": report.import_id,
        "merge": report.merge,
    }


def problems_of(doc: dict[str, Any]) -> tuple[RowProblem, ...]:
    return tuple(RowProblem(**p) for p in doc["problems"])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="engage-desktop import worker")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--file", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--region", required=True)
    p.add_argument("--replace", action="store_true")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--map", action="append", default=[])
    args = p.parse_args(argv)
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    db = open_database(args.data_dir)
    actions = ImportActions(db)

    def progress(x: ImportProgress) -> None:
        _say("progress", **asdict(x))

    try:
        prepared = actions.prepare(
            Path(args.file), args.group, tuple(args.map), args.region, args.replace
        )
        if args.dry_run:
            report = actions.dry_run(prepared, progress)
        else:
            report = actions.run(prepared, "Engage Desktop", progress, lambda: stop[0]).report
    except ActionError as exc:
        _say("error", message=exc.message, exit=int(exc.exit))
        return 1
    finally:
        db.close()
    _say("report", **report_doc(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
