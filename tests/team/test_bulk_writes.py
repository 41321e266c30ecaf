"""Many rows in a few round trips on the team database: a plain INSERT goes as COPY, a plain
UPDATE of many rows as COPY into a temporary table and one UPDATE … FROM — with the same
result as a statement per row, whatever the values hold."""

from __future__ import annotations

from pathlib import Path

from engage_desktop.storage import postgres
from engage_desktop.storage.database import Database, open_database

ODD = ["tab\there", "new\nline", "back\\slash", "quote'\"", "émoji 🙂", "", None, "\\N", "a,b"]


def test_many_rows_are_written_as_one_statement_per_row_would(tmp_path: Path, pg_url: str) -> None:
    db = open_database(tmp_path, pg_url)
    rows = [(i, f"+1415555{i:04d}", ODD[i % len(ODD)], 1.5 * i, i % 2 == 0) for i in range(1, 201)]
    with db.atomic():
        db.cursor().executemany(
            "INSERT INTO contacts (id, phone, first_name, created_at, updated_at, sms_status)"
            " VALUES (?, ?, ?, ?, ?, 'subscribed')",
            rows,
        )
    stored = db.execute_sql(
        "SELECT id, phone, first_name, created_at, updated_at FROM contacts ORDER BY id"
    ).fetchall()
    assert stored == [(i, p, f, c, float(b)) for i, p, f, c, b in rows]  # booleans as 1/0
    # The next contact without an id comes after those (the counter moved past them).
    db.execute_sql(
        "INSERT INTO contacts (phone, created_at, updated_at, sms_status)"
        " VALUES ('+14155559999', 0, 0, 'subscribed')"
    )
    assert db.execute_sql("SELECT max(id) FROM contacts").fetchone() == (201,)

    updates = [(ODD[(i + 3) % len(ODD)], 7.0, i) for i in range(1, 201)]
    with db.atomic():
        db.cursor().executemany(
            "UPDATE contacts SET last_name = ?, updated_at = ? WHERE id = ?", updates
        )
    got = dict(db.execute_sql("SELECT id, last_name FROM contacts WHERE id <= 200").fetchall())
    assert got == {i: name for name, _, i in updates}
    assert not db.execute_sql(  # the temporary table went with the transaction's end
        "SELECT 1 FROM pg_tables WHERE tablename = 'many_rows'"
    ).fetchall()


def _with_contacts(db: Database, n: int) -> Database:
    """Contacts 1 to `n`, numbered +1415555nnnn, in one transaction."""
    with db.atomic():
        db.cursor().executemany(
            "INSERT INTO contacts (id, phone, created_at, updated_at, sms_status)"
            " VALUES (?, ?, 0, 0, 'subscribed')",
            [(i, f"+1415555{i:04d}") for i in range(1, n + 1)],
        )
    return db


def test_updates_that_one_update_from_could_not_keep_apart_go_one_by_one(
    tmp_path: Path, pg_url: str
) -> None:
    db = _with_contacts(open_database(tmp_path, pg_url), 100)
    # A key twice: a statement per row applies both, in order (the last one wins).
    twice = [(f"First{i}", i % 50 + 1) for i in range(100)]
    with db.atomic():
        db.cursor().executemany("UPDATE contacts SET first_name = ? WHERE id = ?", twice)
    got = dict(db.execute_sql("SELECT id, first_name FROM contacts WHERE id <= 50").fetchall())
    assert got == {i % 50 + 1: f"First{i}" for i in range(50, 100)}
    # A column both set and matched: as statements too.
    moves = [(f"+1999{i:07d}", f"+1415555{i:04d}") for i in range(1, 101)]
    with db.atomic():
        db.cursor().executemany("UPDATE contacts SET phone = ? WHERE phone = ?", moves)
    assert db.execute_sql("SELECT count(*) FROM contacts WHERE phone LIKE '+1999%'").fetchone() == (
        100,
    )
    assert postgres.COPY_MIN <= 100  # (these went the bulk way's checks, not under its size)


def test_long_in_lists_read_as_arrays_find_what_the_lists_found(
    tmp_path: Path, pg_url: str
) -> None:
    db = _with_contacts(open_database(tmp_path, pg_url), 300)
    ids = [*range(2, 300, 2), 5000]  # 150 ids, one stored nowhere
    phones = [f"+1415555{i:04d}" for i in range(1, 121)] + [None]  # a NULL among them
    marks = lambda n: ",".join("?" * n)  # noqa: E731

    def found(sql: str, params: list[object]) -> list[int]:
        return [r[0] for r in db.execute_sql(sql, params).fetchall()]

    assert found(
        f"SELECT id FROM contacts WHERE id IN ({marks(len(ids))}) AND id > ? ORDER BY id",
        [*ids, 100],
    ) == list(range(102, 300, 2))
    assert found(
        f"SELECT id FROM contacts WHERE sms_status = ? AND phone IN ({marks(len(phones))})"
        " ORDER BY id",
        ["subscribed", *phones],
    ) == list(range(1, 121))
    assert (
        found(  # NOT IN a list holding NULL is never true, as in SQLite
            f"SELECT id FROM contacts WHERE phone NOT IN ({marks(len(phones))})", phones
        )
        == []
    )
    assert found(
        f"SELECT id FROM contacts WHERE id NOT IN ({marks(len(ids))}) AND id <= 10 ORDER BY id",
        ids,
    ) == [1, 3, 5, 7, 9]


def test_a_statement_with_a_long_list_is_never_prepared(tmp_path: Path, pg_url: str) -> None:
    """psycopg prepares a statement it sees often; PostgreSQL's generic plan of `= ANY($1)`
    then compares each row with every element instead of hashing the array."""
    db = open_database(tmp_path, pg_url)
    ids = list(range(1, 201))
    marks = ",".join("?" * len(ids))
    for _ in range(10):
        db.execute_sql(f"SELECT id FROM contacts WHERE id IN ({marks})", ids).fetchall()
        db.execute_sql("SELECT id FROM contacts WHERE id = ?", (1,)).fetchall()
    prepared = [r[0] for r in db.execute_sql("SELECT statement FROM pg_prepared_statements")]
    assert not [s for s in prepared if "ANY" in s]
    assert [s for s in prepared if "WHERE id = $1" in s]  # a short statement still is
