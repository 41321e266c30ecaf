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
SMTP_SERVICE = "engage-desktop-smtp"


class KeyStore:
    """Keys by account id in the OS keyring (Secret Service, Keychain, Credential Manager);
    the SMTP password by user name under its own service."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    def usable(self) -> bool:
        """False where no keyring exists (a server, a bare container): say so, don't fall back.
        The in-memory keyring of demo mode and tests counts: it is only ever set on purpose."""
        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring):
            return False
        if getattr(backend, "set_on_purpose", False):
            return True
        try:
            return float(backend.priority) > 0
        except Exception:  # a backend that is not viable here says so by raising
            return False

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
