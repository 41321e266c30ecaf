"""Another desktop's change is seen by a cheap poll (the change counter on the team
database; SQLite's data_version beside it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engage_desktop.actions.database import changes_since
from engage_desktop.storage.contact_table import ContactTable
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import open_database


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_change_on_another_desktop_is_seen_by_the_next_poll(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url") if engine == "postgresql" else None
    mine, theirs = open_database(tmp_path, url), open_database(tmp_path, url)
    token = changes_since(mine, None).token
    assert not changes_since(mine, token).changed
    seen = ContactTable(mine).data_version()  # what the status presenter polls
    with mine.atomic("DEFERRED"):  # reading in a transaction changes nothing
        mine.execute_sql("SELECT count(*) FROM contacts")
    assert not changes_since(mine, token).changed
    ContactRepo(theirs).add_opted_out("+14155550123", "STOP", 1.0)  # their opt-out
    polled = changes_since(mine, token)
    assert polled.changed and ContactTable(mine).data_version() != seen
    assert not changes_since(mine, polled.token).changed  # nothing since
    theirs.execute_sql("INSERT INTO app_settings (key, value) VALUES ('k', '1')")  # a setting
    assert changes_since(mine, polled.token).changed
