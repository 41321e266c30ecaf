"""The team database: PostgreSQL through peewee and psycopg 3, speaking our SQLite SQL.

Every statement a repository runs passes through `dialect.to_postgres` (one place), so the
repositories keep one code path. Two SQLite behaviours the repositories rely on are kept:

- **Writers queue** (SQLite's `BEGIN IMMEDIATE`): a write transaction starts by updating the
  one row of `engage_changes`, which holds that row's lock until COMMIT — a second writer
  waits for the first, whichever desktop it runs on. The same update is the **change
  counter** other desktops poll to refresh their screens (`changes_since`): it becomes
  visible exactly when the transaction's data does. Read transactions (`atomic("DEFERRED")`)
  take no lock and bump nothing; they are REPEATABLE READ, so that every statement in one sees
  the same committed state, as in SQLite (PostgreSQL's default gives each statement its own).
- **A waiting write gives up** after `lock_timeout` (the busy timeout), with an error that
  `database.is_locked` recognises; `patiently` lengthens it for an opt-out.

Connections carry `application_name` (user@host, shown to whoever finds the run lock taken),
TCP keepalives (a dead peer is noticed in about a minute) and a connect timeout. A lost
connection fails the statement (and its transaction, rolled back by the server); the next use
reconnects.
"""

from __future__ import annotations

import getpass
import logging
import re
import socket
from collections.abc import Callable
from typing import Any

import peewee
import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import TransactionStatus

from engage_desktop.storage.dialect import long_lists, to_postgres

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10
KEEPALIVE = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
_WRITES = ("INSERT", "UPDATE", "DELETE")
# INSERT … VALUES (%s, …) with nothing after but ON CONFLICT … DO NOTHING: safe to send as
# one multi-row VALUES (DO UPDATE is not: a key twice in one statement is an error there).
_PLAIN_VALUES = re.compile(
    r"(\s*INSERT\s+INTO\s+\w+\s*\([^)]*\)\s*VALUES\s*)(\((?:\s*%s\s*,)*\s*%s\s*\))"
    r"(\s+ON\s+CONFLICT\s*(?:\([^)]*\))?\s*DO\s+NOTHING)?\s*;?\s*$",
    re.I,
)
_INSERT_IDS = re.compile(r"\s*INSERT\s+INTO\s+(\w+)\s*\(([^)]*)\)", re.I)
# UPDATE t SET a = %s, … WHERE k = %s AND …: many rows go as one COPY and one UPDATE … FROM.
_PLAIN_UPDATE = re.compile(
    r"\s*UPDATE\s+(\w+)\s+SET\s+((?:\w+\s*=\s*%s\s*,\s*)*\w+\s*=\s*%s)"
    r"\s+WHERE\s+((?:\w+\s*=\s*%s\s+AND\s+)*\w+\s*=\s*%s)\s*;?\s*$",
    re.I,
)
COPY_MIN = 50  # rows: fewer go as statements (a temporary table costs a few round trips)


def who_am_i() -> str:
    """user@host: how this desktop is named to the server (and to the other desktops)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    return f"engage-desktop {user}@{socket.gethostname()}"[:63]


def connect_params(url: str) -> dict[str, Any]:
    """The libpq keywords every connection of ours uses, for this URL."""
    return {
        "conninfo": url,
        "application_name": who_am_i(),
        "connect_timeout": CONNECT_TIMEOUT_S,
        **KEEPALIVE,
    }


class _BoolAsInt(Dumper):
    """Our booleans live in INTEGER columns (as in SQLite): send True/False as 1/0."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class _NumericAsNumber(Loader):
    """sum() of integers is `numeric` in PostgreSQL: read it as int (or float), as SQLite gives."""

    def load(self, data: Any) -> Any:
        text = bytes(data).decode()
        if text in ("NaN", "Infinity", "-Infinity"):
            return float(text)
        number = float(text)
        return int(number) if "." not in text and "e" not in text.lower() else number


class _TranslatingCursor:
    """A psycopg cursor that takes our SQLite SQL; `lastrowid` from `RETURNING id`."""

    def __init__(self, db: TeamDatabase, cursor: psycopg.Cursor[Any]) -> None:
        self._db = db
        self._cursor = cursor
        self.lastrowid: int | None = None

    def execute(self, sql: str, params: Any = ()) -> _TranslatingCursor:
        listed, params = long_lists(sql, tuple(params or ()))
        # A statement with an array is never prepared: psycopg prepares one that comes often,
        # and PostgreSQL's generic plan of `= ANY($1)` compares every row with every element
        # (74 ms a lookup of 5,000 numbers among 30,000 opt-outs) where a plan made for the
        # array at hand hashes it (5 ms).
        prepare = False if listed != sql else None
        statement = to_postgres(listed)
        head = statement.lstrip()[:6].upper()
        wants_id = head == "INSERT" and " RETURNING " not in statement.upper()
        if wants_id and self._db.has_id(statement):
            statement = f"{statement.rstrip().rstrip(';')} RETURNING id"
        else:
            wants_id = False
        if head in _WRITES and self._db.in_transaction() is False:
            with self._db.atomic():
                self._cursor.execute(statement, params, prepare=prepare)
        else:
            self._cursor.execute(statement, params, prepare=prepare)
        if wants_id:
            row = self._cursor.fetchone()
            self.lastrowid = None if row is None else int(row[0])
        elif head == "INSERT":
            self._db.after_explicit_ids(statement)
        return self

    def execute_raw(self, sql: str, params: Any = ()) -> _TranslatingCursor:
        """PostgreSQL's own SQL (`%s` placeholders), not translated."""
        self._cursor.execute(sql, tuple(params))
        return self

    def executemany(self, sql: str, seq: Any) -> _TranslatingCursor:
        statement = to_postgres(sql)
        rows = [tuple(p) for p in seq]
        if not rows:
            return self
        if self._db.in_transaction() is False:
            with self._db.atomic():
                self._many(statement, rows)
        else:
            self._many(statement, rows)
        return self

    def _many(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        """Many rows in a few round trips, not one statement each: a plain INSERT as COPY
        (and with ON CONFLICT … DO NOTHING as multi-row VALUES, up to 1,000 rows a
        statement), a plain UPDATE of many rows as COPY into a temporary table and one
        UPDATE … FROM; the rest as psycopg's executemany (pipelined)."""
        plain = _PLAIN_VALUES.match(statement)
        update = _PLAIN_UPDATE.match(statement)
        if plain is not None and len(rows) >= 2 and not plain.group(3):
            match = _INSERT_IDS.match(statement)
            assert match is not None
            self._copy(f"{match.group(1)} ({match.group(2)})", rows)
        elif plain is not None and len(rows) >= 2:
            head, values, tail = plain.group(1), plain.group(2), plain.group(3)
            size = max(1, min(1000, 60000 // max(1, values.count("%s"))))
            for k in range(0, len(rows), size):
                chunk = rows[k : k + size]
                sql = f"{head}{', '.join([values] * len(chunk))}{tail}"
                self._cursor.execute(sql, [v for row in chunk for v in row])
        elif update is None or len(rows) < COPY_MIN or not self._update_from(update, rows):
            self._cursor.executemany(statement, rows)
        self._db.after_explicit_ids(statement)

    def _copy(self, target: str, rows: list[tuple[Any, ...]]) -> None:
        with self._cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _update_from(self, update: re.Match[str], rows: list[tuple[Any, ...]]) -> bool:
        """The rows' UPDATEs as one: False (nothing done) when a column is both set and
        matched, or a key comes twice (one UPDATE … FROM would apply either row)."""
        table = update.group(1)
        sets = [part.split("=")[0].strip() for part in update.group(2).split(",")]
        keys = [
            part.split("=")[0].strip()
            for part in re.split(r"\s+AND\s+", update.group(3), flags=re.I)
        ]
        if set(sets) & set(keys) or len(set(sets + keys)) != len(sets + keys):
            return False
        if len({row[len(sets) :] for row in rows}) != len(rows):
            return False
        columns = ", ".join(sets + keys)
        self._cursor.execute("DROP TABLE IF EXISTS pg_temp.many_rows")
        self._cursor.execute(
            f"CREATE TEMP TABLE many_rows ON COMMIT DROP AS SELECT {columns} FROM {table} LIMIT 0"
        )
        self._copy(f"pg_temp.many_rows ({columns})", rows)
        self._cursor.execute(
            f"UPDATE {table} AS t SET {', '.join(f'{c} = r.{c}' for c in sets)}"
            f" FROM pg_temp.many_rows AS r WHERE {' AND '.join(f't.{c} = r.{c}' for c in keys)}"
        )
        self._cursor.execute("DROP TABLE pg_temp.many_rows")
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __iter__(self) -> Any:
        return iter(self._cursor)


class TeamDatabase(peewee.PostgresqlDatabase):
    """PostgreSQL that runs the repositories' SQLite SQL (see the module's docstring)."""

    engine = "postgresql"

    def __init__(self, url: str, lock_timeout_s: float, **kwargs: Any) -> None:
        self.url = url
        self.lock_timeout_s = lock_timeout_s
        self._has_id: dict[str, bool] = {}
        super().__init__(url, prefer_psycopg3=True, **connect_params(url), **kwargs)

    def _connect(self) -> Any:
        conn = super()._connect()  # type: ignore[misc]
        conn.adapters.register_dumper(bool, _BoolAsInt)
        conn.adapters.register_loader("numeric", _NumericAsNumber)
        conn.execute(f"SET lock_timeout = '{int(self.lock_timeout_s * 1000)}ms'")
        # Our statements are short and many: compiling one with LLVM (when the planner's
        # estimate is big, as it is with statistics older than a commit's rows) took 117 ms
        # of a 139 ms chunk read of the commit.
        conn.execute("SET jit = off")
        return conn

    def cursor(self, named_cursor: Any = None) -> _TranslatingCursor:
        self._reconnect_if_lost()
        return _TranslatingCursor(self, super().cursor())

    def _reconnect_if_lost(self) -> None:
        """The server went away (restarted, the network dropped) since the last statement:
        open a new connection — unless a transaction was open on the lost one, which must
        fail as a whole (the server rolled it back)."""
        if self.is_closed() or self.transaction_depth() > 0:
            return
        conn = self._state.conn  # type: ignore[attr-defined]
        if conn.closed or getattr(conn, "broken", False):
            log.info("team database connection lost: reconnecting")
            self.close()
            self.connect()

    def in_transaction(self) -> bool:
        return bool(self.transaction_depth() > 0)

    def begin(  # type: ignore[override]
        self, lock_type: str | None = None, isolation_level: Any = None
    ) -> None:
        """BEGIN; a read transaction (DEFERRED) reads one snapshot; a write transaction
        (anything else) queues behind other writers and bumps the change counter."""
        self._reconnect_if_lost()
        with peewee.__exception_wrapper__:  # type: ignore[attr-defined]
            raw = super().cursor()
            if lock_type == "DEFERRED":
                raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                return
            raw.execute("BEGIN")
            try:
                raw.execute("UPDATE engage_changes SET n = n + 1, at = extract(epoch from now())")
            except BaseException:
                if not raw.connection.closed:
                    raw.execute("ROLLBACK")  # the transaction never started, for peewee
                raise

    def after_explicit_ids(self, insert: str) -> None:
        """SQLite gives a row without an id max(id) + 1, whoever chose the ids before it; an
        identity column counts on its own. So after rows were inserted with ids of their own
        (the merge numbers new contacts itself), move the counter past them."""
        match = _INSERT_IDS.match(insert)
        if match is None or "id" not in {c.strip() for c in match.group(2).split(",")}:
            return
        table = match.group(1)
        if not self.has_id(insert):
            return
        super().cursor().execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), m) FROM"
            f" (SELECT max(id) AS m FROM {table}) AS top WHERE m IS NOT NULL"
        )

    def set_lock_timeout(self, seconds: float) -> None:
        super().cursor().execute(f"SET lock_timeout = '{int(seconds * 1000)}ms'")

    def has_id(self, insert: str) -> bool:
        """Whether the INSERT's table has an `id` column (so RETURNING id gives lastrowid)."""
        words = insert.split()
        table = words[2].split("(")[0] if len(words) > 2 else ""
        if table not in self._has_id:
            row = (
                super()
                .cursor()
                .execute(
                    "SELECT count(*) FROM information_schema.columns WHERE column_name = 'id'"
                    " AND table_name = %s AND table_schema = current_schema()",
                    (table,),
                )
                .fetchone()
            )
            if not row or not row[0]:
                return False  # not cached: the table may not exist yet
            self._has_id[table] = True
        return self._has_id[table]

    def connection_lost(self) -> bool:
        """After an error: the connection is gone (the server stopped, the network went)."""
        if self.is_closed():
            return False
        conn = self._state.conn  # type: ignore[attr-defined]
        return bool(conn.closed or conn.pgconn.transaction_status == TransactionStatus.UNKNOWN)


SETUP_LOCK = (0x454E, 0)  # ('EN', 0): setting up or upgrading the schema, one desktop at a time


def open_team_database(
    url: str, lock_timeout_s: float, then: Callable[[TeamDatabase], object] | None = None
) -> TeamDatabase:
    """Connect to the team database and run `then` (the migrations) on it. Two desktops
    opening a new database at once would both create its tables, and PostgreSQL's
    `CREATE TABLE IF NOT EXISTS` is not safe against that race (a unique violation in its
    catalog): the set-up runs under a session advisory lock, so the second waits."""
    db = TeamDatabase(url, lock_timeout_s)
    db.connect(reuse_if_open=True)
    raw = db.cursor()
    raw.execute_raw("SELECT pg_advisory_lock(%s, %s)", SETUP_LOCK)
    try:
        # Without a write transaction (those need the row): opening must not queue behind a
        # sync's commit on another desktop.
        raw.execute_raw(
            "CREATE TABLE IF NOT EXISTS engage_changes (id BIGINT PRIMARY KEY CHECK (id = 1),"
            " n BIGINT NOT NULL, at DOUBLE PRECISION)"
        )
        if raw.execute_raw("SELECT count(*) FROM engage_changes").fetchone()[0] == 0:
            raw.execute_raw("INSERT INTO engage_changes VALUES (1, 0, 0) ON CONFLICT DO NOTHING")
        if then is not None:
            then(db)
    finally:
        if not db.connection_lost():
            db.cursor().execute_raw("SELECT pg_advisory_unlock(%s, %s)", SETUP_LOCK)
    return db
