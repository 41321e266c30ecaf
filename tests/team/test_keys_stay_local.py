"""Secrets stay in each machine's keyring: the team database never holds a key, and a desktop
that joins without the key is told it is missing and where to enter it."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from engage_desktop.cli import main
from engage_desktop.emulator import DEMO_API_KEY
from engage_desktop.emulator.server import EmulatorThread


def test_the_key_never_reaches_the_team_database(
    pg_url: str,
    tmp_path: Path,
    live: EmulatorThread,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    monkeypatch.setenv("KLAVIYO_API_KEY", DEMO_API_KEY)
    desk_a = ["--database", pg_url, "--data-dir", str(tmp_path / "a")]
    connect = [*desk_a, "connect", "klaviyo", "--base-url", live.url, "--consent", "inferred"]
    assert main([*connect, "--lists", "all"]) == 0
    assert main([*desk_a, "sync"]) == 0
    with psycopg.connect(pg_url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND data_type = 'text'"
        ).fetchall()
        for table, column in columns:
            hits = conn.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}" LIKE %s',  # type: ignore[arg-type]
                (f"%{DEMO_API_KEY[-12:]}%",),
            ).fetchone()
            assert hits == (0,), f"the key is in {table}.{column}"
    monkeypatch.delenv("KLAVIYO_API_KEY")  # desktop B: same database, no key here
    capsys.readouterr()
    desk_b = ["--database", pg_url, "--data-dir", str(tmp_path / "b")]
    assert main([*desk_b, "status"]) == 0
    out = capsys.readouterr().out
    assert "API key: missing — connect again to enter it." in out
    assert "contacts" in out.lower()  # it reads the team's data all the same
