"""The contacts table's queries: search rules, filters, order, pages, recipients."""

from __future__ import annotations

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
