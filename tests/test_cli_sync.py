"""The headless commands end to end: connect, sync, status, contacts, optout."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from engage_desktop.cli import main
from engage_desktop.emulator import DEMO_API_KEY
from engage_desktop.emulator.server import EmulatorThread


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KLAVIYO_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


def run(folder: Path, *args: str) -> int:
    return main(["--data-dir", str(folder), *args])


def connect(folder: Path, url: str, consent: str, *more: str) -> int:
    """`engage-desktop connect klaviyo` to the emulator at `url`; `more`: --lists, --map …"""
    return run(folder, "connect", "klaviyo", "--base-url", url, "--consent", consent, *more)


def last_json(capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_connect_sync_status_contacts_optout(
    env: Path, live: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    lists = httpx.get(
        f"{live.url}/api/lists",
        headers={"Authorization": f"Klaviyo-API-Key {DEMO_API_KEY}", "revision": "2026-07-15"},
    ).json()
    first = lists["data"][0]
    mapping = "Shoe size=properties.Shoe Size:number"
    assert connect(env, live.url, "explicit", "--lists", first["id"], "--map", mapping) == 0
    assert "Connected to Klaviyo account" in capsys.readouterr().out
    assert run(env, "sync", "--json") == 0
    result = last_json(capsys)
    assert result["status"] == "succeeded" and result["trigger"] == "manual"
    assert result["created"] > 0 and result["requests"] > 0
    assert run(env, "status", "--json") == 0
    status = last_json(capsys)
    assert status["connected"] and status["last_run"]["status"] == "succeeded"
    assert status["contacts"]["total"] == result["created"]
    assert status["account"]["consent_mode"] == "explicit" and status["next_run"]
    assert run(env, "contacts", "--list", first["attributes"]["name"], "--json") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == result["created"] and all("KLAVIYO" in r["sources"] for r in rows)
    target = next(r for r in rows if r["phone"] and r["sms_status"] == "subscribed")

    assert run(env, "optout", target["phone"]) == 0
    out = capsys.readouterr().out
    assert "opted out" in out and "Klaviyo told: 1 opt-out sent" in out
    assert run(env, "status", "--json") == 0
    assert last_json(capsys)["pending_opt_outs"] == 0
    time.sleep(0.2)
    profile = httpx.get(
        f"{live.url}/api/profiles",
        params={
            "filter": f'equals(phone_number,"{target["phone"]}")',
            "additional-fields[profile]": "subscriptions",
        },
        headers={"Authorization": f"Klaviyo-API-Key {DEMO_API_KEY}", "revision": "2026-07-15"},
    ).json()["data"]
    assert (
        profile[0]["attributes"]["subscriptions"]["sms"]["marketing"]["consent"] == "UNSUBSCRIBED"
    )


def test_configuration_errors_exit_2(
    env: Path,
    live: EmulatorThread,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run(env, "sync") == 2
    assert "Not connected" in capsys.readouterr().err
    assert connect(env, live.url, "inferred", "--lists", "nope1,nope2") == 2
    assert "Unknown list ids nope1, nope2. Lists in this account:" in capsys.readouterr().err
    assert connect(env, live.url, "inferred", "--lists", "all", "--map", "Broken") == 2
    monkeypatch.setenv("KLAVIYO_API_KEY", "pk_not_a_key_the_emulator_knows_00")
    assert connect(env, live.url, "inferred", "--lists", "all") == 2
    err = capsys.readouterr().err
    assert "did not accept this API key" in err and "pk_not_a_key" not in err
    assert run(env, "optout", "12") == 2


def test_optout_of_an_unknown_number_is_remembered_and_queued(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(env, "optout", "(415) 555-0142") == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "kept as an opted-out number" in out and "queued" in captured.err
    assert run(env, "status", "--json") == 0
    status = last_json(capsys)
    assert status["pending_opt_outs"] == 1 and status["contacts"]["opted_out"] == 1


def test_key_kept_in_the_keyring_serves_later_commands(
    env: Path,
    live: EmulatorThread,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import keyring

    from engage_desktop.storage.memory_keyring import MemoryKeyring

    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        assert connect(env, live.url, "inferred", "--lists", "all") == 0
        assert "No usable keyring" not in capsys.readouterr().err
        assert list(memory.store.values()) == [DEMO_API_KEY]
        monkeypatch.delenv("KLAVIYO_API_KEY")
        assert run(env, "sync", "--json") == 0
        assert last_json(capsys)["status"] == "succeeded"
        for stored in env.glob("engage.sqlite3*"):
            assert DEMO_API_KEY.encode() not in stored.read_bytes()
    finally:
        keyring.set_keyring(previous)


def test_sync_events_stream_progress_then_the_result(
    env: Path, live: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    from engage_desktop.sync.events import SyncProgress, SyncRefused, SyncResult, parse_event

    assert run(env, "sync", "--events") == 2  # not connected: a refusal event, exit 2
    refused = parse_event(capsys.readouterr().out.strip().splitlines()[-1])
    assert isinstance(refused, SyncRefused) and refused.kind == "config"
    assert connect(env, live.url, "inferred", "--lists", "all") == 0
    capsys.readouterr()
    assert run(env, "sync", "--events", "--trigger", "schedule", "--full") == 0
    events = [parse_event(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert all(e is not None for e in events)
    progress = [e for e in events if isinstance(e, SyncProgress)]
    assert progress and progress[0].phase == "planning"
    result = events[-1]
    assert isinstance(result, SyncResult)
    assert result.status == "succeeded" and result.trigger == "schedule" and result.full
