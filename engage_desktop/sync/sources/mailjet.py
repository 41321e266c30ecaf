"""Mailjet as a contact source: the contacts on the chosen lists, phones from the property
the user picked, consent from the boolean property the user picked (docs/SOURCES.md).

Mailjet has no "changed since" filter, so every run reads everything (a full run); what a
listing cannot prove complete removes nothing. Lists are groups here (`Mailjet: Newsletter`);
a contact unsubscribed from a list leaves that group.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from engage_desktop.core.sources import MAILJET
from engage_desktop.mailjet.client import MailjetClient
from engage_desktop.mailjet.models import MailjetList
from engage_desktop.storage.commit import SyncedList
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import Database
from engage_desktop.storage.mailjet_settings import MailjetSettings, MailjetSettingsRepo
from engage_desktop.storage.staging import StagingRepo
from engage_desktop.sync.fetch import Tally
from engage_desktop.sync.sources.base import (
    Fetched,
    NotConnected,
    RunContext,
    SourceList,
    SourcePlan,
    SourceProblem,
)
from engage_desktop.sync.sources.mailjet_fetch import MailjetFetch
from engage_desktop.sync.sources.mailjet_stage import MailjetRules

# Below this share of the account's contacts on the chosen lists, contacts are read list by
# list (fewer pages); above it, the whole account once (each contact once).
PER_LIST_BELOW = 0.5


class MailjetSource:
    """One Mailjet account, through one client."""

    name = MAILJET
    noun = "contacts"

    def __init__(
        self,
        db: Database,
        client: MailjetClient,
        chains: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.client = client
        self.chains = chains
        self.clock = clock
        self.repo = MailjetSettingsRepo(db)
        self.tally = Tally()
        self._settings: MailjetSettings | None = None
        self._lists: list[MailjetList] = []
        self._ahead: asyncio.Future[int] | None = None

    @property
    def requests(self) -> int:
        return self.client.stats.requests

    @property
    def throttled(self) -> int:
        return self.client.stats.throttled

    def settings(self) -> MailjetSettings:
        settings = self.repo.get()
        if settings is None:
            raise NotConnected(
                "Not connected to Mailjet: run `engage-desktop connect mailjet …` first."
            )
        if settings.lists == ():
            raise NotConnected("Mailjet contact sync is off: choose the lists to sync.")
        return settings

    def full_due(self, requested: bool) -> bool:
        self.settings()
        return True  # Mailjet cannot list what changed since: every run reads everything

    def last_full_count(self) -> int | None:
        return self.settings().last_full_count

    async def plan(self, run: RunContext, full: bool) -> SourcePlan:
        """The chosen lists. A list missing from the listing is asked for by id: gone or
        deleted is proof (its group goes); still there means the listing was incomplete."""
        settings = self._settings = self.settings()
        self.tally = Tally()
        # What the fetch asks first, asked meanwhile: a round trip less before the listings.
        self._ahead = asyncio.ensure_future(self._before_listings(settings))
        self._ahead.add_done_callback(_retrieved)  # (a failure is raised where it is awaited)
        try:
            return await self._plan(run, settings)
        except BaseException:
            self._ahead.cancel()
            with contextlib.suppress(BaseException):
                await self._ahead
            raise

    async def _plan(self, run: RunContext, settings: MailjetSettings) -> SourcePlan:
        available = await self.client.get_lists()
        by_id = {str(lst.id): lst for lst in available}
        known = ContactRepo(self.db).list_names(MAILJET)
        wanted = list(known) if settings.lists is None else list(settings.lists)
        for list_id in wanted:
            if list_id in by_id or not list_id.isdigit():
                continue
            name = known.get(list_id, list_id)
            found = await self.client.get_list(int(list_id))
            if found is not None:
                by_id[list_id] = found
                available.append(found)
                if settings.lists is None:
                    self.tally.gaps.append(f"Mailjet's list of lists left out {name}")
            elif settings.lists is not None:
                run.add_issues(MAILJET, [("list", name, "this Mailjet list no longer exists")])
        chosen = (
            available
            if settings.lists is None
            else [by_id[i] for i in settings.lists if i in by_id]
        )
        self._lists = chosen
        self.tally.lists_total = len(chosen)
        return SourcePlan(
            True,
            [SourceList(str(lst.id), lst.name, lst.subscriber_count) for lst in chosen],
            rederive=settings.needs_rederive,
        )

    async def fetch(self, plan: SourcePlan, staging: StagingRepo, run: RunContext) -> Fetched:
        settings = self._settings or self.settings()
        lists = self._lists
        ahead = self._ahead or asyncio.ensure_future(self._before_listings(settings))
        self._ahead = None
        total = await ahead
        rules = MailjetRules(
            settings.phone_property,
            settings.default_region,
            settings.consent_property,
            settings.mappings,
        )
        on_lists = sum(lst.subscriber_count or 0 for lst in lists)
        per_list = bool(lists) and on_lists < total * PER_LIST_BELOW
        fetch = MailjetFetch(self.client, staging, rules, self.tally, run.on_page, self.chains)
        if lists:
            await fetch.run(
                [lst.id for lst in lists], {lst.id: lst.name for lst in lists}, per_list
            )
        for m in settings.mappings:
            if self.tally.fetched and m.path.lower() not in fetch.seen:
                run.add_issues(
                    MAILJET, [(m.name, m.path, "no fetched contact has a value for this property")]
                )
        return Fetched([SyncedList(str(lst.id), lst.name, lst.subscriber_count) for lst in lists])

    async def _before_listings(self, settings: MailjetSettings) -> int:
        """The properties checked and the account's contacts counted, together: every round
        trip before the listings start adds to the run."""
        _, total = await asyncio.gather(
            self._check_properties(settings), self.client.count("contact", {}, "count contacts")
        )
        return total

    async def _check_properties(self, settings: MailjetSettings) -> None:
        """The properties the settings name must exist: a phone property that is gone would
        strip every number, a consent property that is gone would read as no consent."""
        names = {p.name.lower() for p in await self.client.get_properties()}
        for what, prop in (
            ("phone", settings.phone_property),
            ("SMS consent", settings.consent_property),
        ):
            if prop and prop.lower() not in names:
                raise SourceProblem(
                    f"Mailjet has no contact property '{prop}' (the {what} property). Choose "
                    f"another with `engage-desktop connect mailjet --phone-property NAME` "
                    f"(--consent-property for consent); nothing was changed."
                )

    def committed(self, plan: SourcePlan, fetched: Fetched, staged: int, now: float) -> None:
        self.repo.record_sync(staged, now)

    async def lists(self) -> list[SourceList]:
        return [
            SourceList(str(lst.id), lst.name, lst.subscriber_count)
            for lst in await self.client.get_lists()
        ]


def _retrieved(done: asyncio.Future[int]) -> None:
    if not done.cancelled():
        done.exception()
