"""The contacts table's queries: search rules, filters, order, pages, recipients."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from engage_desktop.storage import contact_table
from engage_desktop.storage.contact_table import ContactQuery, ContactTable
from engage_desktop.storage.database import open_database


def table(tmp_path: Path) -> ContactTable:
    db = open_database(tmp_path)
    rows = [
        (1, "+14155550101", "ann@gmail.com", "Ann", "Lee"),
        (2, "+14155550102", "bob_smith@work.io", "Bob", "Smith"),
        (3, None, "c%x@work.io", "Cé", "Smith"),
        (4, "+442071234567", None, "Dee", "100% Real"),
    ]
    for i, phone, email, first, last in rows:
        db.execute_sql(
            "INSERT INTO contacts (id, phone, email, first_name, last_name, sms_status,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'subscribed', 0, ?)",
            (i, phone, email, first, last, i),
        )
    return ContactTable(db)


def ids(t: ContactTable, **q: object) -> list[int]:
    return list(t.ids(ContactQuery(**q)))  # type: ignore[arg-type]


def test_search_rules(tmp_path: Path) -> None:
    t = table(tmp_path)
    assert ids(t) == [4, 1, 2, 3]  # by last name, first name, email
    assert ids(t, text="smith") == [2, 3]  # case-insensitive, any part
    assert ids(t, text="smith bob") == [2]  # every word, any order
    assert ids(t, text="gmail") == [1]  # no name matches: emails are searched
    assert ids(t, text="work.io") == [2, 3]  # looks like an email: emails too
    assert ids(t, text="(415) 555-0102") == [2]  # a phone, written any way
    assert ids(t, text="2071234567") == [4]
    assert ids(t, text="100%") == [4]  # % and _ are literal
    assert ids(t, text="b_s") == [2]
    assert ids(t, text="nobody") == []
    assert ids(t, sort="phone") == [3, 1, 2, 4]  # NULL first
    assert ids(t, sort="updated", descending=True) == [4, 3, 2, 1]
    assert ids(t, text="smith", sort="email") == [2, 3]


def test_rows_and_detail(tmp_path: Path) -> None:
    t = table(tmp_path)
    rows = t.rows([2, 3, 99])
    assert set(rows) == {2, 3} and rows[2].name == "Bob Smith"
    detail = t.detail(3)
    assert detail is not None and detail.row.phone is None and detail.fields == {}
    assert t.detail(99) is None
    r = t.recipients(None)
    assert (r.eligible, r.no_valid_phone, r.total) == (3, 1, 4)


def test_a_word_found_only_in_emails_is_ordered_and_filtered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = table(tmp_path)
    assert ids(t, text="work") == [2, 3]  # in no name: the emails, in name order
    assert ids(t, text="work", sort="updated", descending=True) == [3, 2]
    t.db.execute_sql(
        "INSERT INTO contact_lists (id, source, external_id, name) VALUES (1, 'KLAVIYO', 'L', 'L')"
    )
    t.db.execute_sql("INSERT INTO list_members (list_id, contact_id) VALUES (1, 3)")
    assert ids(t, text="work", list_id=1) == [3]
    monkeypatch.setattr(contact_table, "SORT_IN_MEMORY_MAX", 0)  # too many to sort in memory
    assert ids(t, text="work") == [2, 3]


def test_by_name_last_name_first_then_first_names_then_nameless(tmp_path: Path) -> None:
    t = table(tmp_path)
    for i, first, last, email in (
        (5, "Zoe", None, "z@x.io"),
        (6, None, None, "b@x.io"),
        (7, "Abe", None, None),
        (8, None, "Lee", None),
        (9, None, None, "a@x.io"),
    ):
        t.db.execute_sql(
            "INSERT INTO contacts (id, phone, email, first_name, last_name, sms_status,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'subscribed', 0, 0)",
            (i, f"+1415555020{i}", email, first, last),
        )
    # "100% Real", "Lee" (no first name sorts first in its last name), "Lee, Ann", "Smith,
    # Bob", "Smith, Cé"; then first names only; then no name at all, by email.
    expected = [4, 8, 1, 2, 3, 7, 5, 9, 6]
    assert ids(t) == expected  # index walks, part after part
    assert ids(t, descending=True) == expected[::-1]
    with_phone = [i for i in expected if i != 3]  # a phone search sorts its matches instead
    assert ids(t, text="+1") == with_phone
    assert ids(t, text="@x.io") == [5, 9, 6]  # an email: walks the name index too
    assert ids(t, text="io") == [2, 3, 5, 9, 6]  # in no name: the emails' ids, sorted


@pytest.mark.sqlite_only
def test_snapshots_are_kept_until_the_data_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = table(tmp_path)
    monkeypatch.setattr(contact_table, "CACHE_MIN", 0)
    reads: list[ContactQuery] = []
    read = t._ascending
    monkeypatch.setattr(t, "_ascending", lambda q: reads.append(q) or read(q))
    first = t.ids(ContactQuery(sort="updated"))
    again = t.ids(ContactQuery(sort="updated", descending=True))
    assert list(again) == list(first)[::-1] and len(reads) == 1  # turned around, not read
    first.append(99)  # the caller's copy: what is kept stays as it was
    assert list(t.ids(ContactQuery(sort="updated"))) == [1, 2, 3, 4] and len(reads) == 1
    t.db.execute_sql("UPDATE contacts SET updated_at = 10 WHERE id = 1")  # this connection
    assert list(t.ids(ContactQuery(sort="updated"))) == [2, 3, 4, 1] and len(reads) == 2
    other = sqlite3.connect(tmp_path / "engage.sqlite3")  # another one (a sync)
    with other:
        other.execute("UPDATE contacts SET updated_at = 20 WHERE id = 2")
    other.close()
    assert list(t.ids(ContactQuery(sort="updated"))) == [3, 4, 1, 2] and len(reads) == 3


@pytest.mark.sqlite_only
def test_every_sort_but_status_walks_an_index(tmp_path: Path) -> None:
    """At a million rows a sort of every row costs 0.4-0.7 s; a walk of an index, none."""
    t = table(tmp_path)
    for sort, order in contact_table.ORDERS.items():
        for part, by in order.walks():
            where = f" WHERE {part}" if part else ""
            plan = t.db.execute_sql(
                f"EXPLAIN QUERY PLAN SELECT c.id FROM contacts c{where} ORDER BY {by}"
            ).fetchall()
            sorted_in_temp = any("TEMP B-TREE" in step[-1] for step in plan)
            assert sorted_in_temp == (sort == "status"), (sort, plan)
        if order.cut is None:
            continue
        first, second = order.halves("M")
        for part, by, extra in first + second:  # the two halves walk the same index
            plan = t.db.execute_sql(
                f"EXPLAIN QUERY PLAN SELECT c.id FROM contacts c WHERE {part} ORDER BY {by}",
                extra,
            ).fetchall()
            assert not any("TEMP B-TREE" in step[-1] for step in plan), (sort, part, plan)


def many(tmp_path: Path) -> ContactTable:
    """300 contacts with ties and NULLs in every sorted column."""
    db = open_database(tmp_path)
    for i in range(1, 301):
        db.execute_sql(
            "INSERT INTO contacts (id, phone, email, first_name, last_name, sms_status,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'subscribed', 0, ?)",
            (
                i,
                None if i % 7 == 0 else f"+1415555{(i * 37) % 1000:04d}",
                None if i % 5 == 0 else f"u{i % 40}@x.io",
                None if i % 11 == 0 else f"F{i % 9}",
                None if i % 3 == 0 else f"L{i % 13}",
                i % 17,
            ),
        )
    return ContactTable(db)


def test_a_big_table_read_in_two_halves_is_in_the_same_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = many(tmp_path)
    t.db.execute_sql(
        "INSERT INTO contact_lists (id, source, external_id, name) VALUES (1, 'KLAVIYO', 'L', 'L')"
    )
    t.db.execute_sql("INSERT INTO list_members SELECT 1, id FROM contacts WHERE id % 2 = 0")
    queries = [ContactQuery(sort=s, list_id=x) for s in contact_table.ORDERS for x in (None, 1)]
    monkeypatch.setattr(contact_table, "BIG_VIEW", 10**9)
    whole = [list(t.ids(q)) for q in queries]
    monkeypatch.setattr(contact_table, "BIG_VIEW", 0)
    cuts: list[object] = []
    median = t._median
    monkeypatch.setattr(t, "_median", lambda column: cuts.append(median(column)) or cuts[-1])
    for _ in range(5):  # another random sample each time
        assert [list(t.ids(q)) for q in queries] == whole
    assert len(cuts) == 5 * 8 and None not in cuts  # every indexed sort was cut


@pytest.mark.sqlite_only
def test_halves_read_across_a_commit_are_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync commits after the other core's transaction began: the halves would see two
    states (a contact moved to the other half read by neither), so this connection reads
    both."""
    t = many(tmp_path)
    monkeypatch.setattr(contact_table, "BIG_VIEW", 0)
    monkeypatch.setattr(t, "_median", lambda column: 8)  # updated_at 0-7, then 8-16
    began = threading.Event.set

    def commit_then_set(event: threading.Event) -> None:
        if threading.current_thread().name.startswith("contacts-other-core"):
            other = sqlite3.connect(tmp_path / "engage.sqlite3")
            with other:
                other.execute("UPDATE contacts SET updated_at = 99 WHERE id = 17")  # was 0
            other.close()
        began(event)

    monkeypatch.setattr(threading.Event, "set", commit_then_set)
    found = list(t.ids(ContactQuery(sort="updated")))
    assert len(found) == 300 and found[-1] == 17


def test_a_first_page_starts_the_whole_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = many(tmp_path)
    monkeypatch.setattr(contact_table, "BIG_VIEW", 0)
    for sort in contact_table.ORDERS:
        for descending in (False, True):
            q = ContactQuery(sort=sort, descending=descending)
            first = t.first_page(q, 30)
            assert first is not None and first.total == 300
            assert list(first.ids) == list(t.ids(q))[:30], q
    assert t.first_page(ContactQuery(text="F1"), 30) is None  # a search: no first page
