"""A sync world: the in-process emulator, a client wired to it, a fresh database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.mapping import MappingSpec
from engage_desktop.core.secrets import ApiKey
from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator, Settings
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.contacts import Contact, ContactRepo
from engage_desktop.storage.database import Database, open_database
from engage_desktop.storage.fields import FieldRepo
from engage_desktop.sync.engine import SyncEngine
from engage_desktop.sync.events import SyncProgress, SyncResult


@dataclass
class World:
    """Everything a sync test touches."""

    emulator: KlaviyoEmulator
    admin: httpx.AsyncClient
    client: KlaviyoClient
    db: Database
    progress: list[SyncProgress]

    def connect(
        self,
        mode: ConsentMode = ConsentMode.INFERRED,
        lists: tuple[str, ...] | None = None,
        mappings: list[MappingSpec] | None = None,
    ) -> None:
        ConnectionRepo(self.db).save(
            Connection(
                self.emulator.store.data.account_id, "Test shop", "http://127.0.0.1", mode, lists
            )
        )
        FieldRepo(self.db).replace_mappings(mappings or [])

    async def sync(self, full: bool = False) -> SyncResult:
        engine = SyncEngine(self.db, self.client, who="test", on_progress=self.progress.append)
        return await engine.run("manual", full)

    def contacts(self) -> list[Contact]:
        return ContactRepo(self.db).search()

    def by_source(self, profile_id: str) -> Contact:
        return next(c for c in self.contacts() if profile_id in c.sources.get("KLAVIYO", []))

    async def profiles(self, **params: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        url: str | None = "/api/profiles"
        query: dict[str, str] | None = {
            "page[size]": "100",
            "additional-fields[profile]": "subscriptions",
            **params,
        }
        while url:
            doc = (await self.admin.get(url, params=query)).json()
            out += doc["data"]
            url, query = doc["links"]["next"], None
        return out

    async def patch(self, profile_id: str, attributes: dict[str, Any]) -> None:
        r = await self.admin.patch(
            f"/_emulator/profiles/{profile_id}", json={"attributes": attributes}
        )
        r.raise_for_status()

    async def add(
        self,
        phone: str | None,
        consent: str | None = None,
        at: float | None = None,
        lists: tuple[str, ...] = (),
        **attributes: Any,
    ) -> str:
        """A new Klaviyo profile (with this SMS consent at this time), on these lists."""
        attrs = {"phone_number": phone, **attributes}
        if consent is not None:
            attrs["subscriptions"] = sms_consent(consent, at)
        r = await self.admin.post("/_emulator/profiles", json={"attributes": attrs})
        pid: str = r.json()["id"]
        for list_id in lists:
            await self.admin.post(
                f"/_emulator/lists/{list_id}/members", json={"profile_ids": [pid]}
            )
        return pid

    async def consent(self, profile_id: str, consent: str, at: float) -> None:
        """The person's SMS consent changes in Klaviyo."""
        await self.patch(profile_id, {"subscriptions": sms_consent(consent, at)})

    async def fault(self, path: str, kind: str, count: int = 1, **extra: Any) -> None:
        r = await self.admin.post(
            "/_emulator/faults", json={"path": path, "kind": kind, "count": count, **extra}
        )
        r.raise_for_status()

    def state(self) -> dict[str, list[tuple[Any, ...]]]:
        """Everything a sync may change, to compare before and after."""
        tables = {
            "contacts": "SELECT * FROM contacts ORDER BY id",
            "contact_sources": "SELECT * FROM contact_sources ORDER BY source, external_id",
            "list_members": "SELECT * FROM list_members ORDER BY list_id, contact_id",
            "contact_lists": "SELECT id, source, external_id, name FROM contact_lists ORDER BY id",
            "suppressions": "SELECT * FROM suppressions ORDER BY phone",
            "optout_outbox": "SELECT * FROM optout_outbox ORDER BY id",
        }
        return {k: self.db.execute_sql(q).fetchall() for k, q in tables.items()}

    def first_list(self) -> str:
        return next(iter(self.emulator.store.lists.values())).id

    async def settle(self) -> None:
        """Let the emulator's asynchronous jobs apply."""
        await asyncio.sleep(self.emulator.settings.job_delay_s * 3)


def sms_consent(consent: str, at: float | None) -> dict[str, Any]:
    """`subscriptions` of a profile whose SMS marketing consent is `consent` since `at`."""
    stamp = None if at is None else datetime.fromtimestamp(at, UTC).isoformat()
    return {
        "sms": {
            "marketing": {
                "consent": consent,
                "consent_timestamp": stamp,
                "can_receive_sms_marketing": consent == "SUBSCRIBED",
                "method": "API",
                "method_detail": "",
                "last_updated": stamp,
            },
            "transactional": None,
        }
    }


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    emulator = KlaviyoEmulator(Settings(profiles=300, lists=3, job_delay_s=0.02, rate_limits=False))
    transport = httpx.ASGITransport(app=emulator)
    headers = {"Authorization": f"Klaviyo-API-Key {DEMO_API_KEY}", "revision": "2026-07-15"}
    db = open_database(tmp_path)
    async with (
        httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", headers=headers
        ) as admin,
        KlaviyoClient(
            ApiKey(DEMO_API_KEY),
            base_url="http://127.0.0.1",
            transport=transport,
            retry_base_s=0.01,
        ) as client,
    ):
        yield World(emulator, admin, client, db, [])
    db.close()


@pytest.fixture(autouse=True)
def _both_engines(engine: str) -> str:
    """Every sync test runs on SQLite and on the team database (PostgreSQL)."""
    return engine
