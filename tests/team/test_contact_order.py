"""The contacts table's whole order on the team database: every indexed sort walks its index
without sorting again, and a big view read in two halves (two connections) reads one
committed state."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from engage_desktop.storage import contact_table
from engage_desktop.storage.contact_table import ContactQuery, ContactTable
from engage_desktop.storage.database import open_database
from engage_desktop.storage.dialect import to_postgres


def filled(tmp_path: Path, url: str, n: int = 300) -> ContactTable:
    """n contacts with ties and NULLs in every sorted column (updated_at = id % 17)."""
    db = open_database(tmp_path, url)
    with db.atomic():
        db.cursor().executemany(
            "INSERT INTO contacts (id, phone, email, first_name, last_name, sms_status,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'subscribed', 0, ?)",
            [
                (
                    i,
                    None if i % 7 == 0 else f"+1415555{(i * 37) % 1000:04d}",
                    None if i % 5 == 0 else f"u{i % 40}@x.io",
                    None if i % 11 == 0 else f"F{i % 9}",
                    None if i % 3 == 0 else f"L{i % 13}",
                    i % 17,
                )
                for i in range(1, n + 1)
            ],
        )
    return ContactTable(db)


def test_every_sort_but_status_walks_its_index_without_sorting_again(
    tmp_path: Path, pg_url: str
) -> None:
    """A term `id NULLS FIRST` after an index that ends in a plain `id` made PostgreSQL sort
    a million index rows again (an incremental sort, 350 ms of the sort by Updated)."""
    t = filled(tmp_path, pg_url)
    raw = t.db.cursor()
    raw.execute_raw("SET enable_sort = off")  # a tiny table: make the index's order show
    raw.execute_raw("SET enable_incremental_sort = off")
    for sort, order in contact_table.ORDERS.items():
        pieces = [(part, by, ()) for part, by in order.walks()]
        if order.cut is not None:
            first, second = order.halves(8 if sort == "updated" else "M")
            pieces += first + second
        for part, by, extra in pieces:
            where = f" WHERE {part}" if part else ""
            statement = to_postgres(f"EXPLAIN SELECT c.id FROM contacts c{where} ORDER BY {by}")
            plan = "\n".join(r[0] for r in raw.execute_raw(statement, extra).fetchall())
            assert ("Sort" in plan) == (sort == "status"), (sort, part, plan)


def test_the_halves_read_one_committed_state_while_a_sync_commits(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other half's transaction begins after this one's: a commit in between (contact 17
    moved from the first half to the second) must not be seen by it, or 17 would be read
    twice."""
    t = filled(tmp_path, pg_url)
    monkeypatch.setattr(contact_table, "BIG_VIEW", 0)
    monkeypatch.setattr(t, "_median", lambda column: 8)  # updated_at 0-7, then 8-16
    read = contact_table._OtherHalf.read

    def commit_then_read(half: contact_table._OtherHalf, *args: object) -> None:
        with psycopg.connect(pg_url, autocommit=True) as other:
            other.execute("UPDATE contacts SET updated_at = 99 WHERE id = 17")  # was 0
        committed.append(17)
        read(half, *args)  # type: ignore[arg-type]

    committed: list[int] = []
    monkeypatch.setattr(contact_table._OtherHalf, "read", commit_then_read)
    found = list(t.ids(ContactQuery(sort="updated")))
    assert committed == [17]
    assert sorted(found) == list(range(1, 301))  # each once
    assert found.index(17) < found.index(8)  # where it was when the read began
    monkeypatch.setattr(contact_table._OtherHalf, "read", read)
    assert list(t.ids(ContactQuery(sort="updated")))[-1] == 17  # the next read sees it
