"""The contacts search on the team database asks the one trigram index migration V9 made:
the expression the search writes is the index's, so PostgreSQL can use it."""

from __future__ import annotations

from pathlib import Path

from engage_desktop.storage.contact_table import ContactQuery, ContactTable
from engage_desktop.storage.database import open_database
from engage_desktop.storage.dialect import search_words


def test_the_search_expression_is_the_trigram_index_and_finds_what_the_columns_hold(
    tmp_path: Path, pg_url: str
) -> None:
    db = open_database(tmp_path, pg_url)
    names = db.execute_sql(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'contacts' AND indexname LIKE '%trgm'"
    ).fetchall()
    assert names == [("contacts_words_trgm",)]
    with db.atomic():
        db.cursor().executemany(
            "INSERT INTO contacts (phone, first_name, last_name, email, created_at, updated_at,"
            " sms_status) VALUES (?, ?, ?, ?, 0, 0, 'subscribed')",
            [
                ("+14155550101", "Ann", "Lee", "zed@example.com"),
                ("+14155550102", "Bo", None, "ann.b@example.com"),
                ("+14155550103", None, "Annick", None),
                ("+14155550104", "Lee", "Ann", "x@y.z"),
            ],
        )
    db.cursor().execute_raw("SET enable_seqscan = off")  # a tiny table: make the choice show
    plan = "\n".join(
        r[0]
        for r in db.cursor()
        .execute_raw(
            f"EXPLAIN SELECT id FROM contacts c WHERE {search_words('c.')} ILIKE %s", ("%ann%",)
        )
        .fetchall()
    )
    assert "contacts_words_trgm" in plan
    table = ContactTable(db)

    def found(text: str) -> set[str]:
        ids = list(table.ids(ContactQuery(text=text)))
        return {r.phone[-1] for r in table.rows(ids).values()}

    assert found("ann") == {"1", "3", "4"}  # names only while a name matches
    assert found("ann lee") == {"1", "4"}  # every word, in any column
    assert found("annlee") == set()  # a word never matches across two columns
    assert found("ann.b@") == {"2"}
