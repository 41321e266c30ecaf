"""The API key in the operating system's keyring, never in a file we write."""

from __future__ import annotations

import contextlib
import logging

import keyring
import keyring.errors
from keyring.backends import fail

from engage_desktop.core.secrets import ApiKey

log = logging.getLogger(__name__)
SERVICE = "engage-desktop"


class KeyStore:
    """Keys by account id in the OS keyring (Secret Service, Keychain, Credential Manager)."""

    def usable(self) -> bool:
        """False where no keyring exists (a server, a bare container): say so, don't fall back."""
        backend = keyring.get_keyring()
        return not isinstance(backend, fail.Keyring) and getattr(backend, "priority", 1) > 0

    def save(self, account_id: str, key: ApiKey) -> bool:
        if not self.usable():
            return False
        try:
            keyring.set_password(SERVICE, account_id, key.reveal())
        except keyring.errors.KeyringError as exc:
            log.warning("could not store the API key in the keyring: %s", type(exc).__name__)
            return False
        return True

    def load(self, account_id: str) -> ApiKey | None:
        if not self.usable():
            return None
        try:
            value = keyring.get_password(SERVICE, account_id)
        except keyring.errors.KeyringError:
            return None
        return ApiKey(value) if value else None

    def delete(self, account_id: str) -> None:
        if not self.usable():
            return
        with contextlib.suppress(keyring.errors.KeyringError):
            keyring.delete_password(SERVICE, account_id)
