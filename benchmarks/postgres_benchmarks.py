"""The team database (PostgreSQL) next to SQLite, on a throwaway local server (initdb/pg_ctl,
as the tests start it; fsync off, so write figures are an upper bound). From the repository:

    python benchmarks/postgres_benchmarks.py commit     # commit of 100,000 staged contacts
    python benchmarks/postgres_benchmarks.py contacts   # 1,000,000 rows: open, jump, search
    python benchmarks/postgres_benchmarks.py sync       # full sync of 100,000 profiles, no limits
    python benchmarks/postgres_benchmarks.py floor      # the commit's floor: raw writes, by index

`floor` writes the commit's rows with nothing of ours around them — 100,000 contacts by COPY,
then all of them changed by one UPDATE … FROM, then their memberships — on the migrated
schema, then with indexes or foreign keys set aside, so each one's price shows.

Each prints one line per engine and step. `contacts` times the storage calls the All Contacts
screen makes (the id snapshot, a page of rows, a search); ui_benchmarks.py times the same
screen on SQLite with Qt around it. On PostgreSQL it times them twice: right after the bulk
load, when an index-only walk still looks at every row to know it is visible, and after a
VACUUM (which autovacuum runs on its own a minute or so after a big load).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from engage_desktop.storage.contact_table import ContactQuery, ContactTable  # noqa: E402
from engage_desktop.storage.database import DATABASE_ENV, Database, open_database  # noqa: E402
from tests.pg_server import throwaway_server  # noqa: E402

ENGINES = ("sqlite", "postgresql")


@contextmanager
def engines() -> Iterator[Callable[[str], str | None]]:
    """For each engine name, the URL to open (None: the data folder's SQLite file)."""
    with throwaway_server() as server:
        yield lambda engine: server.fresh_url() if engine == "postgresql" else None


def commit(args: argparse.Namespace) -> None:
    import sync_benchmarks

    with engines() as url_for:
        for engine in ENGINES:
            url = url_for(engine)
            if url:
                os.environ[DATABASE_ENV] = url
            else:
                os.environ.pop(DATABASE_ENV, None)
            print(f"[{engine}]", flush=True)
            sync_benchmarks.commit(args)
        os.environ.pop(DATABASE_ENV, None)


def sync(args: argparse.Namespace) -> None:
    import sync_benchmarks

    with engines() as url_for:
        for engine in ENGINES:
            url = url_for(engine)
            if url:
                os.environ[DATABASE_ENV] = url  # the sync process inherits it
            else:
                os.environ.pop(DATABASE_ENV, None)
            sync_benchmarks.pipeline(args, label=f"[{engine}] full sync")
        os.environ.pop(DATABASE_ENV, None)


_CONTACT_COLUMNS = (
    "id, phone, phone_raw, email, first_name, last_name, fields, sms_status, created_at, updated_at"
)


def floor(args: argparse.Namespace) -> None:
    import psycopg

    n = args.profiles
    rows = [
        (
            i,
            f"+1415{2000000 + i:07d}",
            f"+1415{2000000 + i:07d}",
            f"user{i}@example.com",
            f"First{i}",
            f"Last{i}-1",
            '{"Points": 1.0}',
            "subscribed",
            1.7e9,
            1.7e9,
        )
        for i in range(1, n + 1)
    ]
    with throwaway_server() as server, tempfile.TemporaryDirectory() as d:
        url = server.fresh_url()
        open_database(Path(d), url).close()  # the migrated schema
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET jit = off")
            indexes = conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'contacts'"
                " AND indexdef NOT LIKE 'CREATE UNIQUE%%'"
            ).fetchall()
            keys = conn.execute(
                "SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE contype = 'f' AND conrelid = 'list_members'::regclass"
            ).fetchall()
            for label, keep, with_keys in (
                ("as migrated", lambda name: True, True),
                ("without the trigram index", lambda name: "trgm" not in name, True),
                ("without any secondary index", lambda name: False, True),
                ("as migrated, memberships without foreign keys", lambda name: True, False),
            ):
                _set_aside(conn, indexes, keep, keys, with_keys)
                print(f"[floor] {label}: {_raw_writes(conn, rows)}", flush=True)


def _set_aside(
    conn: Any, indexes: list[Any], keep: Callable[[str], bool], keys: list[Any], with_keys: bool
) -> None:
    conn.execute("TRUNCATE contacts, contact_lists, list_members CASCADE")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    for name, sql in indexes:
        if keep(name):
            conn.execute(sql)
    for name, table, definition in keys:
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")
        if with_keys:
            conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    conn.execute(
        "INSERT INTO contact_lists (id, source, external_id, name) VALUES"
        " (1, 'KLAVIYO', 'L1', 'Klaviyo: List 1')"
    )


def _raw_writes(conn: Any, rows: list[tuple[Any, ...]]) -> str:
    """COPY the contacts, change every last name and updated_at with one UPDATE … FROM,
    put every contact on one list: each in its own transaction, timed."""
    started = time.perf_counter()
    with (
        conn.transaction(),
        conn.cursor().copy(f"COPY contacts ({_CONTACT_COLUMNS}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
    inserted = time.perf_counter() - started
    conn.execute("VACUUM ANALYZE contacts")
    started = time.perf_counter()
    with conn.transaction():
        conn.execute(
            "CREATE TEMP TABLE changed (id BIGINT, last_name TEXT, updated_at DOUBLE PRECISION)"
            " ON COMMIT DROP"
        )
        with conn.cursor().copy("COPY changed FROM STDIN") as copy:
            for row in rows:
                copy.write_row((row[0], f"Last{row[0]}-2", 1.8e9))
        conn.execute(
            "UPDATE contacts c SET last_name = x.last_name, updated_at = x.updated_at"
            " FROM changed x WHERE c.id = x.id"
        )
    updated = time.perf_counter() - started
    started = time.perf_counter()
    with conn.transaction():
        conn.execute("INSERT INTO list_members (list_id, contact_id) SELECT 1, id FROM contacts")
    members = time.perf_counter() - started
    return (
        f"COPY of {len(rows):,} contacts {inserted:.2f}s, all of them changed {updated:.2f}s,"
        f" their memberships {members:.2f}s"
    )


def _fill_postgres(db: Database, n: int, lists: int = 4) -> None:
    """The same rows as tests/ui/bulk.py's fill_contacts, in PostgreSQL's own SQL (one
    INSERT … SELECT over generate_series per table)."""
    now = time.time()
    raw = db.cursor()
    with db.atomic():
        raw.execute_raw(
            "INSERT INTO contacts (id, phone, phone_raw, email, first_name, last_name, fields,"
            " sms_status, created_at, updated_at)"
            " SELECT i, '+1555' || lpad(i::text, 7, '0'), NULL, 'user' || i || '@example.com',"
            " 'First' || (i %% 997), 'Last' || (i %% 1009), '{\"Points\": ' || (i %% 50) || '}',"
            " CASE i %% 10 WHEN 0 THEN 'opted_out' WHEN 1 THEN 'never_subscribed'"
            " ELSE 'subscribed' END, %s, %s - i FROM generate_series(1, %s) AS i",
            (now, now, n),
        )
        raw.execute_raw(
            "INSERT INTO contact_sources (contact_id, source, external_id)"
            " SELECT id, 'KLAVIYO', 'P' || id FROM contacts"
        )
        for k in range(1, lists + 1):
            raw.execute_raw(
                "INSERT INTO contact_lists (id, source, external_id, name) VALUES"
                " (%s, 'KLAVIYO', %s, %s)",
                (k, f"L{k}", f"Klaviyo: List {k}"),
            )
            raw.execute_raw(
                "INSERT INTO list_members (list_id, contact_id)"
                " SELECT %s, id FROM contacts WHERE id %% 3 = 0 AND id %% %s = 0",
                (k, k),
            )
    raw.execute_raw("ANALYZE")


def contacts(args: argparse.Namespace) -> None:
    from tests.ui.bulk import fill_contacts

    with engines() as url_for:
        for engine in ENGINES:
            with tempfile.TemporaryDirectory() as d:
                url = url_for(engine)
                db = open_database(Path(d), url)
                started = time.perf_counter()
                (_fill_postgres if url else fill_contacts)(db, args.rows)
                print(f"[{engine}] {args.rows:,} contacts written in {_s(started)}", flush=True)
                _table_figures(engine, db)
                if url:  # what autovacuum does a minute after a bulk load: index-only walks
                    db.cursor().execute_raw("VACUUM contacts")  # need no longer look at rows
                    print(f"[{engine}] after VACUUM:", flush=True)
                    _table_figures(engine, db)
                db.close()


def _table_figures(engine: str, db: Database) -> None:
    def timed(label: str, action: Callable[[], object]) -> object:
        best = float("inf")
        result: object = None
        for _ in range(3):  # a fresh table each time: no snapshot kept between runs
            started = time.perf_counter()
            result = action()
            best = min(best, time.perf_counter() - started)
        print(f"[{engine}] {label}: {best * 1000:.0f} ms (best of 3)", flush=True)
        return result

    def page(ids: list[int]) -> Callable[[], object]:
        return lambda: ContactTable(db).rows(ids)

    for sort in ("name", "updated"):  # what the screen paints before the whole order
        timed(
            f"first page sorted by {sort}: count + 200 ids",
            lambda s=sort: ContactTable(db).first_page(ContactQuery(sort=s), 200),
        )
    ids = timed("open: id snapshot sorted by name", lambda: ContactTable(db).ids(ContactQuery()))
    assert hasattr(ids, "__len__")
    all_ids = list(ids)  # type: ignore[call-overload]
    timed("first page of 60 rows", page(all_ids[:60]))
    timed("jump: last page of 60 rows", page(all_ids[-60:]))
    for sort in ("updated", "phone", "email"):
        timed(f"sort by {sort}", lambda s=sort: ContactTable(db).ids(ContactQuery(sort=s)))
    for term in ("Last17", "First9 Last1", "user4242@", "555 012 3456", "gmail"):
        found = timed(f"search {term!r}", lambda t=term: ContactTable(db).ids(ContactQuery(t)))
        print(f"[{engine}]   {len(found):,} found")  # type: ignore[arg-type]


def _s(started: float) -> str:
    return f"{time.perf_counter() - started:.1f} s"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("what", choices=["commit", "contacts", "sync", "floor"])
    p.add_argument("--profiles", type=int, default=100_000)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--lists", default="all")
    args = p.parse_args()
    {"commit": commit, "contacts": contacts, "sync": sync, "floor": floor}[args.what](args)


if __name__ == "__main__":
    main()
