"""`database move`: this computer's SQLite data copied to the team database, row for row,
resumable, the file left as it was; a server holding other data is refused."""

from __future__ import annotations

import hashlib
import math
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from engage_desktop.actions.database import move_local_data, try_connection
from engage_desktop.actions.outcomes import ActionError
from engage_desktop.cli import main
from engage_desktop.emulator import DEMO_API_KEY
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.storage import move
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import DB_NAME, open_database


@pytest.fixture
def synced(tmp_path: Path, live: EmulatorThread, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder with a real history: a sync, local opt-outs (outbox rows), issues."""
    monkeypatch.setenv("KLAVIYO_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    monkeypatch.delenv("ENGAGE_DESKTOP_DATABASE", raising=False)
    folder = tmp_path / "local"
    base = ["--data-dir", str(folder)]
    connect = [*base, "connect", "klaviyo", "--base-url", live.url, "--consent", "inferred"]
    assert main([*connect, "--lists", "all"]) == 0
    assert main([*base, "sync"]) == 0
    db = open_database(folder)
    for i in range(7):
        ContactRepo(db).add_opted_out(f"+1415555{i:04d}", "STOP", 1000.0 + i)
    db.close()
    return folder


def _rows(values: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    def norm(v: Any) -> Any:
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, float) and math.isfinite(v) and v == int(v):
            return int(v)
        return v

    return sorted((tuple(norm(v) for v in r) for r in values), key=repr)


def _digest(folder: Path) -> str:
    return hashlib.sha256((folder / DB_NAME).read_bytes()).hexdigest()


def test_the_move_copies_every_table_row_for_row_and_leaves_the_file(
    synced: Path, pg_url: str
) -> None:
    before = _digest(synced)
    seen: list[tuple[str, int, int]] = []
    report = move_local_data(synced, pg_url, lambda t, n, total: seen.append((t, n, total)))
    assert _digest(synced) == before  # only read
    assert report.counts["contacts"] > 1000 and report.counts["optout_outbox"] >= 7
    assert {t for t, _, _ in seen} == set(report.counts)
    local = sqlite3.connect(synced / DB_NAME)
    with psycopg.connect(pg_url) as server:
        for table in report.counts:
            cols = [r[1] for r in local.execute(f"PRAGMA table_info({table})")]
            names = ", ".join(f'"{c}"' for c in cols)
            mine = local.execute(f"SELECT {names} FROM {table}").fetchall()
            theirs = server.execute(f"SELECT {names} FROM {table}").fetchall()  # type: ignore[arg-type]
            assert _rows(theirs) == _rows(mine), table
    # The team database goes on from there: new rows get new ids, the data reads the same.
    team = open_database(synced, pg_url)
    assert len(ContactRepo(team).search()) == report.counts["contacts"]
    ContactRepo(team).add_opted_out("+14155559999", "STOP", 2000.0)
    assert try_connection(pg_url).contacts == report.counts["contacts"] + 1
    team.close()


def test_a_move_that_stopped_goes_on_where_it_stopped(
    synced: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(move, "BATCH_ROWS", 200)
    calls = 0

    def stop_midway(table: str, copied: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if table == "contacts" and 0 < copied < total:
            raise ConnectionError("the network went")

    with pytest.raises(ConnectionError):
        move_local_data(synced, pg_url, stop_midway)
    report = move_local_data(synced, pg_url)
    assert report.resumed
    local = sqlite3.connect(synced / DB_NAME)
    with psycopg.connect(pg_url) as server:
        for table, n in report.counts.items():
            assert local.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n
            assert server.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n  # type: ignore[arg-type,index]
        ids = server.execute("SELECT count(DISTINCT id), count(*) FROM contacts").fetchone()
        assert ids is not None and ids[0] == ids[1]  # nothing copied twice


def test_a_server_with_other_data_is_refused(synced: Path, pg_url: str, tmp_path: Path) -> None:
    other = open_database(tmp_path / "elsewhere", pg_url)
    ContactRepo(other).add_opted_out("+14155550000", "STOP", 1.0)
    other.close()
    with pytest.raises(ActionError, match="already holds other data"):
        move_local_data(synced, pg_url)


def test_database_test_says_what_the_server_holds(pg_url: str) -> None:
    check = try_connection(pg_url)
    assert check.ok and "PostgreSQL" in check.message
    bad = try_connection(pg_url.rsplit(":", 1)[0] + ":1/nowhere")
    assert not bad.ok and "Cannot connect" in bad.message


def test_the_command_line_moves_and_tests(
    synced: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["--data-dir", str(synced), "database", "test", "--url", pg_url]) == 0
    assert "empty" in capsys.readouterr().out
    assert main(["--data-dir", str(synced), "database", "move", "--to", pg_url]) == 0
    out, err = capsys.readouterr()
    assert "Moved" in out and "count checked" in out and "contacts:" in err
    assert main(["--data-dir", str(synced), "--database", pg_url, "status"]) == 0
    assert main(["--database", "mysql://x", "status"]) == 2
