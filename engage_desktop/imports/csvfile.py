"""Reading a CSV file people made: its encoding, its delimiter, its rows, streamed.

Spreadsheets save CSV in UTF-8 (with or without a byte-order mark), in Windows-1252 (Excel's
"CSV" on Windows in the West), or as UTF-16 "Unicode text" with tabs. UTF-16 and UTF-8 with a
mark say so in their first bytes; otherwise the whole file is checked as UTF-8 (a streamed
pass: a file that is not valid UTF-8 anywhere is read as Windows-1252). The delimiter is the
one of `, ; TAB |` that splits the first lines into the same number of columns, most often.
Rows are read one at a time: a file is never in memory whole.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

DELIMITERS = (",", ";", "\t", "|")
SNIFF_BYTES = 256 * 1024
SNIFF_LINES = 50
# A cell larger than this stops the file (csv needs a limit; this is far above any real cell).
MAX_CELL_CHARS = 64 * 1024 * 1024
_CHUNK = 1 << 20


class CsvError(ValueError):
    """A file that cannot be read as CSV; the message says why, in words."""


@dataclass(frozen=True)
class CsvFormat:
    """How a file is written."""

    encoding: str  # utf-8 | utf-8-sig | utf-16 | cp1252
    delimiter: str
    header: tuple[str, ...]
    size: int  # bytes

    @property
    def encoding_label(self) -> str:
        return {
            "utf-8": "UTF-8",
            "utf-8-sig": "UTF-8 (with byte-order mark)",
            "utf-16": "UTF-16",
            "cp1252": "Windows-1252",
        }.get(self.encoding, self.encoding)

    @property
    def delimiter_label(self) -> str:
        return {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}[self.delimiter]


def detect_encoding(path: Path) -> str:
    """utf-8-sig / utf-16 from a byte-order mark; else utf-8 when every byte of the file
    decodes as UTF-8, cp1252 otherwise."""
    with path.open("rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := f.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _open(path: Path, encoding: str) -> io.TextIOWrapper:
    # Windows-1252 leaves five bytes undefined: they become U+FFFD rather than stopping.
    errors = "replace" if encoding == "cp1252" else "strict"
    return io.TextIOWrapper(_raw(path), encoding=encoding, errors=errors, newline="")


def _raw(path: Path) -> io.BufferedReader:
    return path.open("rb")


def detect(path: Path) -> CsvFormat:
    """The file's encoding, delimiter and header row; CsvError when it has no usable rows."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CsvError(f"Cannot read {path.name}: {exc.strerror or exc}.") from None
    if size == 0:
        raise CsvError(f"{path.name} is empty.")
    encoding = detect_encoding(path)
    with _open(path, encoding) as f:
        sample = f.read(SNIFF_BYTES)
    if "\x00" in sample:
        raise CsvError(f"{path.name} is not a text file (it contains NUL bytes).")
    delimiter = _delimiter(sample)
    csv.field_size_limit(MAX_CELL_CHARS)
    try:
        header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    except csv.Error as exc:
        raise CsvError(f"{path.name} cannot be read as CSV: {exc}.") from None
    names = tuple(h.strip().lstrip("\ufeff") for h in header)
    if not any(names):
        raise CsvError(f"{path.name} has no header row (the first line names the columns).")
    return CsvFormat(encoding, delimiter, names, size)


def _delimiter(sample: str) -> str:
    """The delimiter that gives the first lines one steady column count above one, the most
    columns winning ties; a comma when none does."""
    lines = sample.splitlines()[:SNIFF_LINES]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut its last line short
    best, best_key = ",", (0, 0, 0)
    for d in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(lines, delimiter=d) if r]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        steady = sum(1 for w in widths if w == widths[0])
        key = (steady, widths[0], -DELIMITERS.index(d))
        if key > best_key:
            best, best_key = d, key
    return best


def rows(
    path: Path, fmt: CsvFormat, on_bytes: Callable[[int], None] | None = None
) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every data row after the header; blank lines are skipped.
    `on_bytes` hears how far into the file reading is, every few thousand rows. CsvError for
    a row the csv reader cannot read (a cell beyond MAX_CELL_CHARS)."""
    csv.field_size_limit(MAX_CELL_CHARS)
    raw = _raw(path)
    errors = "replace" if fmt.encoding == "cp1252" else "strict"
    with io.TextIOWrapper(raw, encoding=fmt.encoding, errors=errors, newline="") as f:
        reader = csv.reader(f, delimiter=fmt.delimiter)
        try:
            next(reader, None)
            for n, cells in enumerate(reader):
                if on_bytes is not None and n % 4096 == 0:
                    on_bytes(raw.tell())
                if cells and any(cells):
                    yield reader.line_num, cells
        except csv.Error as exc:
            raise CsvError(
                f"Line {reader.line_num} of {path.name} cannot be read: {exc}."
            ) from None
        except UnicodeDecodeError:
            raise CsvError(
                f"{path.name} changed while it was read (it is no longer UTF-8)."
            ) from None
