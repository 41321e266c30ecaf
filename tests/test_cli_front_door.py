"""The command line as a tool people script: errors that say what to do, exit codes from one
table, connect that keeps what it does not name, no keyring pretended."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engage_desktop.actions import EXIT_TABLE
from engage_desktop.cli import build_parser, main
from engage_desktop.emulator import DEMO_API_KEY, Settings
from engage_desktop.emulator.server import EmulatorThread


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorThread]:
    with EmulatorThread(Settings(profiles=400, lists=3, rate_limits=False)) as thread:
        yield thread


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KLAVIYO_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("ENGAGE_DESKTOP_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def cli(
    *args: str, env: dict[str, str] | None = None, **kw: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engage_desktop", *args],
        capture_output=True,
        text=True,
        env=env if env and "PATH" in env else {**os.environ, **(env or {})},  # whole, or extra
        timeout=120,
        **kw,  # type: ignore[arg-type]
    )


def python_c(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def without(*names: str) -> dict[str, str]:
    """This process's environment without these variables."""
    return {k: v for k, v in os.environ.items() if k not in names}


def test_every_option_has_help_and_help_lists_the_exit_codes() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name, sub in [("", parser), *subparsers.choices.items()]:  # type: ignore[attr-defined]
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"
    text = parser.format_help()
    for code, what in EXIT_TABLE:
        assert f"{int(code)}  {what}" in text


def test_an_unwritable_data_folder_is_one_line_and_exit_2(tmp_path: Path, engine: str) -> None:
    """With a team database too, a folder that cannot be made is the folder's problem."""
    if os.geteuid() == 0:  # root writes anywhere: a folder inside a file cannot be made
        (tmp_path / "a-file").write_text("x")
        folder = tmp_path / "a-file" / "data"
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    done = cli("--data-dir", str(folder), "status", env={"XDG_STATE_HOME": str(tmp_path)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: cannot use the data folder")


def test_an_unopenable_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "engage.sqlite3").mkdir()  # a folder where the database file should be
    done = cli("--data-dir", str(tmp_path), "contacts", env={"XDG_STATE_HOME": str(tmp_path)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "--data-dir" in done.stderr


def test_contacts_into_head_ends_quietly(env: Path, emu: EmulatorThread) -> None:
    extra = {"ENGAGE_DESKTOP_DATA_DIR": str(env), "KLAVIYO_API_KEY": DEMO_API_KEY}
    assert (
        cli(
            "connect",
            "klaviyo",
            "--base-url",
            emu.url,
            "--consent",
            "inferred",
            "--lists",
            "all",
            env=extra,
        ).returncode
        == 0
    )
    assert cli("sync", env=extra).returncode == 0
    shell = f"{sys.executable} -m engage_desktop contacts | head -n 2"
    done = subprocess.run(
        shell, shell=True, capture_output=True, text=True, env={**os.environ, **extra}, timeout=60
    )
    assert len(done.stdout.splitlines()) == 2
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_data_dir_works_after_the_command_too(env: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert main(["status", "--data-dir", str(other)]) == 0
    assert (other / "engage.sqlite3").exists()


def test_errors_no_retry_can_fix_fail_at_once(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    assert (
        main(
            [
                "connect",
                "klaviyo",
                "--base-url",
                "not-a-url",
                "--consent",
                "inferred",
                "--lists",
                "all",
            ]
        )
        == 2
    )
    assert "not a web address" in capsys.readouterr().err
    assert (
        main(
            [
                "connect",
                "klaviyo",
                "--base-url",
                "https://x.example",
                "--consent",
                "inferred",
                "--lists",
                "all",
                "--default-region",
                "ZZ",
            ]
        )
        == 2
    )
    assert "'ZZ' is not a country code" in capsys.readouterr().err
    assert time.monotonic() - started < 3
    assert not (env / "engage.sqlite3").exists(), "a failed connect left a database behind"


def test_an_unreachable_host_is_retried_briefly_and_says_so(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    code = main(
        [
            "connect",
            "klaviyo",
            "--base-url",
            "http://127.0.0.1:9",
            "--consent",
            "inferred",
            "--lists",
            "all",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and time.monotonic() - started < 30
    assert "trying again in" in err and "attempt 2 of 4" in err
    assert "Could not reach Klaviyo at http://127.0.0.1:9" in err


def test_reconnecting_keeps_what_it_does_not_name_and_widening_needs_yes(
    env: Path, emu: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    lists = sorted(emu.emulator.store.lists)[:2]
    mapping = "Shoe size=properties.Shoe Size:number"
    assert (
        main(
            [
                "connect",
                "klaviyo",
                "--base-url",
                emu.url,
                "--consent",
                "explicit",
                "--lists",
                ",".join(lists),
                "--map",
                mapping,
                "--default-region",
                "GB",
            ]
        )
        == 0
    )
    assert main(["sync", "--json"]) == 0
    capsys.readouterr()
    main(["status", "--json"])
    before = json.loads(capsys.readouterr().out)
    # Again, naming nothing: the same connection, nothing reset.
    assert main(["connect", "klaviyo"]) == 0
    capsys.readouterr()
    main(["status", "--json"])
    after = json.loads(capsys.readouterr().out)
    assert after["account"] == before["account"] and after["last_run"] == before["last_run"]
    assert main(["sync", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["full"] is False  # watermarks kept
    # Widening consent says how many first, and needs --yes.
    assert main(["connect", "klaviyo", "--consent", "inferred"]) == 2
    err = capsys.readouterr().err
    assert "who never subscribed will be able to receive messages" in err and "--yes" in err
    never = (
        sqlite3.connect(env / "engage.sqlite3")
        .execute(
            "SELECT count(*) FROM contacts"
            " WHERE sms_status = 'never_subscribed' AND phone IS NOT NULL"
        )
        .fetchone()[0]
    )
    assert never > 0 and f"error: {never:,} contacts who never subscribed" in err
    assert main(["connect", "klaviyo", "--consent", "inferred", "--yes"]) == 0
    capsys.readouterr()
    main(["status", "--json"])
    now = json.loads(capsys.readouterr().out)
    assert now["account"]["consent_mode"] == "inferred" and now["account"]["lists"] == lists
    assert now["contacts"]["never_subscribed"] == 0  # applied at once, not at the next sync
    # Narrowing needs no yes.
    assert main(["connect", "klaviyo", "--consent", "explicit"]) == 0


def test_contacts_filters_name_what_exists(
    env: Path, emu: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            ["connect", "klaviyo", "--base-url", emu.url, "--consent", "inferred", "--lists", "all"]
        )
        == 0
    )
    assert main(["sync"]) == 0
    capsys.readouterr()
    assert main(["contacts", "--list", "No such list"]) == 2
    err = capsys.readouterr().err
    assert "No list called 'No such list'. Lists: Klaviyo: " in err
    assert main(["contacts", "--source", "BOGUS"]) == 2
    assert "Sources: KLAVIYO (Klaviyo)" in capsys.readouterr().err


def test_sync_json_prints_one_line_on_every_exit(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--json"]) == 2
    doc = json.loads(capsys.readouterr().out.strip())
    assert doc["status"] == "refused" and doc["kind"] == "config" and doc["error"]


def test_status_says_why_the_last_run_failed_and_when_the_next_try_is(
    env: Path, emu: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    import httpx

    assert (
        main(
            ["connect", "klaviyo", "--base-url", emu.url, "--consent", "inferred", "--lists", "all"]
        )
        == 0
    )
    httpx.post(
        f"{emu.url}/_emulator/faults", json={"path": "/api/lists", "kind": "500", "count": 40}
    ).raise_for_status()
    os.environ["ENGAGE_DESKTOP_MAX_ATTEMPTS"] = "2"
    try:
        assert main(["sync"]) == 1
    finally:
        del os.environ["ENGAGE_DESKTOP_MAX_ATTEMPTS"]
        httpx.post(f"{emu.url}/_emulator/reset").raise_for_status()
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "failed (manual, full)" in out and "Klaviyo is having trouble (HTTP 500)" in out
    assert "a retry after the failed sync" in out


def test_without_a_keyring_connect_says_the_key_cannot_be_stored(
    env: Path, emu: EmulatorThread, tmp_path: Path
) -> None:
    """keyring chooses its backend itself here (no override): there is none on this machine,
    even with every module of the app imported."""
    probe = python_c(
        "import keyring, engage_desktop.app, engage_desktop.storage.memory_keyring;"
        " print(type(keyring.get_keyring()).__module__)",
        without("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND"),
    )
    if probe.returncode != 0 or "fail" not in probe.stdout:
        pytest.skip(f"this machine has a keyring: {probe.stdout.strip()}")
    extra = without("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")
    extra["ENGAGE_DESKTOP_DATA_DIR"] = str(env)
    done = cli(
        "connect",
        "klaviyo",
        "--base-url",
        emu.url,
        "--consent",
        "inferred",
        "--lists",
        "all",
        env=extra,
    )
    assert done.returncode == 0 and "no usable keyring" in done.stderr
    assert "KLAVIYO_API_KEY" in done.stderr
    status = cli("status", "--json", env={**extra, "KLAVIYO_API_KEY": ""})
    account = json.loads(status.stdout)["account"]
    assert account["key_in_keyring"] is False and account["key"] is None
    assert "missing" in cli("status", env={**extra, "KLAVIYO_API_KEY": ""}).stdout


def test_optout_returns_once_recorded_when_klaviyo_is_slow(
    env: Path, emu: EmulatorThread, capsys: pytest.CaptureFixture[str]
) -> None:
    import httpx

    assert (
        main(
            ["connect", "klaviyo", "--base-url", emu.url, "--consent", "inferred", "--lists", "all"]
        )
        == 0
    )
    httpx.post(
        f"{emu.url}/_emulator/faults",
        json={
            "path": "/api/profile-subscription-bulk-delete-jobs",
            "kind": "stall",
            "count": 2,
            "delay_s": 12,
        },
    ).raise_for_status()
    capsys.readouterr()
    started = time.monotonic()
    try:
        assert main(["optout", "+1 415 555 0177"]) == 0
    finally:
        httpx.post(f"{emu.url}/_emulator/reset").raise_for_status()
    assert time.monotonic() - started < 15
    captured = capsys.readouterr()
    assert "opted-out number" in captured.out and "the opt-out is queued" in captured.err
    main(["status", "--json"])
    assert json.loads(capsys.readouterr().out)["pending_opt_outs"] == 1
