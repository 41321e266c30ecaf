"""The team database from the front doors (command line, Settings → Database): test a server,
move this machine's data to it, and tell a window when anyone changed the data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engage_desktop.actions.outcomes import ActionError, Exit
from engage_desktop.config import describe_url as describe
from engage_desktop.config import save_database_url
from engage_desktop.storage.changes import ChangeToken, change_token
from engage_desktop.storage.database import (
    DB_NAME,
    Database,
    DatabaseError,
    is_server_url,
    open_database,
)
from engage_desktop.storage.move import MoveMismatch, MoveRefused, MoveReport, move_to_server
from engage_desktop.storage.postgres import TeamDatabase
from engage_desktop.storage.server_check import ServerCheck, check_server

__all__ = ["ChangeToken", "Changes", "MoveReport", "ServerCheck"]


def try_connection(url: str) -> ServerCheck:
    """Whether this URL reaches a PostgreSQL server we can use (nothing is written)."""
    if not is_server_url(url):
        return ServerCheck(
            url, False, "Not a team database address: postgresql://user@host:port/db"
        )
    return check_server(url)


def move_local_data(
    data_folder: Path, url: str, on_progress: Callable[[str, int, int], None] | None = None
) -> MoveReport:
    """Copy this machine's SQLite data to the team database at `url` (resumable; verified by
    counts; the file is only read). Blocking: run it off the GUI thread."""
    if not is_server_url(url):
        raise ActionError(
            "Not a team database address: postgresql://user@host:port/db", Exit.CONFIG
        )
    source = data_folder / DB_NAME if data_folder.is_dir() else data_folder
    if not source.exists():
        raise ActionError(f"No local database to move: {source} does not exist.", Exit.CONFIG)
    open_database(source, f"sqlite:///{source}").close()  # brought to the latest schema first
    try:
        target = open_database(source, url)
    except DatabaseError as exc:
        raise ActionError(f"Cannot use {describe(url)}: {exc}", Exit.CONFIG) from exc
    try:
        assert isinstance(target, TeamDatabase)
        return move_to_server(source, target, on_progress)
    except (MoveRefused, MoveMismatch) as exc:
        raise ActionError(str(exc), Exit.CONFIG) from exc
    except DatabaseError as exc:
        raise ActionError(
            f"The move stopped ({exc}); run it again to go on where it stopped.", Exit.FAILED
        ) from exc
    finally:
        target.close()


@dataclass(frozen=True)
class DatabaseInUse:
    """Which database this app runs on, for Settings → Database."""

    shown: str  # the URL or the file, never a password
    team: bool  # the team database (PostgreSQL)
    local_folder: Path | None  # the data folder of the SQLite file in use (None: on a server)


def database_in_use(db: Database) -> DatabaseInUse:
    if isinstance(db, TeamDatabase):
        return DatabaseInUse(describe(db.url), True, None)
    path = Path(str(db.database))
    return DatabaseInUse(str(path), False, path.parent)


def choose_database(folder: Path, url: str | None) -> None:
    """Use this database from the next start on (None: this computer's file again)."""
    if url and not is_server_url(url):
        raise ActionError("Not a team database address: postgresql://user@host:port/db")
    save_database_url(folder, url)


@dataclass(frozen=True)
class Changes:
    """The answer to `changes_since`: whether anything changed, and the token to ask with next."""

    changed: bool
    token: ChangeToken


def changes_since(db: Database, token: ChangeToken | None) -> Changes:
    """Has anyone (another desktop, the command line, a sync) changed the data since `token`?
    Cheap (one row read): a window may ask every second or two."""
    now = change_token(db)
    return Changes(token is not None and now != token, now)
