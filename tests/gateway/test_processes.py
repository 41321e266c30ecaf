"""Processes on one database with both emulators on sockets: `kill -9` mid-send then resume
(nobody gets a second message), and a send while a sync commits."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from engage_desktop.cli import main
from engage_desktop.emulator import DEMO_API_KEY, Settings
from engage_desktop.emulator.messagemedia import MessageMediaEmulator
from engage_desktop.emulator.messagemedia import Settings as MMSettings
from engage_desktop.emulator.server import EmulatorThread

from .conftest import MM_ENV


@pytest.fixture(scope="module")
def klaviyo() -> Iterator[EmulatorThread]:
    with EmulatorThread(Settings(profiles=3000, lists=2, rate_limits=False)) as emu:
        yield emu


@pytest.fixture
def mm() -> Iterator[EmulatorThread]:
    emulator = MessageMediaEmulator(
        MMSettings(latency_ms=250, submitted_after_s=0.01, delivered_after_s=0.01)
    )
    with EmulatorThread(emulator) as emu:
        yield emu


def environment(folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"KLAVIYO_API_KEY": DEMO_API_KEY, "XDG_STATE_HOME": str(folder / "st"), **MM_ENV}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **values}


def cli(folder: Path, *args: str) -> int:
    return main(["--data-dir", str(folder), *args])


def setup(folder: Path, klaviyo: EmulatorThread, mm: EmulatorThread) -> None:
    base = ["connect", "klaviyo", "--base-url", klaviyo.url, "--consent", "inferred"]
    assert cli(folder, *base, "--lists", "all") == 0
    assert cli(folder, "sync") == 0
    assert cli(folder, "connect", "messagemedia", "--base-url", mm.url) == 0


def query(folder: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(folder / "engage.sqlite3", timeout=60) as con:
        return con.execute(sql).fetchall()


def wait_for(condition: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def sent(mm: EmulatorThread) -> Counter[str]:
    messages = httpx.get(f"{mm.url}/_emulator/messages", timeout=30).json()["messages"]
    return Counter(m["destination_number"] for m in messages)


def eligible(folder: Path, list_name: str) -> set[str]:
    rows = query(
        folder,
        "SELECT c.phone FROM contacts c JOIN list_members m ON m.contact_id = c.id"
        " JOIN contact_lists l ON l.id = m.list_id WHERE l.name = '" + list_name + "'"
        " AND c.sms_status = 'subscribed' AND length(c.phone) >= 9 AND c.phone NOT IN"
        " (SELECT phone FROM suppressions WHERE lifted_at IS NULL)",
    )
    return {str(p) for (p,) in rows}


def send_process(folder: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "engage_desktop", "--data-dir", str(folder), "send", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_9_mid_send_then_resume_sends_nobody_twice(
    tmp_path: Path,
    klaviyo: EmulatorThread,
    mm: EmulatorThread,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = environment(tmp_path, monkeypatch)
    setup(tmp_path, klaviyo, mm)
    name = str(query(tmp_path, "SELECT name FROM contact_lists ORDER BY id")[0][0])
    wanted = eligible(tmp_path, name)
    assert len(wanted) > 400
    victim = send_process(
        tmp_path, env, "--list", name, "--text", "Hi {first_name|there}", "--yes",
        "--concurrency", "2",
    )  # fmt: skip
    wait_for(lambda: sum(sent(mm).values()) >= 100)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    in_flight = query(tmp_path, "SELECT count(*) FROM campaign_recipients WHERE state = 'sending'")
    assert in_flight[0][0] > 0  # killed with a batch on the wire
    capsys.readouterr()
    assert cli(tmp_path, "send", "--resume", "1", "--yes", "--json") in (0, 1)
    resumed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert resumed["submitted"] + resumed["unknown"] == len(wanted)
    assert max(sent(mm).values()) == 1  # nobody got a second message
    # The batches that were on the wire at the kill: their delivery reports say they went.
    time.sleep(0.3)
    assert cli(tmp_path, "replies", "--json") == 0
    left = query(tmp_path, "SELECT count(*) FROM campaign_recipients WHERE state = 'unknown'")
    if left[0][0]:  # a batch killed before it left: a person decides to resend it
        assert cli(tmp_path, "send", "--resume", "1", "--yes", "--unknown", "resend") == 0
    assert sent(mm) == Counter({p: 1 for p in wanted})
    states = dict(query(tmp_path, "SELECT state, count(*) FROM campaign_recipients"
                               " WHERE phone IN (SELECT phone FROM campaign_recipients)"
                               " GROUP BY state"))  # fmt: skip
    assert states.get("submitted") == len(wanted) and "sending" not in states


def test_a_send_while_a_sync_commits_waits_for_it_and_sends_each_once(
    tmp_path: Path,
    klaviyo: EmulatorThread,
    mm: EmulatorThread,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = environment(tmp_path, monkeypatch)
    setup(tmp_path, klaviyo, mm)
    httpx.post(f"{mm.url}/_emulator/settings", json={"latency_ms": 400}).raise_for_status()
    httpx.post(f"{klaviyo.url}/_emulator/touch", json={"count": 2500, "seed": 7})
    name = str(query(tmp_path, "SELECT name FROM contact_lists ORDER BY id")[0][0])
    sender = send_process(tmp_path, env, "--list", name, "--text", "Hi", "--yes", "--json",
                          "--concurrency", "1")  # fmt: skip
    wait_for(lambda: sum(sent(mm).values()) > 0)
    syncing = subprocess.Popen(
        [sys.executable, "-m", "engage_desktop", "--data-dir", str(tmp_path), "sync", "--full",
         "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    sync_out, sync_err = syncing.communicate(timeout=300)
    assert syncing.returncode == 0, sync_err
    assert json.loads(sync_out.strip().splitlines()[-1])["status"] == "succeeded"
    out, err = sender.communicate(timeout=300)
    assert sender.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    (started, finished), (committed,) = (
        query(tmp_path, "SELECT started_at, finished_at FROM campaigns")[0],
        query(tmp_path, "SELECT max(ended_at) FROM sync_runs")[0],
    )
    assert started < committed < finished  # the sync committed while the campaign was sent
    counts = sent(mm)
    assert max(counts.values()) == 1 and sum(counts.values()) == result["submitted"]
    # Numbers the sync opted out (an UNSUBSCRIBED twin profile, say) may have had their
    # message before its commit; none after it (the sender checks before each batch goes).
    late = query(
        tmp_path,
        "SELECT r.phone FROM campaign_recipients r JOIN suppressions s ON s.phone = r.phone"
        f" WHERE s.lifted_at IS NULL AND r.sent_at > {committed + 0.5}",
    )
    assert not late


def test_the_cli_replies_round_closes_the_loop_headless(
    tmp_path: Path,
    klaviyo: EmulatorThread,
    mm: EmulatorThread,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment(tmp_path, monkeypatch)
    setup(tmp_path, klaviyo, mm)
    name = str(query(tmp_path, "SELECT name FROM contact_lists ORDER BY id")[0][0])
    httpx.post(f"{mm.url}/_emulator/settings", json={"latency_ms": 0}).raise_for_status()
    assert cli(tmp_path, "send", "--list", name, "--text", "Hi", "--yes") == 0
    phone = next(iter(sent(mm)))
    httpx.post(f"{mm.url}/_emulator/replies", json={"source_number": phone, "content": "STOP"})
    capsys.readouterr()
    assert cli(tmp_path, "replies", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["opt_outs"] == [phone] and doc["klaviyo"]["sent"] >= 1
    assert query(tmp_path, f"SELECT sms_status FROM contacts WHERE phone = '{phone}'") == [
        ("opted_out",)
    ]
    asyncio.run(asyncio.sleep(0))
