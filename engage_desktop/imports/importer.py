"""Importing a CSV file: a dry run that writes nothing, and the import itself — one
transaction under the sync lock, so a file is imported whole or not at all, never while a
sync commits, and a killed import leaves nothing half-done.

Each row with a usable number is a CSV record identified by that number: importing the same
file again finds every record as it was and changes nothing; a later file with the same
number updates that record. Records merge into contacts by number through the same merge as
every synced source (storage/merge.py): an opted-out row opts the number out everywhere and
Klaviyo hears of it when the number has a Klaviyo profile.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from engage_desktop.core.fields import FieldType
from engage_desktop.core.groups import clean_group_name, group_key
from engage_desktop.core.mapping import MappingError
from engage_desktop.core.sources import CSV
from engage_desktop.imports.columns import apply_maps, guess_columns
from engage_desktop.imports.csvfile import CsvError, CsvFormat, detect, rows
from engage_desktop.imports.preview import SAMPLE_ROWS
from engage_desktop.imports.reading import read_chunks, read_staged, staged_row
from engage_desktop.imports.report import (
    ImportCounts,
    ImportFailed,
    ImportProgress,
    ImportReport,
    Prepared,
    Problems,
)
from engage_desktop.imports.rows import CsvRecord
from engage_desktop.storage import groups
from engage_desktop.storage.bulk_indexes import indexes_deferred
from engage_desktop.storage.csv_imports import (
    MAX_KEPT_ISSUES,
    CsvImportRepo,
    StoredRecord,
    page_cache,
)
from engage_desktop.storage.database import Database
from engage_desktop.storage.lease import LeaseRepo
from engage_desktop.storage.merge import Merge, Record, Tallies
from engage_desktop.storage.merge_report import (
    MergeReport,
    note_raw,
    numbers_read_differently,
    prepare_raw_read,
)
from engage_desktop.storage.merge_rows import NOTHING_STORED, merged_fields
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.sync.lock import SyncLock
from engage_desktop.sync.written_phones import written_phone

IMPORT_CACHE_MB = 96  # SQLite's page cache while importing (RSS stays well under 300 MB)

__all__ = ["ImportFailed", "ImportReport", "dry_run", "import_file", "prepare"]


def prepare(
    path: Path,
    group: str,
    region: str,
    maps: tuple[str, ...] = (),
    known_fields: dict[str, FieldType] | None = None,
    replace: bool = False,
) -> Prepared:
    """The file's format and column plan, checked: ImportFailed says what to fix."""
    try:
        name = clean_group_name(group)
        fmt = detect(path)
        sample = [c for _, c in zip(range(SAMPLE_ROWS), _cells(path, fmt), strict=False)]
        plan = guess_columns(
            fmt.header, sample, lambda t: written_phone(t, region) is not None, known_fields or {}
        )
        plan = apply_maps(plan, maps)
    except (CsvError, MappingError, ValueError) as exc:
        raise ImportFailed(str(exc)) from None
    problems = plan.problems()
    if problems:
        raise ImportFailed(" ".join(problems))
    return Prepared(path, fmt, plan, name, group_key(name), region, replace)


def _cells(path: Path, fmt: CsvFormat) -> Iterator[list[str]]:
    for _, cells in rows(path, fmt):
        yield cells


def dry_run(
    db: Database, prepared: Prepared, on_progress: Callable[[ImportProgress], None] | None = None
) -> ImportReport:
    """What the import would do, counted against the database as it is; nothing written."""
    repo = CsvImportRepo(db)
    counts, problems = ImportCounts(), Problems()
    list_id = repo.group_id(prepared.key)
    # closing: a failure here stops the process reading the file at once
    with contextlib.closing(
        read_chunks(prepared, counts, problems, on_progress, "checking")
    ) as chunks:
        for chunk in chunks:
            stored = repo.stored([r.phone for r in chunk])
            _classify(repo, chunk, stored, list_id, counts)
    return ImportReport.of(prepared, counts, problems, dry_run=True)


def import_file(
    db: Database,
    prepared: Prepared,
    who: str = "command line",
    clock: Callable[[], float] = time.time,
    on_progress: Callable[[ImportProgress], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> ImportReport:
    """Import under the sync lock (SyncLockHeld while a sync runs), in one transaction."""
    lock = SyncLock(LeaseRepo(db), who, clock)
    lock.acquire()
    repo = CsvImportRepo(db)
    now = clock()
    import_id = repo.start(prepared.key, prepared.name, prepared.path.name, now)
    counts, problems = ImportCounts(), Problems()
    try:
        with page_cache(db, IMPORT_CACHE_MB), db.atomic():
            report = _import(
                db, repo, prepared, import_id, now, counts, problems, on_progress, should_stop
            )
            repo.finish(import_id, "succeeded", counts.as_json(), clock(), None)
        return report
    except BaseException as exc:
        status = "cancelled" if isinstance(exc, ImportCancelled | KeyboardInterrupt) else "failed"
        message = "cancelled: nothing was imported" if status == "cancelled" else str(exc)
        with db.atomic():
            repo.finish(import_id, status, counts.as_json(), clock(), message)
        if isinstance(exc, CsvError):
            raise ImportFailed(f"{exc} Nothing was imported.") from None
        raise
    finally:
        lock.release()


class ImportCancelled(Exception):
    """The person stopped the import: nothing was written."""


def _import(
    db: Database,
    repo: CsvImportRepo,
    prepared: Prepared,
    import_id: int,
    now: float,
    counts: ImportCounts,
    problems: Problems,
    on_progress: Callable[[ImportProgress], None] | None,
    should_stop: Callable[[], bool],
) -> ImportReport:
    groups.prepare(db)
    prepare_raw_read(db)
    outbox = OutboxRepo(db)
    pending = outbox.pending_count()
    report = MergeReport(db, import_id=import_id)
    linked: dict[str, int] = {}
    # Into a database without contacts, numbers met once each in the file match nothing
    # stored: nothing is looked up (a first import of a million rows).
    known = repo.has_contacts()
    merge = Merge(
        db, None, now, {}, report=report, issue_sink=[], linked=linked, numbers_known=known
    )
    list_id = repo.ensure_group(prepared.key, prepared.name, now)
    tally = Tallies()
    with contextlib.ExitStack() as bulk:
        if not known:  # filling empty tables: their indexes are built once, at the end
            bulk.enter_context(indexes_deferred(db))
        if known:
            chunks = bulk.enter_context(  # closed on the way out: its reader process stops
                contextlib.closing(
                    read_chunks(prepared, counts, problems, on_progress, "importing")
                )
            )
            for chunk in chunks:
                if should_stop():
                    raise ImportCancelled()
                ids = [r.phone for r in chunk]
                stored = repo.stored(ids)
                joined = _classify(repo, chunk, stored, list_id, counts)
                merge.apply(CSV, [_record(r, stored.get(r.phone)) for r in chunk], tally)
                repo.add_members(list_id, [(p, linked[p]) for p in ids if p not in joined])
                linked.clear()
                note_raw(db, [(r.phone_raw, r.phone) for r in chunk if r.phone_raw != r.phone])
                if prepared.replace:
                    repo.keep_seen(ids)
        else:  # into an empty database: every number new, read as staged records
            staged = bulk.enter_context(
                contextlib.closing(
                    read_staged(prepared, counts, problems, on_progress, "importing")
                )
            )
            for rows in staged:
                if should_stop():
                    raise ImportCancelled()
                counts.new += len(rows)
                merge.add_new(CSV, rows, tally)
                linked.clear()
                if prepared.replace:
                    repo.keep_seen([r[1] for r in rows])
            repo.add_every_record(list_id)  # every record at once, after the last chunk
    left = 0
    if prepared.replace:
        regroup, lost = repo.replace_members(list_id)
        left = len(regroup)
        groups.mark(db, regroup)
        merge.orphans |= lost
        merge.rederive(lost)
    numbers_read_differently(db, CSV, report)
    groups.mark(db, merge.regroup)
    groups.regroup(db)
    merge.remove_orphans()
    if counts.new or counts.merged or left:
        repo.touch_group(list_id, now)
    report.flush()
    repo.add_issues(
        import_id, [(p.line, p.column, p.value, p.reason) for p in problems.kept[:MAX_KEPT_ISSUES]]
    )
    counts.left_group = left
    counts.queued_opt_outs = outbox.pending_count() - pending
    return ImportReport.of(
        prepared, counts, problems, dry_run=False, import_id=import_id, merge=report.counts
    )


def _classify(
    repo: CsvImportRepo,
    chunk: list[CsvRecord],
    stored: dict[str, StoredRecord],
    list_id: int | None,
    counts: ImportCounts,
) -> set[str]:
    """Count each row as new, merged or unchanged; returns the records in the group already."""
    members = repo.members(list_id, [r.phone for r in chunk])
    known = repo.known_numbers([r.phone for r in chunk if r.phone not in stored])
    for r in chunk:
        s = stored.get(r.phone)
        if s is not None:
            same = (s.phone_raw, s.email, s.first_name, s.last_name, s.consent) == (
                r.phone_raw,
                r.email,
                r.first_name,
                r.last_name,
                r.consent,
            ) and merged_fields(s.fields, r.fields) == s.fields
            if same and r.phone in members:
                counts.unchanged += 1
            else:
                counts.merged += 1
        elif r.phone in known:
            counts.merged += 1
        else:
            counts.new += 1
    return members


def _record(r: CsvRecord, s: StoredRecord | None) -> Record:
    """The row as the merge takes a source record: its number is its id, and CsvRecord's
    fields after the line are a Record's after the id, up to the consent."""
    return Record._make((*staged_row(r), *(NOTHING_STORED if s is None else s[1:])))
