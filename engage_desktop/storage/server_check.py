"""Asking a team database server whether we can use it, without changing anything on it."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from engage_desktop.config import describe_url as describe
from engage_desktop.storage.postgres import connect_params


@dataclass(frozen=True)
class ServerCheck:
    """What `database test` reports about a server."""

    url: str  # as shown: never a password
    ok: bool
    message: str
    server_version: str = ""
    schema_version: int | None = None  # None: no Engage Desktop data there yet
    contacts: int | None = None


def check_server(url: str) -> ServerCheck:
    """Connect, say which server it is and whether it already holds Engage Desktop data."""
    shown = describe(url)
    try:
        with psycopg.connect(**connect_params(url), autocommit=True) as conn:
            version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
            has_schema = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
            if not has_schema or not has_schema[0]:
                return ServerCheck(shown, True, f"Connected: PostgreSQL {version}, empty.", version)
            (schema,) = conn.execute("SELECT max(version) FROM schema_version").fetchone() or (0,)
            (contacts,) = conn.execute("SELECT count(*) FROM contacts").fetchone() or (0,)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return ServerCheck(shown, False, f"Cannot connect to {shown}: {reason}")
    return ServerCheck(
        shown,
        True,
        f"Connected: PostgreSQL {version}; Engage Desktop data (schema {schema}), "
        f"{contacts} contact{'s' if contacts != 1 else ''}.",
        version,
        int(schema or 0),
        int(contacts),
    )
