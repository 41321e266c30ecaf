"""One set of actions behind every front door: the command line and the app call these.

Qt-free, like Electrum's `Commands`: the CLI parses and prints, `app.py` composes, neither
holds a business rule. Blocking actions (the database, the keyring) run where the caller
says: directly on the command line, on a worker thread in the app. Each action reports what
it changed (`Changes`) so that screens reload only their own data.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from engage_desktop.actions.connection import Connected, ConnectionActions, ConnectPlan
from engage_desktop.actions.credentials import NO_KEYRING, Credentials, KeyPlace
from engage_desktop.actions.gateway import GatewayActions
from engage_desktop.actions.imports import ImportActions
from engage_desktop.actions.mailjet import MailjetActions, MailjetClientFactory, default_client
from engage_desktop.actions.optouts import OptedOut, OptOutActions, Pushed
from engage_desktop.actions.outcomes import (
    EXIT_TABLE,
    ActionError,
    Changes,
    Exit,
    NeedsConfirmation,
)
from engage_desktop.actions.replies import ReplyActions
from engage_desktop.actions.sending import SendingActions
from engage_desktop.actions.sources import SourceActions
from engage_desktop.actions.status import Status, planned_run, read_status
from engage_desktop.storage.connection import ConnectionRepo
from engage_desktop.storage.database import Database
from engage_desktop.sync.events import Event, SyncRefused, SyncResult
from engage_desktop.sync.setup import ClientFactory
from engage_desktop.sync.sources.mailjet_keys import MailjetCredentials
from engage_desktop.sync.worker import run_once

__all__ = [
    "EXIT_TABLE",
    "NO_KEYRING",
    "ActionError",
    "Actions",
    "Changes",
    "ConnectPlan",
    "Connected",
    "Credentials",
    "Exit",
    "KeyPlace",
    "NeedsConfirmation",
    "OptedOut",
    "Pushed",
    "Status",
]


class Actions:
    """Everything a person can ask of Engage, on one database."""

    def __init__(
        self,
        db: Database,
        credentials: Credentials,
        make_client: ClientFactory,
        clock: Callable[[], float] = time.time,
        mailjet_credentials: MailjetCredentials | None = None,
        make_mailjet_client: MailjetClientFactory = default_client,
    ) -> None:
        self.db = db
        self.credentials = credentials
        self.clock = clock
        self.connection = ConnectionActions(db, credentials, make_client, clock)
        self.optouts = OptOutActions(db, credentials, make_client, clock)
        self.gateway = GatewayActions(db, clock=clock)
        self.sending = SendingActions(db, self.gateway, clock)
        self.replies = ReplyActions(db, self.gateway, self.optouts, clock)
        self.mailjet = MailjetActions(
            db, mailjet_credentials or MailjetCredentials(), make_mailjet_client, clock
        )
        self.sources = SourceActions(db, clock)
        self.imports = ImportActions(db, clock)

    def status(self) -> Status:
        """Blocking (asks the keyring where the key is)."""
        return read_status(self.db, self.credentials, self.clock)

    def next_run_at(self) -> float | None:
        """When the next automatic sync starts (the scheduler's own rule); no keyring call."""
        planned = planned_run(self.db, ConnectionRepo(self.db).get(), self.clock)
        return None if planned is None else planned.at

    async def sync(
        self,
        trigger: str,
        full: bool,
        on_event: Callable[[Event], None],
        who: str,
        source: str | None = None,
    ) -> SyncResult | SyncRefused:
        """One sync of every connected source (`source`: klaviyo or mailjet only) in this
        process (the command line); the app runs it as a child process."""
        conn = ConnectionRepo(self.db).get()
        mailjet = self.mailjet.access() if source != "klaviyo" else None
        alone = source == "klaviyo" or (mailjet is None and source is None)
        if conn is None and alone:
            return SyncRefused(
                "Not connected to Klaviyo yet: run `engage-desktop connect klaviyo …` first.",
                "config",
            )
        found = self.credentials.key_for(conn.account_id) if conn is not None else None
        if conn is not None and found is None and alone:
            return SyncRefused(
                "The API key is not available: " + NO_KEYRING
                if not self.credentials.keyring_usable()
                else "The API key is not in the keyring: connect again to enter it.",
                "config",
            )
        key = found[0] if found is not None else None
        return await run_once(
            self.db, conn, key, trigger, full, on_event, who, mailjet=mailjet, only=source
        )
