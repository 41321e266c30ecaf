"""A keyring held in memory, for demo mode and tests only: never chosen by keyring itself.

keyring discovers every imported `KeyringBackend` subclass and picks the highest priority.
This class's priority raises, so discovery finds it not viable: on a machine without a
keychain the fail backend stays in place (and the app says the key cannot be stored), even
when this module has been imported. It is used only when set explicitly.
"""

from __future__ import annotations

import keyring
from jaraco.classes import properties
from keyring.backend import KeyringBackend


class MemoryKeyring(KeyringBackend):
    """Keys held for the life of the process only (never a file)."""

    set_on_purpose = True  # KeyStore.usable() accepts it only because it was set explicitly

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("an in-memory keyring is only for demo mode and tests")

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
