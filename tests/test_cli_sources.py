"""The commands for several sources, end to end: `connect mailjet`, `sync` of every source or
one (`--source`, and `sources` in `--json`), `import`, `sources`, `merge-report`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from engage_desktop.cli import build_parser, main
from engage_desktop.emulator import DEMO_API_KEY
from engage_desktop.emulator import mailjet as mj
from engage_desktop.emulator.server import EmulatorThread


@pytest.fixture(scope="module")
def mailjet() -> Iterator[EmulatorThread]:
    emulator = mj.MailjetEmulator(mj.Settings(contacts=300, lists=3, rate_limit_per_s=0))
    with EmulatorThread(emulator) as thread:
        yield thread


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    import keyring

    from engage_desktop.storage.memory_keyring import MemoryKeyring

    monkeypatch.setenv("KLAVIYO_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("MAILJET_API_KEY", mj.DEMO_API_KEY)
    monkeypatch.setenv("MAILJET_API_SECRET", mj.DEMO_API_SECRET)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        yield tmp_path
    finally:
        keyring.set_keyring(previous)


def run(folder: Path, *args: str) -> int:
    return main(["--data-dir", str(folder), *args])


def last_json(capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_connect_mailjet_sync_both_and_one(
    env: Path,
    mailjet: EmulatorThread,
    live: EmulatorThread,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connect = ["connect", "mailjet", "--base-url", mailjet.url]
    assert run(env, *connect, "--lists", "all") == 2  # the phone property is needed
    assert "--phone-property" in capsys.readouterr().err
    assert run(env, *connect, "--phone-property", "mobile", "--lists", "all") == 2
    assert "no contact property 'mobile'" in capsys.readouterr().err
    assert run(env, *connect, "--phone-property", "phone", "--lists", "all") == 0
    assert "Connected to Mailjet" in capsys.readouterr().out
    url = live.url
    assert (
        run(env, "connect", "klaviyo", "--base-url", url, "--consent", "inferred", "--lists", "all")
        == 0
    )
    assert run(env, "sync", "--json") == 0
    both = last_json(capsys)
    assert both["status"] == "succeeded" and set(both["sources"]) == {"KLAVIYO", "MAILJET"}
    assert (
        both["created"]
        == both["sources"]["KLAVIYO"]["created"] + both["sources"]["MAILJET"]["created"]
    )
    assert run(env, "sync", "--source", "mailjet", "--json") == 0
    only = last_json(capsys)
    assert set(only["sources"]) == {"MAILJET"} and only["created"] == 0
    # Re-running keeps what it does not name, with the keys now from the keyring.
    monkeypatch.delenv("MAILJET_API_KEY")
    monkeypatch.delenv("MAILJET_API_SECRET")
    assert run(env, "connect", "mailjet", "--consent-property", "sms_opt_in") == 0
    out = capsys.readouterr().out
    assert "phones from 'phone'" in out and "(from 'sms_opt_in')" in out
    assert run(env, "sync", "--source", "mailjet", "--json") == 0
    assert last_json(capsys)["status"] == "succeeded"
    assert run(env, "contacts", "--source", "MAILJET", "--json") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and all("groups" in r and "MAILJET" in r["sources"] for r in rows)
    assert run(env, "sources", "--json") == 0
    doc = last_json(capsys)
    assert (
        doc["priority"] == ["KLAVIYO", "MAILJET", "CSV"]
        and doc["mailjet"]["phone_property"] == "phone"
    )
    assert run(env, "sources", "--priority", "mailjet,klaviyo") == 0
    assert "Mailjet, Klaviyo, CSV\n" in capsys.readouterr().out


def test_import_dry_run_then_import_then_its_merge_report(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = env / "fair.csv"
    csv_file.write_text(
        "Phone,Name,Opted out\n+14155550101,Ann Lee,\n(415) 555-0102,Bob,yes\nnope,X,\n"
    )
    assert run(env, "import", str(csv_file), "--group", "Fair", "--dry-run", "--json") == 0
    dry = last_json(capsys)
    assert dry["dry_run"] and (dry["new"], dry["invalid"], dry["opted_out"]) == (2, 1, 1)
    assert dry["problem_rows"][0]["line"] == 4
    assert run(env, "contacts", "--json") == 0 and capsys.readouterr().out == ""
    assert run(env, "import", str(csv_file), "--group", "Fair") == 0
    out, err = capsys.readouterr()
    assert "Imported into 'CSV: Fair' (import #1): 2 new" in out and "line 4, Phone: 'nope'" in err
    assert run(env, "contacts", "--list", "Fair", "--json") == 0
    people = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(p["phone"] for p in people) == ["+14155550101", "+14155550102"]
    assert all(p["groups"] == ["CSV: Fair"] for p in people)
    assert run(env, "merge-report", "--import-id", "1", "--export", str(env / "r.csv")) == 0
    assert (env / "r.csv").read_text(encoding="utf-8-sig").startswith("kind,contact_id")
    capsys.readouterr()
    # A run or an import that does not exist is said, not shown as an empty report.
    assert run(env, "merge-report", "--import-id", "9") == 2
    assert "There is no import #9" in capsys.readouterr().err
    assert run(env, "merge-report", "--run", "7", "--export", str(env / "x.csv")) == 2
    assert "There is no sync run #7" in capsys.readouterr().err and not (env / "x.csv").exists()


def test_every_new_option_says_what_it_does() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    commands = sub.choices  # type: ignore[attr-defined]
    connect = next(a for a in commands["connect"]._actions if a.dest == "provider")
    parsers = [
        connect.choices["mailjet"],
        commands["import"],
        commands["sources"],
        commands["merge-report"],
        commands["sync"],
    ]  # type: ignore[attr-defined]
    for p in parsers:
        for action in p._actions:
            assert action.help, f"{p.prog} {action.option_strings or action.dest} has no help"
