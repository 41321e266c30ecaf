"""Reconnecting is about the key: consent, lists, region and mappings never change by it; a
consent change that makes contacts messageable says how many and waits for a yes; the
keyring is never asked on the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import keyring
import pytest
from pytestqt.qtbot import QtBot

from engage_desktop.actions import Changes, Credentials
from engage_desktop.actions.connection import ConnectPlan
from engage_desktop.app import EngageApp
from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.fields import FieldType
from engage_desktop.core.mapping import MappingSpec
from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.setup import VerifiedKey
from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator, Settings
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.storage.connection import ConnectionRepo
from engage_desktop.storage.database import Database
from engage_desktop.storage.fields import FieldRepo
from engage_desktop.storage.keystore import KeyStore
from engage_desktop.storage.memory_keyring import MemoryKeyring
from engage_desktop.ui.context import AppContext
from engage_desktop.ui.integrations.reconnect_dialog import ReconnectDialog

OTHER = "http://127.0.0.2"  # another Klaviyo account, on its own emulator


class ThreadWatchingKeyring(MemoryKeyring):
    """Remembers on which thread each keyring call came."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.threads.append(threading.current_thread().name)
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self.threads.append(threading.current_thread().name)
        super().set_password(service, username, password)


@pytest.fixture
def watching() -> Iterator[ThreadWatchingKeyring]:
    backend = ThreadWatchingKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def app_ctx(
    db: Database, emulator: KlaviyoEmulator, watching: ThreadWatchingKeyring, aloop: object
) -> Iterator[AppContext]:
    other = KlaviyoEmulator(Settings(profiles=50, lists=1, seed=99))

    def make(key: ApiKey, base_url: str) -> KlaviyoClient:
        app = other if base_url == OTHER else emulator
        return KlaviyoClient(key, base_url, transport=httpx.ASGITransport(app=app), max_attempts=2)

    context = AppContext(db, KeyStore(), make, demo=True, demo_key=DEMO_API_KEY)
    yield context
    context.shutdown()


@pytest.fixture
def engage(qtbot: QtBot, app_ctx: AppContext, tmp_path: Path) -> Iterator[EngageApp]:
    app = EngageApp(app_ctx, tmp_path)
    qtbot.addWidget(app.window)
    app.start()
    yield app
    app.stop()


def connected_explicitly(ctx: AppContext, emulator: KlaviyoEmulator) -> None:
    """Explicit consent, two lists, GB, a mapping — then the keyring loses the key (a
    restart without it, a locked keyring, a revoked key)."""
    lists = tuple(sorted(emulator.store.lists)[:2])
    verified = VerifiedKey(
        ApiKey(DEMO_API_KEY), "http://127.0.0.1", emulator.store.data.account_id, "Shop"
    )
    mapping = (MappingSpec("Shoe size", "properties.Shoe Size", FieldType.NUMBER),)
    ctx.actions.connection.connect(
        ConnectPlan(verified, ConsentMode.EXPLICIT, lists, "GB", mapping)
    )
    ctx.credentials.forget(emulator.store.data.account_id)
    ctx.credentials = ctx.actions.credentials = Credentials(env={})


def settings_of(db: Database) -> tuple[object, ...]:
    c = ConnectionRepo(db).get()
    assert c is not None
    return c.consent_mode, c.lists, c.default_region, c.schedule_hours, FieldRepo(db).mappings()


def test_reconnect_asks_for_the_key_only_and_keeps_everything_else(
    qtbot: QtBot, engage: EngageApp, app_ctx: AppContext, emulator: KlaviyoEmulator
) -> None:
    connected_explicitly(app_ctx, emulator)
    engage.apply(Changes(connection=True))
    tile = engage.integrations.klaviyo
    qtbot.waitUntil(lambda: "Reconnect" in tile.button.text(), timeout=5000)
    before = settings_of(app_ctx.db)
    tile.button.click()
    qtbot.waitUntil(lambda: engage.klaviyo.reconnect is not None, timeout=5000)
    dialog = engage.klaviyo.reconnect
    assert isinstance(dialog, ReconnectDialog) and engage.klaviyo.wizard is None
    dialog.key.setText(DEMO_API_KEY)
    with qtbot.waitSignal(dialog.reconnected, timeout=10000):
        dialog.save.click()
    assert settings_of(app_ctx.db) == before  # consent, lists, region, mappings, schedule
    qtbot.waitUntil(lambda: tile.button.text() == "See &details", timeout=5000)


def test_a_key_of_another_account_is_refused(
    qtbot: QtBot, engage: EngageApp, app_ctx: AppContext, emulator: KlaviyoEmulator
) -> None:
    connected_explicitly(app_ctx, emulator)
    conn = ConnectionRepo(app_ctx.db).get()
    assert conn is not None
    engage.klaviyo.open_reconnect(conn)
    dialog = engage.klaviyo.reconnect
    assert dialog is not None
    dialog.key.setText(DEMO_API_KEY)
    dialog.base_url.setText(OTHER)
    dialog.save.click()
    qtbot.waitUntil(lambda: "belongs to" in dialog.outcome.text(), timeout=10000)
    assert "disconnect first" in dialog.outcome.text()
    after = ConnectionRepo(app_ctx.db).get()
    assert after is not None and after.account_id == conn.account_id


def test_widening_consent_in_details_says_how_many_and_waits_for_yes(
    qtbot: QtBot, engage: EngageApp, app_ctx: AppContext, live: EmulatorThread
) -> None:
    emulator = live.emulator
    lists = tuple(sorted(emulator.store.lists)[:2])  # type: ignore[attr-defined]
    verified = VerifiedKey(
        ApiKey(DEMO_API_KEY),
        live.url,
        emulator.store.data.account_id,
        "Shop",  # type: ignore[attr-defined]
    )
    app_ctx.actions.connection.connect(ConnectPlan(verified, ConsentMode.EXPLICIT, lists, "US"))
    with qtbot.waitSignal(engage.bridge.run_finished, timeout=60000):
        engage.runner.request_sync("manual", True)
    never = app_ctx.db.execute_sql(
        "SELECT count(*) FROM contacts WHERE sms_status = 'never_subscribed' AND phone IS NOT NULL"
    ).fetchone()[0]
    assert never > 0
    engage.apply(Changes(connection=True))
    tile = engage.integrations.klaviyo
    qtbot.waitUntil(lambda: tile.button.text() == "See &details", timeout=5000)
    tile.button.click()
    qtbot.waitUntil(lambda: engage.klaviyo.details is not None, timeout=5000)
    tab = engage.klaviyo.details.connection  # type: ignore[union-attr]
    tab.modes[ConsentMode.INFERRED].click()
    assert tab.save.isEnabled()
    tab.save.click()
    qtbot.waitUntil(lambda: hasattr(tab, "question") and tab.question.isVisible(), timeout=5000)
    assert f"{never:,} contacts who never subscribed" in tab.question.text()
    keep = next(b for b in tab.question.buttons() if "Keep" in b.text())
    keep.click()
    conn = ConnectionRepo(app_ctx.db).get()
    assert conn is not None and conn.consent_mode is ConsentMode.EXPLICIT
    tab.save.click()
    qtbot.waitUntil(lambda: tab.question.isVisible(), timeout=5000)
    yes = next(b for b in tab.question.buttons() if "Yes" in b.text())
    with qtbot.waitSignal(tab.changed, timeout=10000):
        yes.click()
    conn = ConnectionRepo(app_ctx.db).get()
    assert conn is not None and conn.consent_mode is ConsentMode.INFERRED
    left = app_ctx.db.execute_sql(
        "SELECT count(*) FROM contacts WHERE sms_status = 'never_subscribed' AND phone IS NOT NULL"
    ).fetchone()[0]
    assert left == 0  # at once, not at the next sync


def test_the_keyring_is_never_asked_on_the_gui_thread(
    qtbot: QtBot,
    engage: EngageApp,
    app_ctx: AppContext,
    emulator: KlaviyoEmulator,
    watching: ThreadWatchingKeyring,
) -> None:
    lists = tuple(sorted(emulator.store.lists)[:1])
    verified = VerifiedKey(
        ApiKey(DEMO_API_KEY), "http://127.0.0.1", emulator.store.data.account_id, "Shop"
    )
    app_ctx.actions.connection.connect(ConnectPlan(verified, ConsentMode.INFERRED, lists, "US"))
    watching.threads.clear()
    engage.apply(Changes(connection=True, contacts=True, lists=True, history=True))
    tile = engage.integrations.klaviyo
    qtbot.waitUntil(lambda: tile.button.text() == "See &details", timeout=5000)
    tile.button.click()  # details need the key
    qtbot.waitUntil(lambda: engage.klaviyo.details is not None, timeout=5000)
    qtbot.wait(200)
    assert watching.threads, "the key was never looked up"
    assert threading.main_thread().name not in watching.threads
