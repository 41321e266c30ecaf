"""Losing the team database's server: a run fails as a whole and says so; the next use
reconnects by itself once the server is back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engage_desktop.cli import main
from engage_desktop.emulator import DEMO_API_KEY, Settings
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.storage.database import DATABASE_ENV, DatabaseError, open_database
from tests.pg_server import PgServer, throwaway_server


@pytest.fixture
def own_server() -> Iterator[PgServer]:
    """A server of this test's own: it is stopped and started again."""
    with throwaway_server() as server:
        yield server


def test_the_next_use_reconnects_once_the_server_is_back(
    own_server: PgServer, tmp_path: Path
) -> None:
    db = open_database(tmp_path, own_server.fresh_url())
    assert db.execute_sql("SELECT count(*) FROM contacts").fetchone() == (0,)
    own_server.stop()
    with pytest.raises(DatabaseError):
        db.execute_sql("SELECT count(*) FROM contacts")
    own_server.start()
    assert db.execute_sql("SELECT count(*) FROM contacts").fetchone() == (0,)


def test_a_sync_that_loses_the_server_fails_whole_and_the_next_one_succeeds(
    own_server: PgServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = own_server.fresh_url()
    monkeypatch.setenv("KLAVIYO_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    monkeypatch.setenv(DATABASE_ENV, url)
    with EmulatorThread(Settings(profiles=3000, lists=2, latency_ms=100)) as emu:
        base = ["--data-dir", str(tmp_path)]
        connect = [*base, "connect", "klaviyo", "--base-url", emu.url, "--consent", "inferred"]
        assert main([*connect, "--lists", "all"]) == 0
        sync = [sys.executable, "-m", "engage_desktop", *base, "sync"]
        proc = subprocess.Popen(sync, env=os.environ.copy(), stderr=subprocess.PIPE, text=True)
        db = open_database(tmp_path)
        deadline = time.monotonic() + 60
        while db.execute_sql("SELECT count(*) FROM staged_records").fetchone()[0] == 0:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        db.close()
        own_server.stop()
        _, err = proc.communicate(timeout=120)
        assert proc.returncode != 0
        assert "database" in err.lower() and "Traceback" not in err, err
        own_server.start()
        db = open_database(tmp_path)
        assert db.execute_sql("SELECT count(*) FROM contacts").fetchone() == (0,)  # nothing half
        again = subprocess.run(sync, env=os.environ.copy(), capture_output=True, text=True)
        assert again.returncode == 0, again.stderr
        statuses = [s for (s,) in db.execute_sql("SELECT status FROM sync_runs ORDER BY id")]
        assert statuses[-1] == "succeeded" and statuses[0] in ("interrupted", "failed")
        assert db.execute_sql("SELECT count(*) FROM contacts").fetchone()[0] > 1000
