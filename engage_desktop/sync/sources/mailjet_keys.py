"""Where the Mailjet key pair comes from, and where it is kept.

In order: the environment (`MAILJET_API_KEY` and `MAILJET_API_SECRET`, for servers and
scripts), a pair typed in this session (kept in memory when there is no keyring), the system
keyring under its own service (`engage-desktop-mailjet`), one entry holding both. Keyring
calls block: never call these on the GUI thread.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

from engage_desktop.core.secrets import ApiKey
from engage_desktop.storage.keystore import KeyStore

KEY_ENV = "MAILJET_API_KEY"
SECRET_ENV = "MAILJET_API_SECRET"
SERVICE = "engage-desktop-mailjet"


@dataclass(frozen=True)
class MailjetKeys:
    """An API key and its secret key; neither shows in a repr."""

    key: ApiKey
    secret: ApiKey

    @property
    def ref(self) -> str:
        """A fingerprint of the API key (not reversible): the same key, the same account."""
        return hashlib.sha256(self.key.reveal().encode()).hexdigest()[:16]

    @property
    def hint(self) -> str:
        """The key as shown to people: its last four characters."""
        return f"…{self.key.reveal()[-4:]}"


class MailjetCredentials:
    """Finds, keeps and forgets the Mailjet key pair."""

    def __init__(self, store: KeyStore | None = None, env: Mapping[str, str] | None = None) -> None:
        self.store = store or KeyStore(service=SERVICE)
        self._env = os.environ if env is None else env
        self._session: dict[str, MailjetKeys] = {}

    def environment_keys(self) -> MailjetKeys | None:
        key = self._env.get(KEY_ENV, "").strip()
        secret = self._env.get(SECRET_ENV, "").strip()
        return MailjetKeys(ApiKey(key), ApiKey(secret)) if key and secret else None

    def keys_for(self, ref: str) -> tuple[MailjetKeys, str] | None:
        """The pair to use for the account with this fingerprint, and where it came from
        (environment, session, keyring); None when there is none."""
        typed = self.environment_keys()
        if typed is not None:
            return typed, "environment"
        if ref in self._session:
            return self._session[ref], "session"
        stored = self.store.load(ref)
        if stored is None:
            return None
        key, _, secret = stored.reveal().partition("\n")
        if not key or not secret:
            return None
        return MailjetKeys(ApiKey(key), ApiKey(secret)), "keyring"

    def keep(self, keys: MailjetKeys) -> str:
        """Keep a verified pair: in the keyring when there is one, else for this session."""
        if self.store.save(keys.ref, ApiKey(f"{keys.key.reveal()}\n{keys.secret.reveal()}")):
            self._session.pop(keys.ref, None)
            return "keyring"
        self._session[keys.ref] = keys
        return "session"

    def forget(self, ref: str) -> None:
        self._session.pop(ref, None)
        self.store.delete(ref)

    def keyring_usable(self) -> bool:
        return self.store.usable()
