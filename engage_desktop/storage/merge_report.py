"""The merge report: what a run (or an import) merged across sources, stored per run.

Three kinds of rows, each naming the contact and its number:
- `merged`: a record of another source joined the contact (the first time its sources met);
- `conflict`: sources disagree on a field; the row holds the value that won (by the source
  priority), the source it came from, and what the other sources had;
- `phone`: one written number is read differently by two sources (each reads national
  numbers with its own default country), so the same person may be two contacts.
Rows are collected while contacts are derived and written with the commit, a chunk at a time.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import orjson
import peewee

from engage_desktop.core.sources import source_label

_DETAILS = {"email": "Email", "first_name": "First name", "last_name": "Last name"}
_INSERT = (
    "INSERT INTO merge_reports (run_id, import_id, kind, contact_id, phone, field, value,"
    " source, others) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class SourceValues(Protocol):
    """What the report reads of a source record (storage/merge.py `Link`)."""

    @property
    def source(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def first_name(self) -> str | None: ...
    @property
    def last_name(self) -> str | None: ...


class MergeReportRow(NamedTuple):
    """One line of a merge report."""

    kind: str  # merged | conflict | phone
    contact_id: int | None
    phone: str | None
    field: str | None
    value: str | None  # the value that won (merged: the record that joined)
    source: str | None  # where it came from
    others: dict[str, str]  # source -> what it had


@dataclass
class MergeReport:
    """Collects report rows for one run or one import; `flush` writes them."""

    db: peewee.Database
    run_id: int | None = None
    import_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    _rows: list[tuple[Any, ...]] = field(default_factory=list)
    _before: dict[frozenset[str], str] = field(default_factory=dict)  # `others` of `merged`

    def _add(self, row: MergeReportRow) -> None:
        self.counts[row.kind] = self.counts.get(row.kind, 0) + 1
        self._rows.append((self.run_id, self.import_id, *row[:6], _json(row.others)))

    def merged(
        self, contact_id: int, phone: str | None, source: str, record: str, before: set[str]
    ) -> None:
        """A record of `source` joined a contact that had records of `before` only."""
        key = frozenset(before)
        others = self._before.get(key)
        if others is None:  # a handful of combinations: each written once
            others = self._before[key] = _json({s: "" for s in before})
        self.counts["merged"] = self.counts.get("merged", 0) + 1
        self._rows.append(
            (self.run_id, self.import_id, "merged", contact_id, phone, None, record, source, others)
        )

    def conflicts(
        self,
        contact_id: int,
        phone: str | None,
        recs: Sequence[SourceValues],
        values: Sequence[dict[str, Any]],
    ) -> None:
        """Fields on which the contact's sources disagree; `recs` in priority order (the
        first record with a value wins), `values` their parsed field values. Each source
        speaks through its first record with a value; values that differ only in case or
        surrounding spaces agree. (Runs for every merged contact a run touches: kept tight.)"""
        if len(recs) == 2:  # nearly every merged contact: compared without building lists
            self._two(contact_id, phone, recs[0], recs[1], values[0], values[1])
            return
        for attr, label in _DETAILS.items():
            pairs = [(r.source, x) for r in recs if (x := getattr(r, attr))]
            if len(pairs) > 1 and _differ(pairs):  # else: agreed
                self._field(contact_id, phone, label, pairs)
        # Only a field two records have can be disagreed on.
        seen: set[str] = set()
        shared: set[str] = set()
        for v in values:
            shared.update(seen.intersection(v))
            seen.update(v)
        for name in sorted(shared):
            pairs = [
                (r.source, x)
                for r, v in zip(recs, values, strict=True)
                if (x := v.get(name)) is not None and x != ""
            ]
            if len(pairs) > 1 and _differ(pairs):
                self._field(contact_id, phone, name, pairs)

    def _two(
        self,
        contact_id: int,
        phone: str | None,
        a: SourceValues,
        b: SourceValues,
        va: dict[str, Any],
        vb: dict[str, Any],
    ) -> None:
        """`conflicts` of two records: the same rules, two values at a time."""
        for attr, label in _DETAILS.items():
            x, y = getattr(a, attr), getattr(b, attr)
            if x and y and x != y:
                self._field(contact_id, phone, label, [(a.source, x), (b.source, y)])
        if va and vb:
            for name in sorted(va.keys() & vb.keys()):
                x, y = va[name], vb[name]
                if x is not None and x != "" and y is not None and y != "" and x != y:
                    self._field(contact_id, phone, name, [(a.source, x), (b.source, y)])

    def _field(
        self, contact_id: int, phone: str | None, name: str, pairs: list[tuple[str, Any]]
    ) -> None:
        winner: Any = None
        winner_source = ""
        key = ""
        heard: set[str] = set()
        others: dict[str, str] | None = None
        for source, value in pairs:
            if value is None or value == "" or source in heard:
                continue
            heard.add(source)
            if winner is None:
                winner, winner_source = value, source
                key = _same(value)
            elif value != winner and _same(value) != key:
                if others is None:
                    others = {}
                others[source] = _text(value)
        if others:
            self.counts["conflict"] = self.counts.get("conflict", 0) + 1
            self._rows.append(
                (
                    self.run_id,
                    self.import_id,
                    "conflict",
                    contact_id,
                    phone,
                    name,
                    _text(winner),
                    winner_source,
                    _json(others),
                )
            )

    def read_differently(
        self, written: str, source: str, phone: str | None, others: dict[str, str | None]
    ) -> None:
        """The same written number, read as `phone` by `source` and otherwise by others."""
        self._add(
            MergeReportRow(
                "phone",
                None,
                phone,
                "Phone",
                written,
                source,
                {s: p or "not a valid number" for s, p in others.items()},
            )
        )

    def flush(self) -> None:
        if self._rows and (self.run_id is not None or self.import_id is not None):
            self.db.cursor().executemany(_INSERT, self._rows)
        self._rows = []


def _differ(pairs: list[tuple[str, Any]]) -> bool:
    first = pairs[0][1]
    return any(x != first for _, x in pairs)


def _same(value: Any) -> str:
    """Values that differ only in case or surrounding spaces are the same value."""
    return _text(value).strip().casefold()


def _json(others: dict[str, str]) -> str:
    return orjson.dumps(others, option=orjson.OPT_SORT_KEYS).decode()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def numbers_read_differently(db: peewee.Database, source: str, report: MergeReport) -> None:
    """Numbers this source wrote in a national form (or could not read) that another source
    wrote the same way and read otherwise. Reads `raw_read(phone_raw, phone)`, filled by the
    caller with this run's numbers of `source`."""
    (waiting,) = db.execute_sql("SELECT count(*) FROM raw_read").fetchone()
    if not waiting:
        return
    found: dict[tuple[str, str | None], dict[str, str | None]] = {}
    for raw, mine, other, theirs in db.execute_sql(
        "SELECT r.phone_raw, r.phone, cs.source, cs.phone FROM contact_sources cs"
        " JOIN raw_read r ON r.phone_raw = cs.phone_raw"
        " WHERE cs.source != ? AND coalesce(cs.phone, '') != coalesce(r.phone, '')",
        (source,),
    ):
        found.setdefault((raw, mine), {})[other] = theirs
    for (raw, mine), others in found.items():
        report.read_differently(raw, source, mine, others)


def prepare_raw_read(db: peewee.Database) -> None:
    """The temporary table `numbers_read_differently` compares (emptied)."""
    db.execute_sql(
        "CREATE TEMP TABLE IF NOT EXISTS raw_read (phone_raw TEXT PRIMARY KEY, phone TEXT)"
        " WITHOUT ROWID"
    )
    db.execute_sql("DELETE FROM raw_read")


_SELECT = "SELECT kind, contact_id, phone, field, value, source, others FROM merge_reports"


def report_rows(
    db: peewee.Database,
    run_id: int | None = None,
    import_id: int | None = None,
    kind: str | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[MergeReportRow]:
    """A page of a run's (or an import's) report, in the order it was written."""
    where, args = _where(run_id, import_id, kind)
    rows = db.execute_sql(f"{_SELECT} {where} ORDER BY id LIMIT ? OFFSET ?", (*args, limit, offset))
    return [_row(r) for r in rows]


def report_counts(
    db: peewee.Database, run_id: int | None = None, import_id: int | None = None
) -> dict[str, int]:
    """How many rows of each kind (merged, conflict, phone)."""
    where, args = _where(run_id, import_id, None)
    out = {"merged": 0, "conflict": 0, "phone": 0}
    for kind, n in db.execute_sql(
        f"SELECT kind, count(*) FROM merge_reports {where} GROUP BY kind", args
    ):
        out[kind] = int(n)
    return out


def export_report_csv(
    db: peewee.Database, path: Path, run_id: int | None = None, import_id: int | None = None
) -> int:
    """The whole report as CSV (UTF-8 with BOM, for spreadsheets); appears whole or not at
    all. Returns the rows written."""
    where, args = _where(run_id, import_id, None)
    tmp = path.with_name(path.name + ".part")
    n = 0
    with tmp.open("w", newline="", encoding="utf-8-sig") as f:
        out = csv.writer(f)
        out.writerow(["kind", "contact_id", "phone", "field", "value", "source", "others"])
        for raw in db.execute_sql(f"{_SELECT} {where} ORDER BY id", args):
            r = _row(raw)
            shown = "; ".join(
                f"{source_label(s)}: {v}" if v else source_label(s) for s, v in r.others.items()
            )
            values = (r.contact_id, r.phone, r.field, r.value)
            out.writerow(
                [
                    r.kind,
                    *("" if v is None else v for v in values),
                    source_label(r.source or ""),
                    shown,
                ]
            )
            n += 1
    tmp.replace(path)
    return n


def _where(
    run_id: int | None, import_id: int | None, kind: str | None
) -> tuple[str, tuple[Any, ...]]:
    if (run_id is None) == (import_id is None):
        raise ValueError("name a run or an import")
    parts: list[str] = ["run_id = ?" if run_id is not None else "import_id = ?"]
    args: list[Any] = [run_id if run_id is not None else import_id]
    if kind is not None:
        parts.append("kind = ?")
        args.append(kind)
    return "WHERE " + " AND ".join(parts), tuple(args)


def _row(raw: Iterable[Any]) -> MergeReportRow:
    kind, contact_id, phone, name, value, source, others = raw
    return MergeReportRow(
        kind, contact_id, phone, name, value, source, orjson.loads(others or "{}")
    )


def note_raw(db: peewee.Database, pairs: Sequence[tuple[str, str | None]]) -> None:
    """Numbers as written and as read, for `numbers_read_differently` (after
    `prepare_raw_read`)."""
    db.cursor().executemany(
        "INSERT OR IGNORE INTO raw_read (phone_raw, phone) VALUES (?, ?)", pairs
    )
