"""Where an account's API key comes from, and where it is kept.

In order: the environment (`KLAVIYO_API_KEY`, for servers and scripts), a key typed in this
session (kept in memory when there is no keyring), the system keyring. Keyring calls block
(a Secret Service over D-Bus may wait for an unlock prompt): never call these on the GUI
thread.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum

from engage_desktop.core.secrets import ApiKey
from engage_desktop.storage.keystore import KeyStore

KEY_ENV = "KLAVIYO_API_KEY"

NO_KEYRING = (
    "This computer has no usable keyring, so the API key cannot be stored. Unlock or install "
    "one (GNOME Keyring, KWallet, macOS Keychain, Windows Credential Manager) and connect "
    f"again — or, on a server, set {KEY_ENV} for every command."
)


class KeyPlace(StrEnum):
    """Where a key was found or kept."""

    ENVIRONMENT = "environment"
    SESSION = "session"  # typed in this app session; gone when it quits
    KEYRING = "keyring"


class Credentials:
    """Finds, keeps and forgets API keys by account id."""

    def __init__(self, store: KeyStore | None = None, env: Mapping[str, str] | None = None) -> None:
        self.store = store or KeyStore()
        self._env = os.environ if env is None else env
        self._session: dict[str, ApiKey] = {}

    def environment_key(self) -> ApiKey | None:
        typed = self._env.get(KEY_ENV, "").strip()
        return ApiKey(typed) if typed else None

    def key_for(self, account_id: str) -> tuple[ApiKey, KeyPlace] | None:
        """The key to use for this account, and where it came from; None when there is none."""
        typed = self.environment_key()
        if typed is not None:
            return typed, KeyPlace.ENVIRONMENT
        if account_id in self._session:
            return self._session[account_id], KeyPlace.SESSION
        stored = self.store.load(account_id)
        return (stored, KeyPlace.KEYRING) if stored is not None else None

    def keep(self, account_id: str, key: ApiKey) -> KeyPlace:
        """Keep a verified key: in the keyring when there is one, else for this session only
        (the caller says so: NO_KEYRING)."""
        if self.store.save(account_id, key):
            self._session.pop(account_id, None)
            return KeyPlace.KEYRING
        self._session[account_id] = key
        return KeyPlace.SESSION

    def forget(self, account_id: str) -> None:
        self._session.pop(account_id, None)
        self.store.delete(account_id)

    def keyring_usable(self) -> bool:
        return self.store.usable()
