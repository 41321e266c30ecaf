"""The SMS gateway's settings (one row), and where its key and secret are kept: the keyring.

The row says whether the key and secret are in the keyring, never what they are.
`GatewayKeyStore` keeps both under the service `engage-desktop-messagemedia`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

import peewee

from engage_desktop.core.messaging import DEFAULT_OPT_OUT_KEYWORDS, GatewayCredentials
from engage_desktop.core.secrets import ApiKey
from engage_desktop.storage.keystore import KeyStore

SERVICE = "engage-desktop-messagemedia"
MESSAGEMEDIA = "MESSAGEMEDIA"
_KEY, _SECRET = "api_key", "api_secret"


@dataclass(frozen=True)
class GatewaySettings:
    """How to reach the gateway and what to do with what it says."""

    base_url: str
    source_number: str | None = None
    key_in_keyring: bool = False
    key_hint: str | None = None
    opt_out_keywords: tuple[str, ...] = DEFAULT_OPT_OUT_KEYWORDS
    blacklist_opt_outs: bool = True  # add local opt-outs to the gateway's blacklist
    provider: str = MESSAGEMEDIA
    connected_at: float = 0.0
    verified_at: float | None = None
    last_poll_at: float | None = None
    last_poll_error: str | None = None
    last_reconcile_at: float | None = None


_COLUMNS = tuple(f.name for f in fields(GatewaySettings))
_SETTABLE = frozenset(_COLUMNS) - {"provider"}


def _to_db(name: str, value: Any) -> Any:
    if name == "opt_out_keywords":
        return json.dumps(list(value))
    if name in ("key_in_keyring", "blacklist_opt_outs"):
        return int(value)
    return value


def _from_db(name: str, value: Any) -> Any:
    if name == "opt_out_keywords":
        try:
            words = json.loads(value)
        except ValueError:
            return DEFAULT_OPT_OUT_KEYWORDS
        return tuple(str(w) for w in words) if isinstance(words, list) else DEFAULT_OPT_OUT_KEYWORDS
    if name in ("key_in_keyring", "blacklist_opt_outs"):
        return bool(value)
    return value


class GatewayRepo:
    """Reads and writes the single gateway row."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def get(self) -> GatewaySettings | None:
        cursor = self.db.execute_sql(f"SELECT {', '.join(_COLUMNS)} FROM gateway")
        row = cursor.fetchone()
        if row is None:
            return None
        return GatewaySettings(**{n: _from_db(n, v) for n, v in zip(_COLUMNS, row, strict=True)})

    def save(self, settings: GatewaySettings) -> GatewaySettings:
        """Create or replace the gateway's settings."""
        with self.db.atomic():
            self.db.execute_sql("DELETE FROM gateway")
            self.db.execute_sql(
                f"INSERT INTO gateway (id, {', '.join(_COLUMNS)})"
                f" VALUES (1, {', '.join('?' * len(_COLUMNS))})",
                [_to_db(n, getattr(settings, n)) for n in _COLUMNS],
            )
        return settings

    def change(self, **values: Any) -> GatewaySettings:
        """Change only these settings; the rest stays. LookupError when not connected."""
        unknown = set(values) - _SETTABLE
        if unknown:
            raise ValueError(f"not gateway settings: {', '.join(sorted(unknown))}")
        with self.db.atomic():
            if values:
                cur = self.db.execute_sql(
                    f"UPDATE gateway SET {', '.join(f'{n} = ?' for n in values)}",
                    [_to_db(n, v) for n, v in values.items()],
                )
                if not cur.rowcount:
                    raise LookupError("the SMS gateway is not connected")
            new = self.get()
        if new is None:
            raise LookupError("the SMS gateway is not connected")
        return new

    def record_poll(self, now: float, error: str | None, reconciled: bool) -> None:
        """After a polling round: when, how it ended, and whether the blacklist was compared."""
        self.db.execute_sql(
            "UPDATE gateway SET last_poll_at = ?, last_poll_error = ?,"
            " last_reconcile_at = CASE WHEN ? = 1 THEN ? ELSE last_reconcile_at END",
            (now, error, reconciled, now),
        )

    def delete(self) -> None:
        self.db.execute_sql("DELETE FROM gateway")


class GatewayKeyStore:
    """The gateway's key and secret in the system keyring (never a file we write)."""

    def __init__(self, store: KeyStore | None = None) -> None:
        self.store = store or KeyStore(service=SERVICE)

    def usable(self) -> bool:
        return self.store.usable()

    def save(self, credentials: GatewayCredentials) -> bool:
        """Both or neither: a key kept without its secret would be of no use."""
        if not self.store.save(_KEY, ApiKey(credentials.key)):
            return False
        if not self.store.save(_SECRET, ApiKey(credentials.reveal_secret())):
            self.store.delete(_KEY)
            return False
        return True

    def load(self) -> GatewayCredentials | None:
        key, secret = self.store.load(_KEY), self.store.load(_SECRET)
        if key is None or secret is None:
            return None
        return GatewayCredentials(key.reveal(), secret.reveal())

    def delete(self) -> None:
        self.store.delete(_KEY)
        self.store.delete(_SECRET)
