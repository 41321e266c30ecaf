"""Qt tests: offscreen, one qasync loop for the session, the emulator in-process, an in-memory
keyring, a fresh database per test."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # never a real window in tests

import qasync
from PySide6.QtWidgets import QApplication

from engage_desktop.core.secrets import ApiKey
from engage_desktop.emulator import KlaviyoEmulator
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.storage.database import Database, open_database
from engage_desktop.storage.keystore import KeyStore
from engage_desktop.storage.memory_keyring import MemoryKeyring, use_memory_keyring
from engage_desktop.ui.context import AppContext


@pytest.fixture(scope="session")
def qt_loop(qapp: QApplication) -> qasync.QEventLoop:
    """One qasync loop for the whole session (a loop per test crashes: STACK.md)."""
    return qasync.QEventLoop(qapp, already_running=True)


@pytest.fixture
def aloop(qt_loop: qasync.QEventLoop) -> Iterator[qasync.QEventLoop]:
    """Mark the session loop as running for this test, so `asyncio` calls find it."""
    asyncio.events._set_running_loop(qt_loop)
    try:
        yield qt_loop
    finally:
        for task in asyncio.all_tasks(qt_loop):
            task.cancel()
        asyncio.events._set_running_loop(None)


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return use_memory_keyring()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path)
    yield database
    database.close()


def asgi_client_factory(emulator: KlaviyoEmulator):  # type: ignore[no-untyped-def]
    """Klaviyo clients that talk to the in-process emulator (any base URL)."""

    def make(key: ApiKey, base_url: str) -> KlaviyoClient:
        transport = None
        if base_url == "http://127.0.0.1":
            transport = httpx.ASGITransport(app=emulator)
        return KlaviyoClient(key, base_url, transport=transport, max_attempts=2, retry_base_s=0.05)

    return make


@pytest.fixture
def ctx(
    db: Database, emulator: KlaviyoEmulator, memory_keyring: MemoryKeyring, aloop: object
) -> Iterator[AppContext]:
    context = AppContext(db, KeyStore(), asgi_client_factory(emulator), demo=True)
    from engage_desktop.emulator import DEMO_API_KEY

    context.demo_key = DEMO_API_KEY
    yield context
    context.shutdown()
