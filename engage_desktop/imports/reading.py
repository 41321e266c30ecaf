"""A file's rows as chunks of records, each number once (the first row with it counts).

Reading and checking the rows is half of a big import's time and the other half is SQLite's
writing, so a big file is read by a second process while this one writes: the reader sends
each chunk as soon as it is read (one chunk ahead at most: the pipe holds no more) with the
counts and problems it found, and this process yields it. A small file, or a frozen app
(whose executable cannot start a bare Python child), is read here.

The reader process only reads the file: a failure there (an unreadable byte in an encoding,
a vanished file) is raised here, as if it had happened here.
"""

from __future__ import annotations

import marshal
import multiprocessing
import sys
from collections.abc import Callable, Generator
from dataclasses import astuple
from typing import Any

from engage_desktop.core.consent import UNSUBSCRIBED
from engage_desktop.imports.csvfile import CsvError, rows
from engage_desktop.imports.report import ImportCounts, ImportProgress, Prepared, Problems
from engage_desktop.imports.rows import CsvRecord, RowProblem, RowReader

CHUNK = 5000
ELSEWHERE_MIN_BYTES = 8_000_000  # smaller files are read here (a process costs ~0.3 s)
_READ = ("rows", "invalid", "duplicates", "opted_out")  # the counts reading makes

Progress = Callable[[ImportProgress], None]
Chunks = Generator[list[CsvRecord], None, None]  # close() stops a reader process at once
# A row as a staged record: Record's first nine fields (storage/merge_rows.py), its number
# as its id, no consent time.
StagedRow = tuple[Any, ...]
Staged = Generator[list[StagedRow], None, None]


def read_chunks(
    prepared: Prepared,
    counts: ImportCounts,
    problems: Problems,
    on_progress: Progress | None,
    phase: str,
) -> Chunks:
    """The file's readable rows in chunks: in another process when it is big."""
    if _here(prepared):
        yield from _read_here(prepared, counts, problems, on_progress, phase)
    else:
        for chunk in _read_elsewhere(prepared, counts, problems, on_progress, phase, False):
            yield [CsvRecord._make(r) for r in chunk]


def read_staged(
    prepared: Prepared,
    counts: ImportCounts,
    problems: Problems,
    on_progress: Progress | None,
    phase: str,
) -> Staged:
    """`read_chunks`, each row as a staged record (`staged_row`): what a first import into
    an empty database writes as it comes, made by the reading process when there is one."""
    if _here(prepared):
        for chunk in _read_here(prepared, counts, problems, on_progress, phase):
            yield [staged_row(r) for r in chunk]
    else:
        yield from _read_elsewhere(prepared, counts, problems, on_progress, phase, True)


def staged_row(r: CsvRecord) -> StagedRow:
    return (r[1], *r[1:8], None)


def _here(prepared: Prepared) -> bool:
    return prepared.format.size < ELSEWHERE_MIN_BYTES or bool(getattr(sys, "frozen", False))


def _read_here(
    prepared: Prepared,
    counts: ImportCounts,
    problems: Problems,
    on_progress: Progress | None,
    phase: str,
) -> Chunks:
    reader = RowReader(prepared.plan, prepared.region)
    seen: set[int] = set()  # numbers met in this file (as integers: a third of the memory)
    chunk: list[CsvRecord] = []
    position = [0]

    def at(n: int) -> None:
        position[0] = n

    for line, cells in rows(prepared.path, prepared.format, at):
        counts.rows += 1
        record, found = reader.read(line, cells)
        if found:
            problems.extend(found)
        if record is None:
            counts.invalid += 1
            continue
        number = int(record.phone[1:])
        if number in seen:
            counts.duplicates += 1
            problems.add(
                line, None, record.phone, "the same number as an earlier row: not imported"
            )
            continue
        seen.add(number)
        counts.opted_out += record.consent == UNSUBSCRIBED
        chunk.append(record)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
            if on_progress is not None:
                on_progress(ImportProgress(phase, counts.rows, position[0], prepared.format.size))
    if chunk:
        yield chunk
    if on_progress is not None:
        on_progress(ImportProgress(phase, counts.rows, prepared.format.size, prepared.format.size))


def _read_elsewhere(
    prepared: Prepared,
    counts: ImportCounts,
    problems: Problems,
    on_progress: Progress | None,
    phase: str,
    staged: bool,
) -> Generator[list[tuple[Any, ...]], None, None]:
    """Rows as tuples: a CsvRecord's fields, or a staged record's (`staged`)."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited state
    mine, theirs = context.Pipe(duplex=False)
    reader = context.Process(
        target=_reader_process,
        args=(prepared, phase, staged, theirs),
        name="csv-reader",
        daemon=True,
    )
    reader.start()
    theirs.close()  # (ours is the read end: EOF once the reader is gone)
    try:
        while True:
            try:
                kind, body = marshal.loads(mine.recv_bytes())
            except EOFError:
                raise RuntimeError(
                    "The process reading the file stopped unexpectedly; nothing was imported."
                ) from None
            if kind == "chunk":
                records, progress, read, found, total = body
                _take(counts, problems, read, found, total)
                yield records
                if on_progress is not None and progress is not None:
                    on_progress(ImportProgress(*progress))
            elif kind == "done":
                _take(counts, problems, *body)
                if on_progress is not None:
                    size = prepared.format.size
                    on_progress(ImportProgress(phase, counts.rows, size, size))
                return
            else:  # "error": raised here as the reader raised it
                raise _rebuilt(body)
    finally:
        mine.close()
        if reader.is_alive():  # stopped early: cancelled, or a failure on this side
            reader.terminate()
        reader.join(5)


def _take(
    counts: ImportCounts,
    problems: Problems,
    read: list[int],
    found: list[tuple[Any, ...]],
    total: int,
) -> None:
    """What the reader counted and found since its last message."""
    for name, n in zip(_READ, read, strict=True):
        setattr(counts, name, getattr(counts, name) + n)
    problems.extend([RowProblem(*p) for p in found])
    problems.total += total - len(found)  # counted there, not all sent (only the first are kept)


def _reader_process(prepared: Prepared, phase: str, staged: bool, conn: Any) -> None:
    """The second process: reads the file and sends what it read, chunk by chunk."""
    counts, problems = ImportCounts(), Problems()
    sent: list[int] = [0] * len(_READ)
    progress: list[ImportProgress] = []
    kept_sent, total_sent = 0, 0

    def since_last() -> tuple[list[int], list[tuple[Any, ...]], int]:
        nonlocal kept_sent, total_sent
        now = [getattr(counts, name) for name in _READ]
        read = [a - b for a, b in zip(now, sent, strict=True)]
        sent[:] = now
        found = [(p.line, p.column, p.value, p.reason) for p in problems.kept[kept_sent:]]
        total = problems.total - total_sent
        kept_sent, total_sent = len(problems.kept), problems.total
        return read, found, total

    try:
        for chunk in _read_here(prepared, counts, problems, progress.append, phase):
            at = None if not progress else (phase, *astuple(progress[-1])[1:])
            shaped = [staged_row(r) for r in chunk] if staged else [tuple(r) for r in chunk]
            body = (shaped, at, *since_last())
            conn.send_bytes(marshal.dumps(("chunk", body)))
            progress.clear()
        conn.send_bytes(marshal.dumps(("done", since_last())))
    except BaseException as exc:  # whatever it is, the importing side raises it
        conn.send_bytes(marshal.dumps(("error", (type(exc).__name__, str(exc)))))
    finally:
        conn.close()


def _rebuilt(error: tuple[str, str]) -> Exception:
    """The reader's failure as this side raises it: a file problem as the CsvError it was."""
    name, message = error
    if name == "CsvError":
        return CsvError(message)
    return RuntimeError(f"Reading the file failed ({name}: {message}); nothing was imported.")
