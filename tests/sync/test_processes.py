"""Several processes on one database: the lock between them, and `kill -9` at bad moments."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engage_desktop.cli import main
from engage_desktop.emulator import DEMO_API_KEY, Settings
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.storage.database import DATABASE_ENV
from engage_desktop.storage.dialect import to_postgres


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(Settings(profiles=1500, lists=3, latency_ms=150)) as emu:
        yield emu


@pytest.fixture(scope="module")
def fetch_emulator() -> Iterator[EmulatorThread]:
    # Enough rows that the fetch writes staging batches well before its end: with fewer,
    # the only batch lands just before the commit, and staged rows exist for ~10 ms.
    with EmulatorThread(Settings(profiles=4000, lists=3, latency_ms=150)) as emu:
        yield emu


@pytest.fixture(scope="module")
def big_emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(Settings(profiles=20000, lists=2, rate_limits=False)) as emu:
        yield emu


def connected(folder: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {**os.environ, "KLAVIYO_API_KEY": DEMO_API_KEY, "XDG_STATE_HOME": str(folder / "st")}
    monkeypatch.setenv("KLAVIYO_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("XDG_STATE_HOME", str(folder / "st"))
    args = [
        "--data-dir",
        str(folder),
        "connect",
        "klaviyo",
        "--base-url",
        url,
        "--consent",
        "inferred",
        "--lists",
        "all",
    ]
    assert main(args) == 0
    return env


def start_sync(folder: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engage_desktop",
            "--data-dir",
            str(folder),
            "-v",
            "sync",
            "--json",
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def query(folder: Path, sql: str) -> list[tuple[object, ...]]:
    """Read the database the processes use: the folder's SQLite file, or the team database
    when the test runs on PostgreSQL (ENGAGE_DESKTOP_DATABASE)."""
    url = os.environ.get(DATABASE_ENV)
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as pg:
            return [tuple(r) for r in pg.execute(to_postgres(sql)).fetchall()]  # type: ignore[arg-type]
    with sqlite3.connect(folder / "engage.sqlite3", timeout=30) as con:
        return con.execute(sql).fetchall()


def intact(folder: Path) -> bool:
    """SQLite's own check of its file; PostgreSQL's transactions need none."""
    if os.environ.get(DATABASE_ENV):
        return True
    return query(folder, "PRAGMA integrity_check") == [("ok",)]


def wait_for(condition, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def test_a_second_process_is_refused_with_who_and_since(
    tmp_path: Path, slow_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = connected(tmp_path, slow_emulator.url, monkeypatch)
    first = start_sync(tmp_path, env)
    wait_for(lambda: query(tmp_path, "SELECT count(*) FROM sync_lease")[0][0] == 1)
    second = start_sync(tmp_path, env)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 3
    assert "already running" in err and "command line" in err and "since" in err
    out, _ = first.communicate(timeout=120)
    assert first.returncode == 0
    last = json.loads(out.strip().splitlines()[-1])
    assert last["status"] == "succeeded" and last["created"] > 0
    for key in (
        "trigger",
        "updated",
        "unchanged",
        "removed",
        "invalid",
        "opted_out",
        "issues",
        "requests",
        "throttled",
        "duration_s",
    ):
        assert key in last


def test_kill_9_during_fetch_leaves_the_database_intact(
    tmp_path: Path, fetch_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = connected(tmp_path, fetch_emulator.url, monkeypatch)
    victim = start_sync(tmp_path, env)
    wait_for(lambda: query(tmp_path, "SELECT count(*) FROM staged_records")[0][0] > 0)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert intact(tmp_path)
    assert query(tmp_path, "SELECT count(*) FROM contacts") == [(0,)]  # nothing half-applied
    again = start_sync(tmp_path, env)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    statuses = [s for (s,) in query(tmp_path, "SELECT status FROM sync_runs ORDER BY id")]
    assert statuses == ["interrupted", "succeeded"]
    assert query(tmp_path, "SELECT count(*) FROM staged_records") == [(0,)]


def test_kill_9_during_commit_is_all_or_nothing(
    tmp_path: Path, big_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = connected(tmp_path, big_emulator.url, monkeypatch)
    victim = start_sync(tmp_path, env)
    assert victim.stderr is not None
    for line in victim.stderr:
        if "committing" in line:
            victim.send_signal(signal.SIGKILL)
            break
    victim.wait()
    assert intact(tmp_path)
    contacts = query(tmp_path, "SELECT count(*) FROM contacts")[0][0]
    again = start_sync(tmp_path, env, "--full")
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    total = query(tmp_path, "SELECT count(*) FROM contacts")[0][0]
    assert contacts in (0, total)  # the killed commit applied fully or not at all
    assert total > 10000
