"""The app's side of an import in its own process (actions/import_worker.py): start it, pass
its progress on, return its report or raise its error; `cancel` asks it to stop.

Blocking: run it on a worker thread. That thread only waits for lines, so the GUI thread
keeps the interpreter lock to itself.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from engage_desktop.actions.import_worker import command, problems_of
from engage_desktop.actions.imports import Imported
from engage_desktop.actions.outcomes import ActionError, Changes, Exit
from engage_desktop.imports.report import ImportCounts, ImportProgress, ImportReport, Prepared

STDERR_KEPT = 2000


class ImportChild:
    """One dry run or import in a child process."""

    def __init__(
        self, data_dir: Path, prepared: Prepared, maps: Sequence[str], dry_run: bool
    ) -> None:
        self.prepared = prepared
        self.dry_run = dry_run
        self._command = command(data_dir, prepared, maps, dry_run)
        self._proc: subprocess.Popen[str] | None = None
        self._cancelled = False

    def cancel(self) -> None:
        """Stop the import (it rolls back: nothing is written); from any thread."""
        self._cancelled = True
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)

    def run(self, on_progress: Callable[[ImportProgress], None]) -> Imported:
        """Run to the end (ActionError with the import's own message on failure)."""
        self._proc = proc = subprocess.Popen(
            self._command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        if self._cancelled:  # cancelled before it started
            proc.send_signal(signal.SIGTERM)
        assert proc.stdout is not None and proc.stderr is not None
        last: dict[str, object] | None = None
        for line in proc.stdout:
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            kind = doc.pop("event", None)
            if kind == "progress":
                on_progress(ImportProgress(**doc))
            elif kind in ("report", "error"):
                last = {"event": kind, **doc}
        errors = proc.stderr.read()[-STDERR_KEPT:]
        code = proc.wait()
        if last is None:
            raise ActionError(
                f"The import stopped unexpectedly (exit {code}): "
                f"{errors.strip().splitlines()[-1] if errors.strip() else 'no message'}. "
                "Nothing was imported.",
                Exit.FAILED,
            )
        if last["event"] == "error":
            raise ActionError(str(last["message"]), Exit(int(str(last["exit"]))))
        return self._imported(last)

    def _imported(self, doc: dict[str, object]) -> Imported:
        p = self.prepared
        counts = ImportCounts(**doc["counts"])  # type: ignore[arg-type]
        report = ImportReport(
            bool(doc["dry_run"]),
            p.name,
            p.path.name,
            p.format,
            p.plan,
            counts,
            problems_of(doc),
            doc["import_id"],  # type: ignore[arg-type]
            dict(doc["merge"]),  # type: ignore[call-overload]
        )
        changed = bool(counts.new or counts.merged or counts.left_group)
        changes = (
            Changes()
            if report.dry_run
            else Changes(
                contacts=changed, lists=changed, history=True, outbox=counts.queued_opt_outs > 0
            )
        )
        return Imported(report, changes)
