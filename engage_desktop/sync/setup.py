"""What the install wizard and the Klaviyo details ask of the outside world, without Qt:
verify a key, read the lists and their sizes, sample profiles, save or remove a connection."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from engage_desktop.core.mapping import MappingSpec
from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.setup import SetupDraft, VerifiedKey
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.klaviyo.errors import KlaviyoError
from engage_desktop.klaviyo.models import KlaviyoList
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.database import Database
from engage_desktop.storage.fields import FieldMapping, FieldRepo
from engage_desktop.storage.keystore import KeyStore

log = logging.getLogger(__name__)

ClientFactory = Callable[[ApiKey, str], KlaviyoClient]
SAMPLE_PAGES = 2  # 200 profiles: enough to see which properties are common, one second at most


class KeyRefused(KlaviyoError):
    """The key works but lacks a scope Engage cannot do without."""


@dataclass(frozen=True)
class Sample:
    """Profiles' attributes sampled from the chosen lists, for the mapping editor."""

    attributes: list[dict[str, Any]]


class KlaviyoSetup:
    """One client for the key being set up; verify, lists, counts and samples go through it."""

    def __init__(self, make_client: ClientFactory) -> None:
        self._make_client = make_client
        self._client: KlaviyoClient | None = None
        self._client_for: tuple[str, str] | None = None

    async def _client_of(self, key: ApiKey, base_url: str) -> KlaviyoClient:
        ident = (key.reveal(), base_url)
        if self._client is None or self._client_for != ident:
            await self.aclose()
            self._client = self._make_client(key, base_url)
            self._client_for = ident
        return self._client

    async def verify(self, key: ApiKey, base_url: str) -> VerifiedKey:
        """The account the key belongs to; KeyRefused when it lacks a read scope we need."""
        base = base_url.strip().rstrip("/")
        check = await (await self._client_of(key, base)).validate_key()
        blocking = [m for m in check.missing if m.scope.endswith(":read")]
        if blocking:
            needs = "; ".join(f"{m.scope} (to {m.purpose})" for m in blocking)
            raise KeyRefused(
                f"This key is missing scopes Engage needs: {needs}. In Klaviyo, edit the key "
                f"(Settings → API keys) to give it read access to these, then verify again.",
                403,
            )
        return VerifiedKey(
            key, base, check.account.id, check.account.name, tuple(m.scope for m in check.missing)
        )

    async def lists(self, v: VerifiedKey) -> list[KlaviyoList]:
        return await (await self._client_of(v.key, v.base_url)).get_lists()

    async def count(self, v: VerifiedKey, list_id: str) -> int:
        """A list's size (Klaviyo allows 15 counts a minute; answers are cached)."""
        return await (await self._client_of(v.key, v.base_url)).list_profile_count(list_id)

    async def sample(self, v: VerifiedKey, list_ids: tuple[str, ...] | None) -> Sample:
        """The first profiles of the chosen lists (or of the account), spread over the lists."""
        client = await self._client_of(v.key, v.base_url)
        out: list[dict[str, Any]] = []
        sources = [None] if not list_ids else list(list_ids)
        pages_each = max(1, SAMPLE_PAGES // len(sources))
        for list_id in sources[: SAMPLE_PAGES * 2]:
            stream = (
                client.iter_profiles(subscriptions=False)
                if list_id is None
                else client.iter_list_members(list_id, subscriptions=False)
            )
            pages = 0
            async for page in stream:
                out.extend(p.attributes for p in page)
                pages += 1
                if pages >= pages_each:
                    break
        return Sample(out)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def save_setup(db: Database, keys: KeyStore, draft: SetupDraft) -> tuple[Connection, bool]:
    """Finish: the key to the keyring, the rest to the database. Returns the connection and
    whether the keyring took the key (False on a machine without one). Blocking: run it off
    the GUI thread."""
    v = draft.verified
    if v is None:
        raise ValueError("no verified key")
    stored = keys.save(v.account_id, v.key)
    old = ConnectionRepo(db).get()
    # The same account again keeps its watermarks; another account starts afresh.
    base = (
        old
        if old is not None and old.account_id == v.account_id
        else Connection(v.account_id, v.account_name, v.base_url, draft.consent, ())
    )
    conn = replace(
        base,
        account_name=v.account_name,
        base_url=v.base_url,
        consent_mode=draft.consent,
        lists=draft.chosen_lists,
        default_region=draft.default_region,
        key_in_keyring=stored,
    )
    with db.atomic():
        conn = ConnectionRepo(db).save(conn)
        if draft.sync_contacts:
            save_mappings(db, list(draft.mappings))
    log.info("connected to Klaviyo account %s", v.account_id)
    return conn, stored


def save_mappings(db: Database, specs: list[MappingSpec]) -> None:
    FieldRepo(db).replace_mappings([FieldMapping(s.name, s.type, s.path) for s in specs])


def update_selection(
    db: Database, lists: tuple[str, ...] | None, specs: list[MappingSpec]
) -> Connection:
    """The details tab's Update: new lists (a change forces a full run next) and mappings."""
    repo = ConnectionRepo(db)
    conn = repo.get()
    if conn is None:
        raise ValueError("not connected")
    with db.atomic():
        conn = repo.save(replace(conn, lists=lists))
        save_mappings(db, specs)
    return conn


def disconnect(db: Database, keys: KeyStore) -> None:
    """Stop syncing: forget the connection and the key; contacts stay."""
    conn = ConnectionRepo(db).get()
    if conn is None:
        return
    keys.delete(conn.account_id)
    ConnectionRepo(db).delete()
    log.info("disconnected from Klaviyo account %s", conn.account_id)
