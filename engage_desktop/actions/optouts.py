"""Opting out, by contact or by number, and telling Klaviyo: one way for the app and the CLI.

An opt-out is recorded first (with its write-back queued in the same transaction), waiting
for a sync's commit if one holds the database; telling Klaviyo comes after and may fail or
take long without the opt-out being at risk.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from engage_desktop.actions.credentials import Credentials
from engage_desktop.actions.outcomes import ActionError, Changes
from engage_desktop.core.sources import LOCAL
from engage_desktop.core.urls import UnsafeUrlError
from engage_desktop.storage.connection import ConnectionRepo
from engage_desktop.storage.contacts import ContactRepo
from engage_desktop.storage.database import Database, patiently
from engage_desktop.storage.outbox import OutboxRepo
from engage_desktop.sync.phones import normalize_phone
from engage_desktop.sync.pusher import OptOutPusher
from engage_desktop.sync.setup import ClientFactory


@dataclass(frozen=True)
class OptedOut:
    """A recorded opt-out."""

    contact_id: int
    phone: str | None  # the number, when it was given as one
    newly: bool  # False: it was opted out already (its number's opt-out still takes this time)
    known: bool  # False: the number was not a contact; it is remembered as an opted-out number
    changes: Changes


@dataclass(frozen=True)
class Pushed:
    """What telling Klaviyo did."""

    sent: int
    pending: int
    error: str | None = None  # why some are still waiting (no key, Klaviyo unreachable, …)
    timed_out: bool = False


class OptOutActions:
    """Records opt-outs and sends the queue to Klaviyo."""

    def __init__(
        self,
        db: Database,
        credentials: Credentials,
        make_client: ClientFactory,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.credentials = credentials
        self.make_client = make_client
        self.clock = clock

    def opt_out_contact(
        self, contact_id: int, reason: str, on_wait: Callable[[], None] = lambda: None
    ) -> OptedOut:
        """Blocking (it may wait for a sync's commit: `on_wait` is told once)."""
        repo = ContactRepo(self.db)
        newly = patiently(
            self.db, lambda: repo.mark_opted_out(contact_id, reason, self.clock(), LOCAL), on_wait
        )
        return OptedOut(
            contact_id,
            None,
            newly,
            True,
            Changes(contacts=True, lists=True, outbox=True),
        )

    def parse_number(self, text: str) -> str:
        conn = ConnectionRepo(self.db).get()
        region = conn.default_region if conn else "US"
        phone = normalize_phone(text.strip(), region)
        if phone is None:
            raise ActionError(
                f"'{text}' is not a valid phone number (numbers without +country are read as "
                f"{region} numbers)."
            )
        return phone

    def opt_out_number(
        self, text: str, reason: str, on_wait: Callable[[], None] = lambda: None
    ) -> OptedOut:
        """A number written any way; one that is not a contact is remembered as opted out."""
        phone = self.parse_number(text)
        repo = ContactRepo(self.db)

        def record() -> tuple[int, bool, bool]:
            cid = repo.find_by_phone(phone)
            if cid is None:
                return repo.add_opted_out(phone, reason, self.clock(), LOCAL), True, False
            return cid, repo.mark_opted_out(cid, reason, self.clock(), LOCAL), True

        cid, newly, known = patiently(self.db, record, on_wait)
        return OptedOut(cid, phone, newly, known, Changes(contacts=True, lists=True, outbox=True))

    async def push(self, timeout_s: float | None = None) -> Pushed:
        """Send what is due now; after `timeout_s` the rest stays queued (never lost)."""
        outbox = OutboxRepo(self.db)
        conn = ConnectionRepo(self.db).get()
        if conn is None:
            return Pushed(0, outbox.pending_count(), "not connected to Klaviyo")
        found = self.credentials.key_for(conn.account_id)
        if found is None:
            return Pushed(0, outbox.pending_count(), "the API key is not available")
        try:
            client = self.make_client(found[0], conn.base_url)
        except UnsafeUrlError as exc:
            return Pushed(0, outbox.pending_count(), str(exc))
        async with client:
            try:
                result = await asyncio.wait_for(
                    OptOutPusher(outbox, client, self.clock).push_due(), timeout_s
                )
            except TimeoutError:
                return Pushed(0, outbox.pending_count(), "Klaviyo did not answer in time", True)
        return Pushed(result.sent, result.pending, result.error)
