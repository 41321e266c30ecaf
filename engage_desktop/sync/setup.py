"""What the install wizard and the Klaviyo details ask of Klaviyo, without Qt: verify a key,
read the lists and their sizes, sample profiles. Saving is the actions' (actions/connection.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.setup import VerifiedKey
from engage_desktop.klaviyo.client import KlaviyoClient
from engage_desktop.klaviyo.errors import KlaviyoError
from engage_desktop.klaviyo.models import KlaviyoList

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
