"""Secondary indexes set aside while a large batch goes into tables that were empty.

Inserting a million rows keeps every index up to date row by row, each a random walk
through its b-tree; building the index afterwards sorts once. Measured on a million new
contacts: the inserts take half as long, and building the six indexes again about 3 s.
The indexes are dropped and built again inside the caller's transaction, so a cancelled
or failed import leaves them exactly as they were (SQLite's DDL is transactional).
Indexes that carry a constraint (a UNIQUE column, a primary key) are not touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import peewee

# Secondary indexes of the tables a first import or sync fills (see migrations.py).
BULK_INDEXES = (
    "contacts_email",
    "contacts_name",
    "contacts_updated",
    "contact_sources_contact",
    "list_members_contact",
    "record_members_list",
)

SORT_THREADS = 2


@contextmanager
def indexes_deferred(db: peewee.Database, names: tuple[str, ...] = BULK_INDEXES) -> Iterator[None]:
    """Drop these indexes for the duration of the block and build them again at its end.
    Call it inside the transaction that does the writing."""
    if not isinstance(db, peewee.SqliteDatabase):
        yield  # other engines: left as they are
        return
    marks = ",".join("?" * len(names))
    found = db.execute_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ({marks})"
        " AND sql IS NOT NULL",
        names,
    ).fetchall()
    for name, _ in found:
        db.execute_sql(f'DROP INDEX "{name}"')
    yield
    # SQLite sorts an index's entries with helper threads when allowed: the six indexes of a
    # million contacts build in ~2.0 s instead of ~2.8 s. Only here: smaller sorts, such as
    # the contacts table's by SMS status, were slower with them (410 -> 500 ms).
    db.execute_sql(f"PRAGMA threads = {SORT_THREADS}")
    try:
        for _, sql in found:
            db.execute_sql(sql)
    finally:
        db.execute_sql("PRAGMA threads = 0")
