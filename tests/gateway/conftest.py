"""A gateway world: both emulators in-process, a database synced from Klaviyo, and the actions
wired to them (keys from a fake environment, never the machine's keyring)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from engage_desktop.actions import Actions, Credentials
from engage_desktop.actions.gateway import KEY_ENV, SECRET_ENV, GatewayCredentialStore
from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.messaging import GatewayCredentials
from engage_desktop.core.secrets import ApiKey
from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator
from engage_desktop.emulator import Settings as KlaviyoSettings
from engage_desktop.emulator.messagemedia import (
    DEMO_API_KEY as MM_KEY,
)
from engage_desktop.emulator.messagemedia import (
    DEMO_API_SECRET as MM_SECRET,
)
from engage_desktop.emulator.messagemedia import (
    MessageMediaEmulator,
)
from engage_desktop.emulator.messagemedia import (
    Settings as MMSettings,
)
from engage_desktop.emulator.server import EmulatorThread
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.messagemedia import MessageMediaClient
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.database import Database, open_database
from engage_desktop.storage.gateway_settings import GatewayKeyStore
from engage_desktop.storage.keystore import KeyStore
from engage_desktop.sync.engine import SyncEngine

MM_ENV = {KEY_ENV: MM_KEY, SECRET_ENV: MM_SECRET}
URL = "http://127.0.0.1"


@dataclass
class World:
    """Everything a gateway test touches."""

    klaviyo: KlaviyoEmulator
    mm: MessageMediaEmulator
    db: Database
    actions: Actions
    mm_admin: httpx.AsyncClient
    klaviyo_transport: httpx.ASGITransport
    mm_transport: httpx.ASGITransport
    jobs: list[list[str]] = field(default_factory=list)  # Klaviyo unsubscribe jobs accepted

    def klaviyo_client(self) -> KlaviyoClient:
        return KlaviyoClient(
            ApiKey(DEMO_API_KEY), URL, transport=self.klaviyo_transport, retry_base_s=0.01
        )

    def mm_client(self, **options: Any) -> MessageMediaClient:
        return MessageMediaClient(
            GatewayCredentials(MM_KEY, MM_SECRET),
            URL,
            transport=self.mm_transport,
            retry_base_s=0.01,
            **options,
        )

    async def sync(self, full: bool = True) -> None:
        async with self.klaviyo_client() as client:
            await SyncEngine(self.db, client, who="test").run("manual", full)

    def list_name(self) -> str:
        row = self.db.execute_sql("SELECT name FROM contact_lists ORDER BY id").fetchone()
        return str(row[0])

    def eligible_phones(self, list_name: str | None = None) -> set[str]:
        where = (
            ""
            if list_name is None
            else (
                " AND id IN (SELECT contact_id FROM list_members m JOIN contact_lists l"
                " ON l.id = m.list_id WHERE l.name = ?)"
            )
        )
        rows = self.db.execute_sql(
            "SELECT phone FROM contacts WHERE sms_status = 'subscribed' AND phone IS NOT NULL"
            " AND phone NOT IN (SELECT phone FROM suppressions WHERE lifted_at IS NULL)" + where,
            () if list_name is None else (list_name,),
        )
        return {p for (p,) in rows}

    async def sent(self, number: str | None = None) -> list[dict[str, Any]]:
        """Every message the gateway accepted (to `number`)."""
        params = {"destination_number": number} if number else {}
        r = await self.mm_admin.get("/_emulator/messages", params=params)
        r.raise_for_status()
        messages: list[dict[str, Any]] = r.json()["messages"]
        return messages

    async def reply(self, number: str, content: str, **extra: Any) -> dict[str, Any]:
        r = await self.mm_admin.post(
            "/_emulator/replies", json={"source_number": number, "content": content, **extra}
        )
        r.raise_for_status()
        doc: dict[str, Any] = r.json()
        return doc

    async def fault(self, path: str, kind: str, count: int = 1, **extra: Any) -> None:
        r = await self.mm_admin.post(
            "/_emulator/faults", json={"path": path, "kind": kind, "count": count, **extra}
        )
        r.raise_for_status()

    async def mm_settings(self, **changes: Any) -> None:
        (await self.mm_admin.post("/_emulator/settings", json=changes)).raise_for_status()

    async def connect_gateway(self, source_number: str | None = None) -> None:
        verified = await self.actions.gateway.verify(None, URL)
        self.actions.gateway.connect(verified, source_number)

    def status_of(self, phone: str) -> str:
        row = self.db.execute_sql(
            "SELECT sms_status FROM contacts WHERE phone = ?", (phone,)
        ).fetchone()
        return str(row[0])


def build_world(
    folder: Path,
    consent: ConsentMode = ConsentMode.INFERRED,
    profiles: int = 300,
    mm_settings: MMSettings | None = None,
) -> World:
    klaviyo = KlaviyoEmulator(
        KlaviyoSettings(profiles=profiles, lists=3, job_delay_s=0.0, rate_limits=False)
    )
    mm = MessageMediaEmulator(
        mm_settings or MMSettings(submitted_after_s=0.01, delivered_after_s=0.01)
    )
    k_transport = httpx.ASGITransport(app=klaviyo)
    m_transport = httpx.ASGITransport(app=mm)
    db = open_database(folder)
    ConnectionRepo(db).save(Connection(klaviyo.store.data.account_id, "Shop", URL, consent, None))
    world_jobs: list[list[str]] = []

    def make_klaviyo(key: ApiKey, base_url: str) -> KlaviyoClient:
        client = KlaviyoClient(key, base_url, transport=k_transport, retry_base_s=0.01)
        real = client.bulk_unsubscribe_sms

        async def recording(phones: list[str]) -> None:
            await real(phones)
            world_jobs.append(sorted(phones))  # only once Klaviyo accepted the job

        client.bulk_unsubscribe_sms = recording  # type: ignore[method-assign]
        return client

    actions = Actions(db, Credentials(env={"KLAVIYO_API_KEY": DEMO_API_KEY}), make_klaviyo)
    actions.gateway.credentials = GatewayCredentialStore(
        GatewayKeyStore(KeyStore("engage-desktop-messagemedia-test")), env=MM_ENV
    )

    def make_mm(credentials: GatewayCredentials, base_url: str) -> MessageMediaClient:
        return MessageMediaClient(credentials, base_url, transport=m_transport, retry_base_s=0.01)

    actions.gateway.make_client = make_mm
    admin = httpx.AsyncClient(transport=m_transport, base_url=URL)
    return World(klaviyo, mm, db, actions, admin, k_transport, m_transport, world_jobs)


@pytest.fixture
async def world(tmp_path: Path, engine: str) -> AsyncIterator[World]:
    w = build_world(tmp_path)
    await w.sync()
    await w.connect_gateway()
    yield w
    await w.mm_admin.aclose()
    await asyncio.sleep(0)
    w.db.close()


@pytest.fixture(scope="session")
def live_mm_server() -> Iterator[EmulatorThread]:
    emulator = MessageMediaEmulator(MMSettings(submitted_after_s=0.01, delivered_after_s=0.01))
    with EmulatorThread(emulator) as thread:
        yield thread


@pytest.fixture
def live_mm(live_mm_server: EmulatorThread) -> EmulatorThread:
    """The MessageMedia emulator on a socket (drops and stalls are real there), reset."""
    httpx.post(f"{live_mm_server.url}/_emulator/reset").raise_for_status()
    httpx.post(
        f"{live_mm_server.url}/_emulator/settings",
        json={"latency_ms": 0, "submitted_after_s": 0.01, "delivered_after_s": 0.01},
    ).raise_for_status()
    return live_mm_server
