"""The command line under pressure: SIGTERM mid-run, an opt-out during a long commit, file
modes of personal data, base URLs that would leak the key, two pushers at once."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from engage_desktop.cli import main
from engage_desktop.core.secrets import ApiKey
from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator, Settings
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.storage import database
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import DATABASE_ENV, open_database
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.sync.pusher import OptOutPusher

from .test_processes import connected, query, slow_emulator, start_sync, wait_for

__all__ = ["slow_emulator"]  # the module-wide emulator fixture, shared


def test_sigterm_records_the_run_as_cancelled(
    tmp_path: Path, slow_emulator: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = connected(tmp_path, slow_emulator.url, monkeypatch)
    proc = start_sync(tmp_path, env)
    wait_for(lambda: query(tmp_path, "SELECT count(*) FROM sync_lease")[0][0] == 1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "cancelled" in err
    assert query(tmp_path, "SELECT status FROM sync_runs") == [("cancelled",)]
    assert query(tmp_path, "SELECT count(*) FROM sync_lease") == [(0,)]


def _writer_holding_the_lock(folder: Path) -> Any:
    """Another connection in the middle of a write transaction (a sync's commit)."""
    url = os.environ.get(DATABASE_ENV)
    if url:  # the team database: a write transaction begins by taking the writers' row
        import psycopg

        pg = psycopg.connect(url, autocommit=True)
        pg.execute("BEGIN")
        pg.execute("UPDATE engage_changes SET n = n + 1")
        return pg
    holder = sqlite3.connect(
        folder / "engage.sqlite3", isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_an_opt_out_during_a_long_commit_waits_for_it_and_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    open_database(tmp_path).close()
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 1.0)  # a commit longer than the usual wait
    monkeypatch.setattr(database, "PATIENT_WAIT_S", 30.0)
    holder = _writer_holding_the_lock(tmp_path)  # the sync's commit holds the write lock …
    release = threading.Timer(3.0, lambda: holder.execute("COMMIT"))  # … for 3 s
    release.start()
    started = time.monotonic()
    code = main(["--data-dir", str(tmp_path), "optout", "+14155550144"])
    took = time.monotonic() - started
    release.join()
    holder.close()
    out, err = capsys.readouterr()
    assert code == 0 and took >= 2.5
    assert "waits for it" in err and "opted-out number" in out
    assert query(tmp_path, "SELECT phone FROM optout_outbox") == [("+14155550144",)]
    assert query(tmp_path, "SELECT phone FROM suppressions") == [("+14155550144",)]


def test_personal_data_is_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    old = os.umask(0o022)
    try:
        code = subprocess.run(
            [sys.executable, "-m", "engage_desktop", "status"],
            env={**os.environ},
            capture_output=True,
        ).returncode
    finally:
        os.umask(old)
    assert code == 0
    folder = tmp_path / "data" / "engage-desktop"
    logs = tmp_path / "state" / "engage-desktop" / "log"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for f in [*folder.iterdir(), *logs.rglob("*.log")]:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


@pytest.mark.parametrize(
    "url",
    ["http://pk_abcdefghijklmnopqrstuvwx@127.0.0.1:9", "http://203.0.113.9:8765"],
)
def test_connect_refuses_a_base_url_that_would_leak_the_key(
    tmp_path: Path,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KLAVIYO_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    args = ["--data-dir", str(tmp_path), "connect", "klaviyo", "--base-url", url]
    assert main([*args, "--consent", "inferred", "--lists", "all"]) == 2
    _, err = capsys.readouterr()
    assert "pk_abc" not in err and ("password" in err or "in clear" in err)
    assert not (tmp_path / "engage.sqlite3").exists()  # nothing stored, not even a database


async def test_two_pushers_at_once_send_each_opt_out_once(tmp_path: Path) -> None:
    emulator = KlaviyoEmulator(Settings(profiles=0, lists=0, rate_limits=False))
    transport = httpx.ASGITransport(app=emulator)
    first = open_database(tmp_path)
    contacts = ContactRepo(first)
    for i in range(151):
        contacts.add_opted_out(f"+1415555{i:04d}", "STOP", time.time())
    sent: list[str] = []
    second = open_database(tmp_path)

    async def push(db: database.Database) -> None:
        client = KlaviyoClient(ApiKey(DEMO_API_KEY), "http://127.0.0.1", transport=transport)
        real = client.bulk_unsubscribe_sms

        async def recording(phones: list[str]) -> None:
            await asyncio.sleep(0.05)  # both pushers are mid-flight together
            await real(phones)
            sent.extend(phones)

        client.bulk_unsubscribe_sms = recording  # type: ignore[method-assign]
        async with client:
            await OptOutPusher(OutboxRepo(db), client).push_due()

    await asyncio.gather(push(first), push(second))
    assert sorted(sent) == sorted(f"+1415555{i:04d}" for i in range(151)), "sent twice or lost"
    assert OutboxRepo(first).pending_count() == 0
    first.close()
    second.close()
