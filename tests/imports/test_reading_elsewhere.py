"""A big file is read by a second process while this one writes: the same chunks, counts,
problems and progress as reading it here, its failures raised here, and the reader stopped
when the import is."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from engage_desktop.actions.imports import ImportActions
from engage_desktop.actions.outcomes import ActionError
from engage_desktop.imports import reading
from engage_desktop.imports.reading import read_chunks
from engage_desktop.imports.report import ImportCounts, ImportProgress, Problems
from engage_desktop.storage.database import Database, open_database
from tests.imports.test_csv_import import state, write


def expected(n: int) -> tuple[int, int, int]:
    """new, invalid, duplicates of `rows(n)`."""
    invalid = len([i for i in range(n) if i % 97 == 0])
    new = len({i % 9000 for i in range(n) if i % 97})
    return new, invalid, n - invalid - new


def rows(n: int) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [("Phone", "Name", "Opted out", "Points")]
    for i in range(n):
        phone = f"(415) 555-{i % 9000:04d}" if i % 97 else "not a number"  # junk, and twins
        out.append((phone, f"Name {i}", "yes" if i % 50 == 0 else "", str(i % 7)))
    return out


def read(prepared: object, monkeypatch: pytest.MonkeyPatch, elsewhere: bool) -> tuple:
    monkeypatch.setattr(reading, "ELSEWHERE_MIN_BYTES", 0 if elsewhere else 10**12)
    counts, problems, progress = ImportCounts(), Problems(), []
    chunks = list(read_chunks(prepared, counts, problems, progress.append, "checking"))  # type: ignore[arg-type]
    return chunks, counts, problems, progress


def test_reading_elsewhere_gives_what_reading_here_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = open_database(tmp_path / "data")
    prepared = ImportActions(db).prepare(write(tmp_path / "big.csv", rows(12_000)), "Fair")
    here = read(prepared, monkeypatch, elsewhere=False)
    there = read(prepared, monkeypatch, elsewhere=True)
    new, invalid, duplicates = expected(12_000)
    assert there[0] == here[0] and sum(map(len, here[0])) == new and len(here[0]) == 2
    assert there[1] == here[1] and (here[1].invalid, here[1].duplicates) == (invalid, duplicates)
    assert there[2] == here[2] and here[2].total == invalid + duplicates
    assert [p.phase for p in there[3]] == ["checking"] * 2
    assert there[3][-1] == ImportProgress(
        "checking", 12_000, prepared.format.size, prepared.format.size
    )
    db.close()


def test_an_import_read_elsewhere_writes_what_one_read_here_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = []
    for elsewhere in (False, True):
        monkeypatch.setattr(reading, "ELSEWHERE_MIN_BYTES", 0 if elsewhere else 10**12)
        db = open_database(tmp_path / f"data-{elsewhere}")
        actions = ImportActions(db)
        done = actions.run(actions.prepare(write(tmp_path / "big.csv", rows(12_000)), "Fair"))
        c = done.report.counts
        results.append(((c.rows, c.new, c.invalid, c.duplicates, c.opted_out), state(db)))
        db.close()
    assert results[1][0] == results[0][0] and results[0][0][1:4] == expected(12_000)
    # the same rows written, but for the times they were written at
    assert len(results[1][1]["contacts"]) == len(results[0][1]["contacts"])

    def kept(state: dict[str, list[tuple[object, ...]]]) -> tuple[object, ...]:
        """Each contact with its SMS status and why, and the opt-outs kept per number."""
        contacts = [(*r[1:8], r[9]) for r in state["contacts"]]
        return contacts, [(r[0], r[2]) for r in state["suppressions"]]

    assert kept(results[1][1]) == kept(results[0][1])
    # the rows that said "opted out" are opted out, and their numbers are kept as such
    opted_out = {c[0] for c in kept(results[1][1])[0] if c[6] == "opted_out"}
    assert len(opted_out) == results[1][0][4] > 0
    assert {phone for phone, _ in kept(results[1][1])[1]} == opted_out


def test_a_file_that_turns_unreadable_fails_as_it_would_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "ELSEWHERE_MIN_BYTES", 0)
    db = open_database(tmp_path / "data")
    actions = ImportActions(db)
    path = write(tmp_path / "late.csv", rows(20_000))
    prepared = actions.prepare(path, "Fair")  # (the first rows are fine: UTF-8)
    path.write_bytes(path.read_bytes() + b"\xff\xfe not utf-8\r\n")
    with pytest.raises(ActionError) as failed:
        actions.run(prepared)
    assert "Nothing was imported" in str(failed.value) and state(db)["contacts"] == []
    db.close()


def test_a_cancelled_import_stops_its_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "ELSEWHERE_MIN_BYTES", 0)
    db: Database = open_database(tmp_path / "data")
    actions = ImportActions(db)
    prepared = actions.prepare(write(tmp_path / "big.csv", rows(40_000)), "Fair")
    with pytest.raises(ActionError, match="cancelled"):
        actions.run(prepared, should_stop=lambda: True)
    assert state(db)["contacts"] == []
    assert not [p for p in multiprocessing.active_children() if p.name == "csv-reader"]
    db.close()


def test_a_failure_while_writing_leaves_no_reader_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engage_desktop.storage.merge import Merge

    monkeypatch.setattr(reading, "ELSEWHERE_MIN_BYTES", 0)

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Merge, "add_new", broken)
    db = open_database(tmp_path / "data")
    actions = ImportActions(db)
    prepared = actions.prepare(write(tmp_path / "big.csv", rows(40_000)), "Fair")
    with pytest.raises(OSError, match="disk full"):
        actions.run(prepared)
    assert not [p for p in multiprocessing.active_children() if p.name == "csv-reader"]
    assert state(db)["contacts"] == []
    db.close()
