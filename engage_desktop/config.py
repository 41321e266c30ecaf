"""Where things live (platformdirs) and how we log (a rotating file; keys never written)."""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat
import sys
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from engage_desktop.core.secrets import redact

APP_NAME = "engage-desktop"
DATA_DIR_ENV = "ENGAGE_DESKTOP_DATA_DIR"
# Which database: sqlite:///path, or the team database postgresql://user@host:port/db
# (default: the SQLite file in the data folder). `--database URL` sets it for the process and
# the sync workers it starts.
DATABASE_ENV = "ENGAGE_DESKTOP_DATABASE"


def is_server_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("postgresql://", "postgres://"))


def chosen_url(url: str | None = None) -> str | None:
    """The database asked for: `url`, else $ENGAGE_DESKTOP_DATABASE; None for the default."""
    chosen = url or os.environ.get(DATABASE_ENV) or None
    if chosen and not (is_server_url(chosen) or chosen.startswith("sqlite:///")):
        raise ValueError(
            f"not a database URL: {redact(chosen)!r} "
            "(sqlite:///path or postgresql://user@host:port/db)"
        )
    return chosen


SAVED_DATABASE = "database-url"  # in the data folder: what Settings → Database chose


def saved_database_url(folder: Path) -> str | None:
    """The database chosen in Settings → Database on this machine (read at start-up)."""
    try:
        text = (folder / SAVED_DATABASE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def save_database_url(folder: Path, url: str | None) -> None:
    """Remember the database for the next start (None: back to the local file)."""
    target = folder / SAVED_DATABASE
    if url:
        target.write_text(url + "\n", encoding="utf-8")
        os.chmod(target, 0o600)
    else:
        target.unlink(missing_ok=True)


def use_saved_database(folder: Path) -> None:
    """At start-up: --database and $ENGAGE_DESKTOP_DATABASE first, else the saved choice."""
    if not os.environ.get(DATABASE_ENV):
        saved = saved_database_url(folder)
        if saved:
            os.environ[DATABASE_ENV] = saved


def describe_url(url: str) -> str:
    """A database URL as shown to people and logs: never a password."""
    parts = urlsplit(url)
    if not is_server_url(url):
        return url
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"postgresql://{user}{host}{port}{parts.path}"


def private_files() -> None:
    """Everything this process creates (the database, logs, exports) is its owner's only:
    contacts are personal data."""
    os.umask(0o077)


def _owner_only(path: Path) -> Path:
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, 0o700 if path.is_dir() else 0o600)
    return path


def data_dir(explicit: str | None = None) -> Path:
    """--data-dir, else $ENGAGE_DESKTOP_DATA_DIR, else the platform's user data dir; created
    readable by its owner only (the default one is made so if it was not; a folder you chose
    keeps its mode, the files in it are owner-only)."""
    chosen = explicit or os.environ.get(DATA_DIR_ENV)
    path = Path(chosen).expanduser() if chosen else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path if chosen else _owner_only(path)


def resources_dir() -> Path:
    """Icons and the stylesheet: beside the package in a checkout, inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def log_dir() -> Path:
    path = Path(platformdirs.user_log_dir(APP_NAME))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return _owner_only(path)


class RedactingFormatter(logging.Formatter):
    """Masks anything shaped like a private API key, in messages and tracebacks alike."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(verbose: int, directory: Path | None = None) -> Path:
    """Log to a rotating file (always) and to stderr with -v; returns the file's path."""
    target = (directory or log_dir()) / "engage-desktop.log"
    if not target.exists():
        target.touch(mode=0o600)
    _owner_only(target)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    for handler in list(root.handlers):
        if getattr(handler, "_engage", False):
            root.removeHandler(handler)
    fmt = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(
        target, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(fmt)
    file_handler._engage = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    if verbose:
        stream = logging.StreamHandler()
        stream.setFormatter(fmt)
        stream._engage = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return target
