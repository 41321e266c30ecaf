"""What the import wizard shows before anything is decided: how the file is written, what
each column seems to hold (with sample values, and how many look like phone numbers), the
first rows, and roughly how many rows there are."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from engage_desktop.core.fields import FieldType
from engage_desktop.imports.columns import Column, ColumnPlan, apply_maps, guess_columns
from engage_desktop.imports.csvfile import CsvFormat, detect, rows
from engage_desktop.sync.written_phones import written_phone

SAMPLE_ROWS = 200  # read for the guess
SHOWN_ROWS = 20  # shown as the preview


@dataclass(frozen=True)
class ColumnPreview:
    """One column: what it seems to hold, some of its values."""

    column: Column
    samples: tuple[str, ...]  # up to five distinct values
    filled: int  # sampled rows with a value
    phones: int  # of those, how many read as phone numbers


@dataclass(frozen=True)
class CsvPreview:
    """A file as the wizard shows it."""

    path: Path
    format: CsvFormat
    plan: ColumnPlan
    columns: tuple[ColumnPreview, ...]
    rows: tuple[tuple[str, ...], ...]  # the first rows, cells as written (long ones cut)
    sampled: int
    estimated_rows: int  # from the file's size and the sampled rows' length


def read_preview(
    path: Path,
    region: str,
    known_fields: dict[str, FieldType] | None = None,
    maps: tuple[str, ...] = (),
) -> CsvPreview:
    """The file's format, guessed columns (with `maps` applied) and first rows."""
    fmt = detect(path)
    sample = [cells for _, cells in itertools.islice(rows(path, fmt), SAMPLE_ROWS)]

    def is_phone(text: str) -> bool:
        return len(text) <= 40 and written_phone(text, region) is not None

    plan = guess_columns(fmt.header, sample, is_phone, known_fields or {})
    if maps:
        plan = apply_maps(plan, maps)
    columns = []
    for c in plan.columns:
        values = [r[c.index].strip() for r in sample if c.index < len(r) and r[c.index].strip()]
        distinct = tuple(dict.fromkeys(v[:80] for v in values))[:5]
        columns.append(
            ColumnPreview(c, distinct, len(values), sum(1 for v in values if is_phone(v)))
        )
    shown = tuple(tuple(cell[:200] for cell in r) for r in sample[:SHOWN_ROWS])
    sampled_bytes = sum(len(",".join(r).encode()) + 1 for r in sample) or 1
    estimate = (
        round(len(sample) * fmt.size / sampled_bytes) if len(sample) == SAMPLE_ROWS else len(sample)
    )
    return CsvPreview(path, fmt, plan, tuple(columns), shown, len(sample), estimate)
