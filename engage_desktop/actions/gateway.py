"""The SMS gateway's connection: verify, connect, status, disconnect, unblock a number.

The key and secret come from the environment first (`MESSAGEMEDIA_API_KEY` and
`MESSAGEMEDIA_API_SECRET`, for servers and scripts), then what was typed in this session,
then the system keyring (service `engage-desktop-messagemedia`). The database says only
whether they are in the keyring. Keyring calls block: never on the GUI thread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engage_desktop.actions.credentials import KeyPlace
from engage_desktop.actions.outcomes import ActionError, Changes, Exit
from engage_desktop.core.messaging import (
    DEFAULT_GATEWAY_URL,
    DEFAULT_OPT_OUT_KEYWORDS,
    GatewayCredentials,
    is_e164,
    parse_keywords,
)
from engage_desktop.core.secrets import redact
from engage_desktop.core.urls import UnsafeUrlError, check_base_url
from engage_desktop.messagemedia import AuthenticationError, GatewayError, MessageMediaClient
from engage_desktop.storage.campaigns import CampaignRepo
from engage_desktop.storage.database import Database
from engage_desktop.storage.gateway_blacklist import BlacklistRepo
from engage_desktop.storage.gateway_settings import GatewayKeyStore, GatewayRepo, GatewaySettings
from engage_desktop.storage.suppressions import is_suppressed
from engage_desktop.sync.phones import normalize_phone

KEY_ENV = "MESSAGEMEDIA_API_KEY"
SECRET_ENV = "MESSAGEMEDIA_API_SECRET"
NO_GATEWAY_KEYRING = (
    "This computer has no usable keyring, so the MessageMedia key and secret cannot be stored. "
    "Unlock or install one and connect again — or, on a server, set "
    f"{KEY_ENV} and {SECRET_ENV} for every command."
)
ClientMaker = Callable[[GatewayCredentials, str], MessageMediaClient]


def default_client(credentials: GatewayCredentials, base_url: str) -> MessageMediaClient:
    return MessageMediaClient(credentials, base_url)


class GatewayCredentialStore:
    """Finds, keeps and forgets the gateway's key and secret."""

    def __init__(
        self, store: GatewayKeyStore | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        self.store = store or GatewayKeyStore()
        self._env = os.environ if env is None else env
        self._session: GatewayCredentials | None = None

    def environment(self) -> GatewayCredentials | None:
        """Both from the environment; one without the other is an error saying so."""
        key, secret = self._env.get(KEY_ENV, "").strip(), self._env.get(SECRET_ENV, "").strip()
        if bool(key) != bool(secret):
            missing = SECRET_ENV if key else KEY_ENV
            raise ActionError(f"{missing} is not set: MessageMedia needs both key and secret.")
        return GatewayCredentials(key, secret) if key else None

    def current(self) -> tuple[GatewayCredentials, KeyPlace] | None:
        typed = self.environment()
        if typed is not None:
            return typed, KeyPlace.ENVIRONMENT
        if self._session is not None:
            return self._session, KeyPlace.SESSION
        stored = self.store.load()
        return (stored, KeyPlace.KEYRING) if stored is not None else None

    def keep(self, credentials: GatewayCredentials) -> KeyPlace:
        if self.store.save(credentials):
            self._session = None
            return KeyPlace.KEYRING
        self._session = credentials
        return KeyPlace.SESSION

    def forget(self) -> None:
        self._session = None
        self.store.delete()

    def keyring_usable(self) -> bool:
        return self.store.usable()


@dataclass(frozen=True)
class VerifiedGateway:
    """Credentials the gateway accepted at this base URL."""

    credentials: GatewayCredentials
    base_url: str


@dataclass(frozen=True)
class GatewayConnected:
    """What connecting (or changing the gateway's settings) did."""

    settings: GatewaySettings
    key_place: KeyPlace | None
    changes: Changes
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class GatewayStatus:
    """Where the gateway stands, for `status` screens."""

    settings: GatewaySettings | None
    key_place: KeyPlace | None
    unknown_recipients: int  # sends whose outcome a person must decide
    sending: tuple[int, ...]  # campaigns being sent now
    blocked_but_subscribed: int

    def as_json(self) -> dict[str, Any]:
        s = self.settings
        return {
            "connected": s is not None,
            "base_url": None if s is None else redact(s.base_url),
            "source_number": None if s is None else s.source_number,
            "key": None if self.key_place is None else self.key_place.value,
            "opt_out_keywords": [] if s is None else list(s.opt_out_keywords),
            "blacklist_opt_outs": None if s is None else s.blacklist_opt_outs,
            "last_poll_at": None if s is None else s.last_poll_at,
            "last_poll_error": None if s is None else s.last_poll_error,
            "unknown_recipients": self.unknown_recipients,
            "sending": list(self.sending),
            "blocked_but_subscribed": self.blocked_but_subscribed,
        }


class GatewayActions:
    """The SMS gateway's connection's life; builds its clients for the other actions."""

    def __init__(
        self,
        db: Database,
        credentials: GatewayCredentialStore | None = None,
        make_client: ClientMaker = default_client,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.credentials = credentials or GatewayCredentialStore()
        self.make_client = make_client
        self.clock = clock

    # ----- checks that need the gateway (async) ------------------------------------------
    async def verify(
        self, credentials: GatewayCredentials | None = None, base_url: str | None = None
    ) -> VerifiedGateway:
        """A live check (None: the credentials and base URL in use)."""
        saved = GatewayRepo(self.db).get()
        if credentials is None:
            found = self.credentials.current()
            if found is None:
                raise ActionError(
                    f"No MessageMedia key and secret: set {KEY_ENV} and {SECRET_ENV}."
                )
            credentials = found[0]
        try:
            url = check_base_url(base_url or (saved.base_url if saved else DEFAULT_GATEWAY_URL))
        except UnsafeUrlError as exc:
            raise ActionError(str(exc)) from None
        async with self.make_client(credentials, url) as client:
            try:
                await client.verify()
            except AuthenticationError as exc:
                raise ActionError(exc.user_message, Exit.CONFIG) from None
            except GatewayError as exc:
                raise ActionError(exc.user_message, Exit.FAILED) from None
        return VerifiedGateway(credentials, url)

    # ----- saving (blocking: the keyring and the database) ---------------------------------
    def connect(
        self,
        verified: VerifiedGateway,
        source_number: str | None = None,
        keywords: tuple[str, ...] | None = None,
        blacklist_opt_outs: bool | None = None,
    ) -> GatewayConnected:
        """Save the connection; what is not named (None) stays as it was."""
        source = check_source_number(source_number) if source_number else None
        words = parse_keywords(keywords) if keywords is not None else None
        if words == ():
            raise ActionError("Give at least one opt-out word (STOP, …).")
        place = self.credentials.keep(verified.credentials)
        repo = GatewayRepo(self.db)
        saved = repo.get()
        now = self.clock()
        settings = GatewaySettings(
            base_url=verified.base_url,
            source_number=source or (saved.source_number if saved else None),
            key_in_keyring=place is KeyPlace.KEYRING,
            key_hint=verified.credentials.masked,
            opt_out_keywords=words
            or (saved.opt_out_keywords if saved else DEFAULT_OPT_OUT_KEYWORDS),
            blacklist_opt_outs=blacklist_opt_outs
            if blacklist_opt_outs is not None
            else (saved.blacklist_opt_outs if saved else True),
            connected_at=saved.connected_at if saved else now,
            verified_at=now,
            last_poll_at=saved.last_poll_at if saved else None,
            last_reconcile_at=saved.last_reconcile_at if saved else None,
        )
        repo.save(settings)
        notes = (NO_GATEWAY_KEYRING,) if place is KeyPlace.SESSION else ()
        return GatewayConnected(settings, place, Changes(connection=True), notes)

    def disconnect(self) -> Changes:
        """Forget the gateway's connection and credentials; campaigns and replies stay."""
        self.credentials.forget()
        GatewayRepo(self.db).delete()
        return Changes(connection=True)

    def settings(self) -> GatewaySettings:
        found = GatewayRepo(self.db).get()
        if found is None:
            raise ActionError(
                "The SMS gateway is not connected: run `engage-desktop connect messagemedia`."
            )
        return found

    def client(self) -> MessageMediaClient:
        """A client for the saved connection (ActionError when there is none, or no key)."""
        settings = self.settings()
        found = self.credentials.current()
        if found is None:
            raise ActionError(
                NO_GATEWAY_KEYRING
                if not self.credentials.keyring_usable()
                else "The MessageMedia key and secret are not in the keyring: connect again."
            )
        try:
            return self.make_client(found[0], settings.base_url)
        except UnsafeUrlError as exc:
            raise ActionError(str(exc)) from None

    def status(self) -> GatewayStatus:
        """Blocking (asks the keyring where the key is)."""
        settings = GatewayRepo(self.db).get()
        found = self.credentials.current() if settings is not None else None
        unknown = CampaignRepo(self.db).unknown_total()
        sending = tuple(c.id for c in CampaignRepo(self.db).latest() if c.sender is not None)
        blocked = len(BlacklistRepo(self.db).blocked_but_subscribed())
        return GatewayStatus(
            settings, None if found is None else found[1], unknown, sending, blocked
        )

    async def unblock(self, phone: str) -> bool:
        """A person takes a number off the gateway's blacklist (someone who re-subscribed).
        Refused while an opt-out of the number stands here."""
        number = check_source_number(phone)
        if is_suppressed(self.db, number):
            raise ActionError(f"{number} is opted out here: it stays on the blacklist.")
        async with self.client() as client:
            try:
                removed = await client.remove_from_blacklist(number)
            except GatewayError as exc:
                raise ActionError(exc.user_message, Exit.FAILED) from None
        BlacklistRepo(self.db).unblocked(number, self.clock())
        return removed


def check_source_number(text: str) -> str:
    """A number in E.164 (+ and country code) that phone numbering knows."""
    number = text.strip().replace(" ", "")
    if not is_e164(number) or normalize_phone(number, "US") != number:
        raise ActionError(
            f"'{text}' is not a phone number in international form: write it with + and the "
            f"country code, such as +61491570156."
        )
    return number
