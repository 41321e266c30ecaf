"""Two sources in one world: the Klaviyo and Mailjet emulators in-process, a client for each,
a fresh database; helpers to change either account and to run a sync of both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.mapping import MappingSpec
from engage_desktop.core.secrets import ApiKey
from engage_desktop.emulator import DEMO_API_KEY, KlaviyoEmulator, Settings
from engage_desktop.emulator import mailjet as mj
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.mailjet.client import MailjetClient
from engage_desktop.mailjet.ratelimit import RateBudget
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.contacts import Contact, ContactRepo
from engage_desktop.storage.database import Database, open_database
from engage_desktop.storage.mailjet_settings import MailjetSettings, MailjetSettingsRepo
from engage_desktop.sync.engine import SyncEngine
from engage_desktop.sync.events import SyncResult
from engage_desktop.sync.sources.base import ContactSource
from engage_desktop.sync.sources.klaviyo import KlaviyoSource
from engage_desktop.sync.sources.mailjet import MailjetSource
from engage_desktop.sync.sources.mailjet_keys import MailjetKeys

MJ_KEYS = MailjetKeys(ApiKey(mj.DEMO_API_KEY), ApiKey(mj.DEMO_API_SECRET))


@dataclass
class Sources:
    """Everything a multi-source test touches."""

    klaviyo: KlaviyoEmulator
    mailjet: mj.MailjetEmulator
    kclient: KlaviyoClient
    mclient: MailjetClient
    kadmin: httpx.AsyncClient
    madmin: httpx.AsyncClient
    db: Database
    connected: set[str] = field(default_factory=set)

    # ----- connecting -----------------------------------------------------------------------
    def connect_klaviyo(self, mode: ConsentMode = ConsentMode.INFERRED) -> None:
        ConnectionRepo(self.db).save(
            Connection(self.klaviyo.store.data.account_id, "Shop", "http://127.0.0.1", mode, None)
        )
        self.connected.add("KLAVIYO")

    def connect_mailjet(
        self,
        mode: ConsentMode = ConsentMode.INFERRED,
        lists: tuple[str, ...] | None = None,
        consent_property: str | None = "sms_opt_in",
        region: str = "US",
        mappings: tuple[MappingSpec, ...] = (),
        phone_property: str = "phone",
    ) -> None:
        MailjetSettingsRepo(self.db).save(
            MailjetSettings(
                "http://127.0.0.1",
                MJ_KEYS.ref,
                MJ_KEYS.hint,
                phone_property,
                lists,
                mode,
                consent_property,
                region,
                mappings,
            )
        )
        self.connected.add("MAILJET")

    # ----- syncing ----------------------------------------------------------------------------
    def engine(self, only: str | None = None, **kwargs: Any) -> SyncEngine:
        sources: list[ContactSource] = []
        if "KLAVIYO" in self.connected and only in (None, "KLAVIYO"):
            sources.append(KlaviyoSource(self.db, self.kclient, chains=4))
        if "MAILJET" in self.connected and only in (None, "MAILJET"):
            sources.append(MailjetSource(self.db, self.mclient))
        client = self.kclient if "KLAVIYO" in self.connected else None
        return SyncEngine(self.db, client, sources=sources, who="test", **kwargs)

    async def sync(self, full: bool = True, only: str | None = None) -> SyncResult:
        return await self.engine(only).run("manual", full)

    def contacts(self) -> list[Contact]:
        return ContactRepo(self.db).search()

    def by_phone(self, phone: str) -> Contact | None:
        return next((c for c in self.contacts() if c.phone == phone), None)

    # ----- changing the Mailjet account -----------------------------------------------------
    def mailjet_lists(self) -> list[int]:
        return [lst.id for lst in self.mailjet.store.lists()]

    async def mailjet_contact(
        self,
        email: str,
        phone: str | None,
        lists: tuple[int, ...] = (),
        unsubscribed: tuple[int, ...] = (),
        **properties: Any,
    ) -> int:
        """A new Mailjet contact with this phone property value, on these lists."""
        props = {**properties}
        if phone is not None:
            props["phone"] = phone
        body = {
            "Email": email,
            "Properties": props,
            "Lists": [{"ListID": i, "IsUnsubscribed": i in unsubscribed} for i in lists],
        }
        r = await self.madmin.post("/_emulator/contacts", json=body)
        assert r.status_code == 201, r.text
        return int(r.json()["ID"])

    async def mailjet_edit(self, contact_id: int, **body: Any) -> None:
        r = await self.madmin.patch(f"/_emulator/contacts/{contact_id}", json=body)
        assert r.status_code == 200, r.text

    async def mailjet_unsubscribe(self, list_id: int, contact_id: int) -> None:
        r = await self.madmin.post(
            f"/_emulator/lists/{list_id}/unsubscribe", json={"Contacts": [contact_id]}
        )
        assert r.status_code == 204, r.text

    async def mailjet_fault(self, path: str, kind: str, count: int = 1) -> None:
        r = await self.madmin.post(
            "/_emulator/faults", json={"path": path, "kind": kind, "count": count}
        )
        assert r.status_code == 204, r.text

    # ----- changing the Klaviyo account -----------------------------------------------------
    async def klaviyo_profile(
        self, phone: str | None, lists: tuple[str, ...] = (), **attributes: Any
    ) -> str:
        r = await self.kadmin.post(
            "/_emulator/profiles", json={"attributes": {"phone_number": phone, **attributes}}
        )
        pid: str = r.json()["id"]
        for list_id in lists:
            await self.kadmin.post(
                f"/_emulator/lists/{list_id}/members", json={"profile_ids": [pid]}
            )
        return pid

    def klaviyo_list(self) -> str:
        return next(iter(self.klaviyo.store.lists.values())).id

    def state(self) -> dict[str, list[tuple[Any, ...]]]:
        """Everything a sync or an import may change, to compare before and after."""
        tables = {
            "contacts": "SELECT id, phone, phone_raw, email, first_name, last_name, fields,"
            " sms_status, sms_changed_at, sms_reason, updated_at FROM contacts ORDER BY id",
            "contact_sources": "SELECT * FROM contact_sources ORDER BY source, external_id",
            "list_members": "SELECT * FROM list_members ORDER BY list_id, contact_id",
            "record_members": "SELECT * FROM record_members ORDER BY list_id, external_id",
            "contact_lists": "SELECT id, source, external_id, name FROM contact_lists ORDER BY id",
            "suppressions": "SELECT * FROM suppressions ORDER BY phone",
            "optout_outbox": "SELECT * FROM optout_outbox ORDER BY id",
        }
        return {k: self.db.execute_sql(q).fetchall() for k, q in tables.items()}


@pytest.fixture
async def sources(tmp_path: Path) -> AsyncIterator[Sources]:
    klaviyo = KlaviyoEmulator(Settings(profiles=120, lists=2, job_delay_s=0.0, rate_limits=False))
    mailjet = mj.MailjetEmulator(mj.Settings(contacts=150, lists=3, rate_limit_per_s=0))
    kt, mt = httpx.ASGITransport(app=klaviyo), httpx.ASGITransport(app=mailjet)
    headers = {"Authorization": f"Klaviyo-API-Key {DEMO_API_KEY}", "revision": "2026-07-15"}
    db = open_database(tmp_path)
    async with (
        httpx.AsyncClient(transport=kt, base_url="http://127.0.0.1", headers=headers) as kadmin,
        httpx.AsyncClient(transport=mt, base_url="http://127.0.0.1") as madmin,
        KlaviyoClient(
            ApiKey(DEMO_API_KEY), "http://127.0.0.1", transport=kt, retry_base_s=0.01
        ) as kclient,
        MailjetClient(
            MJ_KEYS.key,
            MJ_KEYS.secret,
            "http://127.0.0.1",
            transport=mt,
            retry_base_s=0.01,
            budget=RateBudget(enabled=False),
        ) as mclient,
    ):
        yield Sources(klaviyo, mailjet, kclient, mclient, kadmin, madmin, db)
    db.close()
