"""Desktops as processes on one team database: racing for the lock and for the daily sync,
`kill -9` of the lock's holder, the outbox pushed from two processes at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from engage_desktop.cli import main
from engage_desktop.emulator import DEMO_API_KEY
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import DATABASE_ENV, open_database
from engage_desktop.storage.lease import LeaseRepo
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.sync.lock import SyncLock, SyncLockHeld

ROOT = Path(__file__).resolve().parents[2]


def desktop(url: str, host: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, DATABASE_ENV: url, "KLAVIYO_API_KEY": DEMO_API_KEY}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.team._desktop", host, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_desktops_race_for_the_lock_one_wins_the_other_is_told_who(pg_url: str) -> None:
    a = desktop(pg_url, "desk-a", "lock", "4")
    b = desktop(pg_url, "desk-b", "lock", "4")
    both = {host: p.communicate(timeout=60) for host, p in (("desk-a", a), ("desk-b", b))}
    outs = {host: out for host, (out, _) in both.items()}
    took = [h for h, out in outs.items() if out.startswith("took")]
    refused = [h for h, out in outs.items() if out.startswith("refused")]
    assert len(took) == 1 and len(refused) == 1, both
    message = outs[refused[0]]
    assert f"desktop on {took[0]}" in message and "since" in message
    assert f"@{took[0]}" in message  # the holder's application_name: user@its host


def test_kill_9_of_the_holder_frees_the_lock_at_once(pg_url: str, tmp_path: Path) -> None:
    holder = desktop(pg_url, "desk-a", "lock", "120")
    assert holder.stdout is not None
    assert holder.stdout.readline().startswith("took")
    mine = SyncLock(LeaseRepo(open_database(tmp_path, pg_url)), "desk-b")
    with pytest.raises(SyncLockHeld):
        mine.acquire()
    holder.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    holder.wait()
    while True:
        try:
            mine.acquire()
            break
        except SyncLockHeld:
            assert time.monotonic() - killed < 10, "the server kept a dead holder's lock"
            time.sleep(0.01)
    freed_after = time.monotonic() - killed
    print(f"lock free {freed_after * 1000:.0f} ms after kill -9")
    assert freed_after < 2.0
    mine.release()


def test_two_desktops_due_for_the_daily_sync_run_it_once(
    pg_url: str, tmp_path: Path, live: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLAVIYO_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    connect = ["--database", pg_url, "--data-dir", str(tmp_path / "a"), "connect", "klaviyo"]
    assert main([*connect, "--base-url", live.url, "--consent", "inferred", "--lists", "all"]) == 0
    worker = ["worker", "--data-dir", str(tmp_path), "--trigger", "schedule"]
    runs = [desktop(pg_url, host, *worker) for host in ("desk-a", "desk-b")]
    outs = [p.communicate(timeout=180) for p in runs]
    db = open_database(tmp_path, pg_url)
    rows = db.execute_sql("SELECT trigger, status FROM sync_runs").fetchall()
    assert rows == [("schedule", "succeeded")], outs
    refused = [
        json.loads(line)
        for out, _ in outs
        for line in out.splitlines()
        if '"refused"' in line.lower() or "SyncRefused" in line
    ]
    assert len(refused) == 1, outs
    text = json.dumps(refused[0])
    assert "already running" in text or "already ran" in text


def test_two_desktops_pushing_at_once_send_each_opt_out_exactly_once(
    pg_url: str, tmp_path: Path, live: EmulatorThread
) -> None:
    db = open_database(tmp_path, pg_url)
    phones = [f"+1415555{i:04d}" for i in range(450)]
    for phone in phones:
        ContactRepo(db).add_opted_out(phone, "STOP", time.time())
    applied: Counter[str] = Counter()
    guard = threading.Lock()
    jobs = live.emulator.jobs
    real = jobs.apply

    def counting(change, list_id, subscribe):  # type: ignore[no-untyped-def]
        with guard:
            applied[change.phone] += 1
        real(change, list_id, subscribe)

    jobs.apply = counting  # type: ignore[method-assign]
    try:
        pushers = [desktop(pg_url, host, "push", live.url) for host in ("desk-a", "desk-b")]
        outs = [p.communicate(timeout=120) for p in pushers]
        deadline = time.monotonic() + 10
        while sum(applied.values()) < len(phones) and time.monotonic() < deadline:
            time.sleep(0.05)  # the emulator applies accepted jobs a moment later
    finally:
        jobs.apply = real  # type: ignore[method-assign]
    assert all(p.returncode == 0 for p in pushers), outs
    sent = [int(out.split()[-1]) for out, _ in outs]
    assert sum(sent) == len(phones), outs
    assert sorted(applied) == sorted(phones), "an opt-out was lost"
    assert max(applied.values()) == 1, "an opt-out was sent twice"
    assert OutboxRepo(db).pending_count() == 0
