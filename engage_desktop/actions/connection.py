"""Connect, reconnect, change settings, disconnect: one behaviour for the app and the CLI.

Connecting again keeps what it does not name: watermarks, schedule, consent mode, lists,
region and mappings stay unless the user changes them. A change that would make contacts
messageable (Explicit → Inferred consent, another default country) says how many first and
needs an explicit yes. A new consent mode applies to every contact at once, not at the
next sync.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from engage_desktop.actions.credentials import NO_KEYRING, Credentials, KeyPlace
from engage_desktop.actions.outcomes import ActionError, Changes, Exit, NeedsConfirmation
from engage_desktop.actions.widening import widening
from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.mapping import MappingSpec, validate_mappings
from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.setup import DEFAULT_BASE_URL, SetupDraft, VerifiedKey
from engage_desktop.core.sources import KLAVIYO
from engage_desktop.core.urls import UnsafeUrlError, check_base_url
from engage_desktop.klaviyo.errors import AuthenticationError, KlaviyoError
from engage_desktop.klaviyo.models import KlaviyoList
from engage_desktop.storage.connection import Connection, ConnectionRepo
from engage_desktop.storage.consent_changes import (
    rederive_source,
)
from engage_desktop.storage.database import Database
from engage_desktop.storage.fields import FieldRepo
from engage_desktop.sync.phones import is_region
from engage_desktop.sync.setup import ClientFactory, KeyRefused, KlaviyoSetup

log = logging.getLogger(__name__)

Lists = tuple[str, ...] | Literal["all"]  # "all": every list, including later ones; (): off


@dataclass(frozen=True)
class ConnectPlan:
    """A verified key and the settings to save with it (None: keep what is saved)."""

    verified: VerifiedKey
    consent: ConsentMode | None = None
    lists: Lists | None = None
    default_region: str | None = None
    mappings: tuple[MappingSpec, ...] | None = None


@dataclass(frozen=True)
class Connected:
    """What connecting (or changing settings) did."""

    connection: Connection
    key_place: KeyPlace | None  # None: the key was not touched
    changes: Changes
    notes: tuple[str, ...] = ()  # sentences to show: a full sync next, the key not kept


class ConnectionActions:
    """The Klaviyo connection's life."""

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

    # ----- checks that need Klaviyo (async) ---------------------------------------------------
    async def verify(self, key: ApiKey | None, base_url: str | None) -> VerifiedKey:
        """Ask Klaviyo whose key this is (None: the saved key, at the saved base URL)."""
        saved = ConnectionRepo(self.db).get()
        if key is None:
            found = self.credentials.key_for(saved.account_id) if saved else None
            if found is None:
                raise ActionError(
                    "No API key: give it in KLAVIYO_API_KEY or on stdin with --api-key-stdin."
                )
            key = found[0]
        return await verify_key(
            self.make_client, key, base_url or (saved.base_url if saved else None)
        )

    async def lists(self, verified: VerifiedKey) -> list[KlaviyoList]:
        setup = KlaviyoSetup(self.make_client)
        try:
            return await setup.lists(verified)
        except KlaviyoError as exc:
            raise ActionError(exc.user_message, Exit.FAILED) from None
        finally:
            await setup.aclose()

    # ----- saving (blocking: the keyring and the database) -----------------------------------
    def connect(self, plan: ConnectPlan, confirm: bool = False) -> Connected:
        """Save a connection: the same account keeps what the plan does not name; another
        account (or the first) needs a consent mode and lists."""
        repo = ConnectionRepo(self.db)
        saved = repo.get()
        v = plan.verified
        same = saved is not None and saved.account_id == v.account_id
        if not same and (plan.consent is None or plan.lists is None):
            raise ActionError(
                "A new connection needs the SMS consent mode and the lists to sync "
                "(--consent inferred|explicit and --lists all|ID,ID)."
            )
        consent = plan.consent or (saved.consent_mode if saved and same else ConsentMode.EXPLICIT)
        region = check_region(
            plan.default_region or (saved.default_region if same and saved else "US")
        )
        lists = (
            _stored_lists(plan.lists) if plan.lists is not None else (saved.lists if saved else ())
        )
        if plan.mappings is not None:
            problems = validate_mappings(list(plan.mappings))
            if problems:
                raise ActionError(" ".join(problems))
        if same and saved is not None:
            self._check_widening(saved, consent, region, confirm)
        place = self.credentials.keep(v.account_id, v.key)
        with self.db.atomic():
            if same and saved is not None:
                conn = repo.change(
                    account_name=v.account_name,
                    base_url=v.base_url,
                    consent_mode=consent,
                    lists=lists,
                    default_region=region,
                    key_in_keyring=place is KeyPlace.KEYRING,
                )
            else:  # the first connection, or another account: its syncs start afresh
                conn = repo.save(
                    Connection(
                        v.account_id,
                        v.account_name,
                        v.base_url,
                        consent,
                        lists,
                        default_region=region,
                        key_in_keyring=place is KeyPlace.KEYRING,
                    )
                )
            if plan.mappings is not None and conn.lists != ():
                _save_mappings(self.db, plan.mappings)
        rederived = self._apply_consent(saved if same else None, conn)
        log.info("connected to Klaviyo account %s", v.account_id)
        notes = list(self._notes(saved if same else None, conn, rederived))
        if place is KeyPlace.SESSION:
            notes.append(NO_KEYRING)
        return Connected(
            conn, place, Changes(connection=True, contacts=rederived > 0), tuple(notes)
        )

    def reconnect(self, verified: VerifiedKey) -> Connected:
        """A new key for the same account (the old one is gone, locked or revoked); nothing
        else changes: consent, lists, region and mappings stay as they are."""
        repo = ConnectionRepo(self.db)
        saved = repo.get()
        if saved is None:
            raise ActionError("Not connected to Klaviyo: install it first.")
        if verified.account_id != saved.account_id:
            raise ActionError(
                f"This key belongs to {verified.account_name} ({verified.account_id}), but Engage "
                f"is connected to {saved.account_name} ({saved.account_id}). To switch "
                f"accounts, disconnect first (See details → Connection), then install Klaviyo."
            )
        place = self.credentials.keep(verified.account_id, verified.key)
        conn = repo.change(
            account_name=verified.account_name,
            base_url=verified.base_url,
            key_in_keyring=place is KeyPlace.KEYRING,
        )
        notes = (NO_KEYRING,) if place is KeyPlace.SESSION else ()
        return Connected(conn, place, Changes(connection=True), notes)

    def change_settings(
        self,
        consent: ConsentMode | None = None,
        default_region: str | None = None,
        lists: Lists | None = None,
        mappings: tuple[MappingSpec, ...] | None = None,
        schedule_hours: int | None = None,
        confirm: bool = False,
    ) -> Connected:
        """Change what the user named; the rest stays. No key needed."""
        repo = ConnectionRepo(self.db)
        saved = repo.get()
        if saved is None:
            raise ActionError("Not connected to Klaviyo: install it first.")
        region = check_region(default_region) if default_region else saved.default_region
        new_consent = consent or saved.consent_mode
        self._check_widening(saved, new_consent, region, confirm)
        if mappings is not None:
            problems = validate_mappings(list(mappings))
            if problems:
                raise ActionError(" ".join(problems))
        values: dict[str, object] = {"consent_mode": new_consent, "default_region": region}
        if lists is not None:
            values["lists"] = _stored_lists(lists)
        if schedule_hours is not None:
            values["schedule_hours"] = schedule_hours
        with self.db.atomic():
            conn = repo.change(**values)
            if mappings is not None:
                _save_mappings(self.db, mappings)
        rederived = self._apply_consent(saved, conn)
        return Connected(
            conn,
            None,
            Changes(connection=True, contacts=rederived > 0),
            tuple(self._notes(saved, conn, rederived)),
        )

    def disconnect(self) -> Changes:
        """Stop syncing: forget the connection and the key; contacts and opt-outs stay."""
        repo = ConnectionRepo(self.db)
        saved = repo.get()
        if saved is None:
            return Changes()
        self.credentials.forget(saved.account_id)
        repo.delete()
        log.info("disconnected from Klaviyo account %s", saved.account_id)
        return Changes(connection=True)

    # ----- consent -----------------------------------------------------------------------------
    def widening(
        self, saved: Connection, consent: ConsentMode, region: str
    ) -> list[tuple[int, str]]:
        """What would become messageable: (how many, in words), one entry per cause."""
        was = (saved.consent_mode, saved.default_region)
        return widening(self.db, KLAVIYO, was, (consent, region))

    def _check_widening(
        self, saved: Connection, consent: ConsentMode, region: str, confirm: bool
    ) -> None:
        found = self.widening(saved, consent, region)
        if found and not confirm:
            raise NeedsConfirmation(
                "; ".join(text for _, text in found) + ".", sum(n for n, _ in found)
            )

    def _apply_consent(self, saved: Connection | None, conn: Connection) -> int:
        """A changed consent mode re-derives every Klaviyo contact now (contacts that may no
        longer be messaged stop being messageable before any send)."""
        if saved is None or saved.consent_mode is conn.consent_mode:
            return 0
        return rederive_source(self.db, KLAVIYO, {KLAVIYO: conn.consent_mode}, self.clock())

    @staticmethod
    def _notes(saved: Connection | None, conn: Connection, rederived: int) -> list[str]:
        notes = []
        if rederived:
            notes.append(
                f"{_count(rederived, 'contact')} changed SMS status under "
                f"{conn.consent_mode.value} consent."
            )
        if saved is not None and saved.lists != conn.lists and conn.lists != ():
            notes.append("The lists changed: the next sync is a full sync.")
        if saved is not None and saved.default_region != conn.default_region:
            notes.append("The default country changed: the next sync reads every number again.")
        return notes


async def verify_key(make_client: ClientFactory, key: ApiKey, base_url: str | None) -> VerifiedKey:
    """Ask Klaviyo whose key this is and which scopes it lacks; an unsafe base URL, a refused
    key or a missing read scope is an ActionError saying what to do."""
    try:
        url = check_base_url(base_url or DEFAULT_BASE_URL)
    except UnsafeUrlError as exc:
        raise ActionError(str(exc)) from None
    setup = KlaviyoSetup(make_client)
    try:
        return await setup.verify(key, url)
    except (AuthenticationError, KeyRefused) as exc:
        raise ActionError(exc.user_message, Exit.CONFIG) from None
    except KlaviyoError as exc:
        raise ActionError(exc.user_message, Exit.FAILED) from None
    finally:
        await setup.aclose()


def check_region(code: str) -> str:
    region = code.strip().upper()
    if not is_region(region):
        raise ActionError(
            f"'{code}' is not a country code phone numbers can use: give a two-letter ISO code "
            f"such as US, GB, DE or AU."
        )
    return region


def _stored_lists(lists: Lists) -> tuple[str, ...] | None:
    return None if lists == "all" else tuple(lists)


def _save_mappings(db: Database, specs: tuple[MappingSpec, ...]) -> None:
    FieldRepo(db).replace_mappings(specs)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def connect_plan_from(
    verified: VerifiedKey,
    known_lists: list[KlaviyoList],
    consent: ConsentMode | None,
    lists: Lists | None,
    default_region: str | None,
    mappings: tuple[MappingSpec, ...] | None,
) -> ConnectPlan:
    """A plan from what the command line named, the list ids checked against Klaviyo's."""
    if lists not in (None, "all"):
        chosen = tuple(lists or ())
        unknown = sorted(set(chosen) - {lst.id for lst in known_lists})
        if unknown or not chosen:
            names = ", ".join(f"{lst.id} ({lst.name})" for lst in known_lists) or "none"
            raise ActionError(
                f"Unknown list id{'s' if len(unknown) != 1 else ''} "
                f"{', '.join(unknown) or '(none given)'}. Lists in this account: {names}."
            )
    return replace(
        ConnectPlan(verified),
        consent=consent,
        lists=lists,
        default_region=default_region,
        mappings=mappings,
    )


def plan_from_draft(draft: SetupDraft) -> ConnectPlan:
    """What the install wizard collected, as a plan to connect."""
    if draft.verified is None or draft.consent is None:
        raise ActionError("Verify the key and choose the SMS consent mode first.")
    chosen = draft.chosen_lists
    return ConnectPlan(
        draft.verified,
        draft.consent,
        "all" if chosen is None else chosen,
        draft.default_region,
        tuple(draft.mappings) if draft.sync_contacts else None,
    )
