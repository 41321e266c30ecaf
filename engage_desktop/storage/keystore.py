"""The API key in the operating system's keyring, never in a file we write."""

from __future__ import annotations

import contextlib
import logging

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import fail

from engage_desktop.core.secrets import ApiKey

log = logging.getLogger(__name__)
SERVICE = "engage-desktop"
SMTP_SERVICE = "engage-desktop-smtp"


class KeyStore:
    """Keys by account id in the OS keyring (Secret Service, Keychain, Credential Manager);
    the SMTP password by user name under its own service."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    def usable(self) -> bool:
        """False where no keyring exists (a server, a bare container): say so, don't fall back."""
        backend = keyring.get_keyring()
        return not isinstance(backend, fail.Keyring) and getattr(backend, "priority", 1) > 0

    def save(self, account_id: str, key: ApiKey) -> bool:
        if not self.usable():
            return False
        try:
            keyring.set_password(self.service, account_id, key.reveal())
        except keyring.errors.KeyringError as exc:
            log.warning("could not store the API key in the keyring: %s", type(exc).__name__)
            return False
        return True

    def load(self, account_id: str) -> ApiKey | None:
        if not self.usable():
            return None
        try:
            value = keyring.get_password(self.service, account_id)
        except keyring.errors.KeyringError:
            return None
        return ApiKey(value) if value else None

    def delete(self, account_id: str) -> None:
        if not self.usable():
            return
        with contextlib.suppress(keyring.errors.KeyringError):
            keyring.delete_password(self.service, account_id)


class MemoryKeyring(KeyringBackend):
    """Keys held for the life of the process only: the demo mode and tests (never a file)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


def use_memory_keyring() -> MemoryKeyring:
    """Make every KeyStore in this process use a fresh in-memory keyring."""
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend
