"""The command line: the emulator's exact interface, verify-key, logging without secrets."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from engage_desktop.cli import main
from engage_desktop.emulator import DEMO_API_KEY
from engage_desktop.emulator.server import EmulatorThread


def test_emulator_command_prints_url_serves_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engage_desktop",
            "--data-dir",
            str(tmp_path),
            "emulator",
            "--port",
            "0",
            "--profiles",
            "50",
            "--lists",
            "2",
            "--api-key",
            "pk_cli_test_key_0000000000000",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("Klaviyo emulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        headers = {
            "Authorization": "Klaviyo-API-Key pk_cli_test_key_0000000000000",
            "revision": "2026-07-15",
        }
        r = httpx.get(f"{url}/api/lists", headers=headers)
        assert r.status_code == 200 and len(r.json()["data"]) == 2
        assert (
            httpx.get(
                f"{url}/api/lists",
                headers={**headers, "Authorization": f"Klaviyo-API-Key {DEMO_API_KEY}"},
            ).status_code
            == 401
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def test_verify_key_prints_account_and_missing_scopes(
    live: EmulatorThread,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KLAVIYO_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    code = main(["--data-dir", str(tmp_path), "verify-key", "--base-url", live.url, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["ok"] and out["account_name"] and out["missing_scopes"] == []
    code = main(["verify-key", "--base-url", live.url, "--data-dir", str(tmp_path)])
    text = capsys.readouterr().out
    assert code == 0 and f"works: Klaviyo account {out['account_name']}" in text
    assert "every scope Engage Desktop needs" in text


def test_verify_key_with_a_bad_key_fails_without_echoing_it(
    live: EmulatorThread,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "pk_this_key_is_wrong_and_secret_9876"
    monkeypatch.setenv("KLAVIYO_API_KEY", secret)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    code = main(["--data-dir", str(tmp_path), "-v", "verify-key", "--base-url", live.url])
    captured = capsys.readouterr()
    assert code == 2  # no retry can fix a refused key
    assert "did not accept this API key" in captured.err
    assert secret not in captured.out + captured.err
    logs = "".join(p.read_text() for p in tmp_path.rglob("*.log"))
    assert secret not in logs


def test_no_key_is_a_configuration_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KLAVIYO_API_KEY", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert main(["--data-dir", str(tmp_path), "verify-key"]) == 2


def test_data_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engage_desktop.config import data_dir

    monkeypatch.setenv("ENGAGE_DESKTOP_DATA_DIR", str(tmp_path / "from-env"))
    assert data_dir() == tmp_path / "from-env" and (tmp_path / "from-env").is_dir()
    assert data_dir(str(tmp_path / "explicit")) == tmp_path / "explicit"
