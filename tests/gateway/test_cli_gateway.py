"""The gateway's commands: connect messagemedia, send (a dry run unless --yes), replies; their
exit codes, their JSON, and help on every option."""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from engage_desktop.cli import build_parser, main
from engage_desktop.emulator import DEMO_API_KEY, Settings
from engage_desktop.emulator.server import EmulatorThread

from .conftest import MM_ENV


@pytest.fixture(scope="module")
def klaviyo() -> Iterator[EmulatorThread]:
    with EmulatorThread(Settings(profiles=400, lists=2, rate_limits=False)) as emu:
        yield emu


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, klaviyo: EmulatorThread) -> Path:
    monkeypatch.setenv("KLAVIYO_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    for key, value in MM_ENV.items():
        monkeypatch.setenv(key, value)
    args = ["connect", "klaviyo", "--base-url", klaviyo.url, "--consent", "explicit"]
    assert cli(tmp_path, *args, "--lists", "all") == 0
    assert cli(tmp_path, "sync") == 0
    return tmp_path


def cli(folder: Path, *args: str) -> int:
    return main(["--data-dir", str(folder), *args])


def last_json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    doc: dict[str, object] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    return doc


def test_every_gateway_option_has_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    connect = sub.choices["connect"]
    providers = next(a for a in connect._actions if isinstance(a, argparse._SubParsersAction))
    for command in (providers.choices["messagemedia"], sub.choices["send"], sub.choices["replies"]):
        for action in command._actions:
            assert action.help, f"{command.prog} {action.option_strings} has no help"


def test_connect_checks_the_credentials_live(
    folder: Path, live_mm: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["connect", "messagemedia", "--base-url", live_mm.url]
    assert cli(folder, *args, "--source-number", "+61491570157") == 0
    out = capsys.readouterr().out
    assert "Connected to MessageMedia" in out and "+61491570157" in out
    assert MM_ENV["MESSAGEMEDIA_API_SECRET"] not in out
    # Run again without naming the sender: it stays.
    assert cli(folder, *args) == 0
    assert "+61491570157" in capsys.readouterr().out


def test_connect_refusals_exit_2_and_say_why(
    folder: Path,
    live_mm: EmulatorThread,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(folder, "connect", "messagemedia", "--base-url", "http://api.messagemedia.com") == 2
    assert "http://" in capsys.readouterr().err
    bad = ["connect", "messagemedia", "--base-url", live_mm.url, "--source-number", "0412"]
    assert cli(folder, *bad) == 2
    assert "international form" in capsys.readouterr().err
    monkeypatch.setenv("MESSAGEMEDIA_API_SECRET", "wrong-secret-value")
    assert cli(folder, "connect", "messagemedia", "--base-url", live_mm.url) == 2
    err = capsys.readouterr().err
    assert "did not accept" in err and "wrong-secret-value" not in err
    monkeypatch.delenv("MESSAGEMEDIA_API_SECRET")
    assert cli(folder, "connect", "messagemedia", "--base-url", live_mm.url) == 2
    assert "MESSAGEMEDIA_API_SECRET is not set" in capsys.readouterr().err


def test_send_without_yes_only_shows_what_would_be_sent(
    folder: Path, live_mm: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(folder, "send", "--list", "x", "--text", "Hi") == 2  # not connected yet
    assert "not connected" in capsys.readouterr().err
    assert cli(folder, "connect", "messagemedia", "--base-url", live_mm.url) == 0
    capsys.readouterr()
    assert cli(folder, "send", "--list", "SMS Subscribers", "--text", "Hi {first_name|you}") == 0
    out = capsys.readouterr().out
    assert "recipients" in out and "skipped, never subscribed" in out and "Nothing was sent" in out
    assert cli(folder, "send", "--list", "SMS Subscribers", "--text", "Hi", "--json") == 0
    plan = last_json(capsys)
    assert plan["campaign_id"] is None and plan["recipients"] > 0  # type: ignore[operator]
    assert set(plan["skipped"]) >= {"never_subscribed"}  # type: ignore[arg-type]
    messages = httpx.get(f"{live_mm.url}/_emulator/messages").json()["messages"]
    assert messages == []


def test_send_with_yes_prints_one_json_line_and_exit_codes(
    folder: Path, live_mm: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(folder, "connect", "messagemedia", "--base-url", live_mm.url) == 0
    capsys.readouterr()
    args = ["send", "--list", "SMS Subscribers", "--text", "Sale", "--yes", "--json"]
    assert cli(folder, *args) == 0
    doc = last_json(capsys)
    assert set(doc) >= {
        "campaign_id", "recipients", "submitted", "skipped", "failed", "requests", "duration_s"
    }  # fmt: skip
    assert doc["submitted"] == doc["recipients"] and doc["failed"] == 0
    assert isinstance(doc["skipped"], dict) and doc["skipped"]
    messages = httpx.get(f"{live_mm.url}/_emulator/messages").json()["messages"]
    assert len(messages) == doc["submitted"]
    # A text nobody can get: nothing to send (4). A list that does not exist: config (2).
    empty = ["send", "--list", "SMS Subscribers", "--text", "{email} {Nope|x}", "--yes"]
    assert cli(folder, *empty) == 2
    assert "is not a contact detail" in capsys.readouterr().err
    assert cli(folder, "send", "--list", "Nope", "--text", "Hi", "--yes") == 2
    httpx.post(f"{live_mm.url}/_emulator/faults", json={"path": "/v1/messages", "kind": "503"})
    assert cli(folder, *args) == 1  # a batch's outcome is unknown
    err = capsys.readouterr().err
    assert "--resume" in err and "unknown" in err


def test_nothing_to_send_exits_4(
    folder: Path, live_mm: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(folder, "connect", "messagemedia", "--base-url", live_mm.url) == 0
    with sqlite3.connect(folder / "engage.sqlite3") as con:
        con.execute("INSERT INTO platform_fields (name, type) VALUES ('Shoe size', 'number')")
    capsys.readouterr()
    args = ["send", "--list", "SMS Subscribers", "--text", "Size {Shoe size}"]
    assert cli(folder, *args, "--yes", "--json") == 4  # nobody has a shoe size
    doc = last_json(capsys)
    assert doc["recipients"] == 0 and doc["skipped"]["missing_field"] > 0  # type: ignore[index]
    assert httpx.get(f"{live_mm.url}/_emulator/messages").json()["messages"] == []


def test_replies_needs_a_connection(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(folder, "replies") == 2
    assert "connect messagemedia" in capsys.readouterr().err
