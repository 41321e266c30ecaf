"""Many contacts fast, straight in SQL: for the million-row model tests and benchmarks."""

from __future__ import annotations

import time

from engage_desktop.storage.database import Database


def fill_contacts(db: Database, n: int, lists: int = 4) -> None:
    """`n` contacts with names, phones, emails and a KLAVIYO source; every 3rd on a list."""
    now = time.time()
    with db.atomic():
        db.execute_sql(
            "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)"
            " INSERT INTO contacts (id, phone, phone_raw, email, first_name, last_name, fields,"
            " sms_status, created_at, updated_at)"
            " SELECT i, '+1555' || printf('%07d', i), NULL, 'user' || i || '@example.com',"
            " 'First' || (i % 997), 'Last' || (i % 1009), '{\"Points\": ' || (i % 50) || '}',"
            " CASE i % 10 WHEN 0 THEN 'opted_out' WHEN 1 THEN 'never_subscribed'"
            " ELSE 'subscribed' END, ?, ? - i FROM seq",
            (n, now, now),
        )
        db.execute_sql(
            "INSERT INTO contact_sources (contact_id, source, external_id)"
            " SELECT id, 'KLAVIYO', 'P' || id FROM contacts"
        )
        for k in range(1, lists + 1):
            db.execute_sql(
                "INSERT INTO contact_lists (id, source, external_id, name, member_count)"
                " VALUES (?, 'KLAVIYO', ?, ?, NULL)",
                (k, f"L{k}", f"Klaviyo: List {k}"),
            )
            db.execute_sql(
                "INSERT INTO list_members (list_id, contact_id)"
                " SELECT ?, id FROM contacts WHERE id % 3 = 0 AND id % ? = 0",
                (k, k),
            )
