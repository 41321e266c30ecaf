"""Connecting Mailjet: check the key pair live, read what the wizard shows (lists with their
sizes, contact properties with sampled values and how many read as phone numbers), save.

Like Klaviyo's connection (actions/connection.py): connecting again keeps what it does not
name; a change that would make contacts messageable (Explicit → Inferred consent, another
default country) says how many first and needs a yes; a new consent mode applies at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from engage_desktop.actions.outcomes import ActionError, Changes, Exit, NeedsConfirmation
from engage_desktop.actions.widening import widening
from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.fields import FieldType
from engage_desktop.core.mapping import CONTACT_COLUMNS, MappingSpec, validate_mappings
from engage_desktop.core.sources import MAILJET
from engage_desktop.core.urls import UnsafeUrlError, check_base_url
from engage_desktop.mailjet.client import DEFAULT_BASE_URL, MailjetClient
from engage_desktop.mailjet.errors import AuthenticationError, MailjetError
from engage_desktop.mailjet.models import Property
from engage_desktop.storage.connection import ConnectionRepo
from engage_desktop.storage.consent_changes import (
    rederive_source,
)
from engage_desktop.storage.database import Database
from engage_desktop.storage.mailjet_settings import MailjetSettings, MailjetSettingsRepo
from engage_desktop.storage.source_settings import ensure_fields, field_types
from engage_desktop.sync.phones import is_region
from engage_desktop.sync.sources.base import SourceList
from engage_desktop.sync.sources.mailjet_keys import MailjetCredentials, MailjetKeys
from engage_desktop.sync.sources.mailjet_stage import read_consent, read_phone
from engage_desktop.sync.worker import MailjetAccess, mailjet_access

log = logging.getLogger(__name__)

MailjetClientFactory = Callable[[MailjetKeys, str], MailjetClient]
Lists = tuple[str, ...] | Literal["all"]  # "all": every list, including later ones; (): off
_TYPES = {"int": FieldType.NUMBER, "float": FieldType.NUMBER, "datetime": FieldType.DATE}


@dataclass(frozen=True)
class VerifiedMailjet:
    """A key pair Mailjet accepted, where, and the account's size."""

    keys: MailjetKeys
    base_url: str
    contacts: int
    lists: int


@dataclass(frozen=True)
class PropertySample:
    """A contact property as the wizard shows it: its type, sampled values, and what they
    read as (phone numbers for the phone property, true/false for the consent property)."""

    name: str
    datatype: str  # Mailjet's: str, int, float, bool, datetime
    sampled: int  # contacts sampled
    filled: int  # of those, with a value
    samples: tuple[str, ...]  # up to five distinct values
    phones: int  # values that read as phone numbers (in the default country)
    true: int  # values that read as true / false (a consent property)
    false: int
    suggested_type: FieldType  # the platform field type a mapping would take


@dataclass(frozen=True)
class MailjetPlan:
    """A verified key pair and the settings to save with it (None: keep what is saved)."""

    verified: VerifiedMailjet
    phone_property: str | None = None
    lists: Lists | None = None
    consent: ConsentMode | None = None
    consent_property: str | None = None  # "" clears it
    default_region: str | None = None
    mappings: tuple[MappingSpec, ...] | None = None


@dataclass(frozen=True)
class MailjetConnected:
    """What connecting Mailjet (or changing its settings) did."""

    settings: MailjetSettings
    key_place: str | None  # keyring | session | environment; None: the keys were not touched
    changes: Changes
    notes: tuple[str, ...] = ()


class MailjetActions:
    """The Mailjet connection's life."""

    def __init__(
        self,
        db: Database,
        credentials: MailjetCredentials,
        make_client: MailjetClientFactory,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.credentials = credentials
        self.make_client = make_client
        self.clock = clock

    # ----- checks that need Mailjet (async) ---------------------------------------------------
    async def verify(self, keys: MailjetKeys | None, base_url: str | None) -> VerifiedMailjet:
        """Ask Mailjet whether the pair works (None: the saved pair, at the saved address)."""
        saved = MailjetSettingsRepo(self.db).get()
        if keys is None:
            found = self.credentials.keys_for(saved.key_ref) if saved else None
            if found is None:
                raise ActionError(
                    "No Mailjet key pair: give it in MAILJET_API_KEY and MAILJET_API_SECRET."
                )
            keys = found[0]
        try:
            url = check_base_url(base_url or (saved.base_url if saved else DEFAULT_BASE_URL))
        except UnsafeUrlError as exc:
            raise ActionError(str(exc)) from None
        async with self._client(keys, url) as client:
            summary = await _ask(client.check_key())
        return VerifiedMailjet(keys, url, summary.contacts, summary.lists)

    async def lists(self, verified: VerifiedMailjet) -> list[SourceList]:
        """The account's lists with their sizes (active, subscribed members)."""
        async with self._client(verified.keys, verified.base_url) as client:
            found = await _ask(client.get_lists())
        return [SourceList(str(x.id), x.name, x.subscriber_count) for x in found]

    async def properties(
        self, verified: VerifiedMailjet, region: str | None = None
    ) -> list[PropertySample]:
        """Every contact property with values sampled from the first contacts."""
        region = region or self._region()
        async with self._client(verified.keys, verified.base_url) as client:
            props = await _ask(client.get_properties())
            sample = await _ask(client.sample_data())
        return [_sample(p, [d.values for d in sample], region) for p in props]

    async def check_plan(self, plan: MailjetPlan) -> MailjetPlan:
        """The properties and lists a plan names exist in Mailjet (ActionError naming the
        ones there are, otherwise); returns the plan."""
        v = plan.verified
        async with self._client(v.keys, v.base_url) as client:
            props = {p.name.lower(): p for p in await _ask(client.get_properties())}
            known = await _ask(client.get_lists()) if plan.lists not in (None, "all") else []
        names = ", ".join(sorted(p.name for p in props.values()))
        for name in (plan.phone_property, plan.consent_property):
            if name and name.lower() not in props:
                raise ActionError(f"Mailjet has no contact property '{name}'. Properties: {names}.")
        for m in plan.mappings or ():
            if m.path.lower() not in props:
                raise ActionError(
                    f"Mailjet has no contact property '{m.path}'. Properties: {names}."
                )
        if plan.lists not in (None, "all"):
            chosen = tuple(plan.lists or ())
            unknown = sorted(set(chosen) - {str(x.id) for x in known})
            if unknown or not chosen:
                shown = ", ".join(f"{x.id} ({x.name})" for x in known) or "none"
                raise ActionError(
                    f"Unknown Mailjet list id{'s' if len(unknown) != 1 else ''} "
                    f"{', '.join(unknown) or '(none given)'}. Lists in this account: {shown}."
                )
        return plan

    def _client(self, keys: MailjetKeys, base_url: str) -> MailjetClient:
        try:
            return self.make_client(keys, base_url)
        except UnsafeUrlError as exc:
            raise ActionError(str(exc)) from None

    # ----- saving (blocking: the keyring and the database) -----------------------------------
    def connect(self, plan: MailjetPlan, confirm: bool = False) -> MailjetConnected:
        """Save the connection: the same account keeps what the plan does not name; another
        account (or the first) needs the phone property and the lists."""
        repo = MailjetSettingsRepo(self.db)
        saved = repo.get()
        v = plan.verified
        same = saved is not None and saved.key_ref == v.keys.ref
        old = saved if same else None
        phone_property = plan.phone_property or (old.phone_property if old else None)
        if phone_property is None or (plan.lists is None and old is None):
            raise ActionError(
                "A new Mailjet connection needs the phone property and the lists to sync "
                "(--phone-property NAME and --lists all|ID,ID)."
            )
        consent = plan.consent or (old.consent_mode if old else ConsentMode.EXPLICIT)
        consent_property = (
            (plan.consent_property or None)
            if plan.consent_property is not None
            else (old.consent_property if old else None)
        )
        region = check_region(
            plan.default_region or (old.default_region if old else self._region())
        )
        lists = (
            (None if plan.lists == "all" else tuple(plan.lists))
            if plan.lists is not None
            else (old.lists if old else ())
        )
        mappings = plan.mappings if plan.mappings is not None else (old.mappings if old else ())
        problems = validate_mappings(list(mappings))
        types = field_types(self.db)
        for m in mappings:
            if m.name not in CONTACT_COLUMNS and types.get(m.name, m.type) is not m.type:
                problems.append(f"'{m.name}' is a {types[m.name].value} field: map it as one.")
        if problems:
            raise ActionError(" ".join(problems))
        if old is not None:
            self._check_widening(old, consent, region, confirm)
        place = self.credentials.keep(v.keys)
        settings = MailjetSettings(
            v.base_url,
            v.keys.ref,
            v.keys.hint,
            phone_property,
            lists,
            consent,
            consent_property,
            region,
            tuple(mappings),
            key_in_keyring=place == "keyring",
        )
        if old is not None:  # what the syncs remember stays
            settings = replace(
                settings,
                last_full_at=old.last_full_at,
                last_full_count=old.last_full_count,
                needs_rederive=old.needs_rederive,
            )
        with self.db.atomic():
            settings = repo.save(settings)
            ensure_fields(
                self.db, [(m.name, m.type) for m in mappings if m.name not in CONTACT_COLUMNS]
            )
        rederived = 0
        if old is not None and old.consent_mode is not consent:
            rederived = rederive_source(self.db, MAILJET, {MAILJET: consent}, self.clock())
        log.info("connected to Mailjet (key %s)", v.keys.hint)
        notes = []
        if rederived:
            notes.append(
                f"{rederived:,} contacts changed SMS status under {consent.value} consent."
            )
        if place == "session":
            notes.append(
                "This computer has no usable keyring, so the Mailjet keys are kept for this "
                "session only; on a server, set MAILJET_API_KEY and MAILJET_API_SECRET."
            )
        return MailjetConnected(
            settings, place, Changes(connection=True, contacts=rederived > 0), tuple(notes)
        )

    def disconnect(self) -> Changes:
        """Stop syncing Mailjet: forget the connection and the keys; contacts, their Mailjet
        records and groups stay until a sync without Mailjet changes them."""
        repo = MailjetSettingsRepo(self.db)
        saved = repo.get()
        if saved is None:
            return Changes()
        self.credentials.forget(saved.key_ref)
        repo.delete()
        return Changes(connection=True)

    def settings(self) -> MailjetSettings | None:
        return MailjetSettingsRepo(self.db).get()

    def access(self) -> MailjetAccess | None:
        """The connection and its key pair, for a sync; None when either is missing
        (blocking: the keyring may be asked)."""
        return mailjet_access(self.db, self.credentials)

    def key_place(self) -> str | None:
        """Where the keys are: environment, session, keyring; None when missing (blocking)."""
        saved = self.settings()
        found = self.credentials.keys_for(saved.key_ref) if saved else None
        return None if found is None else found[1]

    def widening(
        self, saved: MailjetSettings, consent: ConsentMode, region: str
    ) -> list[tuple[int, str]]:
        """What would become messageable: (how many, in words), one entry per cause."""
        was = (saved.consent_mode, saved.default_region)
        return widening(self.db, MAILJET, was, (consent, region), "Mailjet ")

    def _check_widening(
        self, saved: MailjetSettings, consent: ConsentMode, region: str, confirm: bool
    ) -> None:
        found = self.widening(saved, consent, region)
        if found and not confirm:
            raise NeedsConfirmation("; ".join(t for _, t in found) + ".", sum(n for n, _ in found))

    def _region(self) -> str:
        """The default country when none is named: Klaviyo's, else US."""
        conn = ConnectionRepo(self.db).get()
        return conn.default_region if conn else "US"


T = TypeVar("T")


async def _ask(call: Awaitable[T]) -> T:
    """Mailjet's answer, or an ActionError saying what to do."""
    try:
        return await call
    except AuthenticationError as exc:
        raise ActionError(exc.user_message, Exit.CONFIG) from None
    except MailjetError as exc:
        raise ActionError(exc.user_message, Exit.FAILED) from None


def check_region(code: str) -> str:
    region = code.strip().upper()
    if not is_region(region):
        raise ActionError(
            f"'{code}' is not a country code phone numbers can use: give a two-letter ISO code "
            f"such as US, GB, DE or AU."
        )
    return region


def _sample(prop: Property, values: list[dict[str, object]], region: str) -> PropertySample:
    found = [v for d in values if (v := _value(d, prop.name)) not in (None, "")]
    texts = [str(v) for v in found]
    phones = sum(1 for v in found if read_phone(v, region)[1] is not None)
    true = false = 0
    for v in found:
        try:
            said = read_consent(v)
        except ValueError:
            continue
        true += said == "SUBSCRIBED"
        false += said == "UNSUBSCRIBED"
    return PropertySample(
        prop.name,
        prop.datatype,
        len(values),
        len(found),
        tuple(dict.fromkeys(t[:80] for t in texts))[:5],
        phones,
        true,
        false,
        _TYPES.get(prop.datatype, FieldType.TEXT),
    )


def _value(values: dict[str, object], name: str) -> object:
    if name in values:
        return values[name]
    lowered = name.lower()
    return next((v for k, v in values.items() if k.lower() == lowered), None)


def default_client(keys: MailjetKeys, base_url: str) -> MailjetClient:
    """A client for a person waiting (the wizard, the command line): few retries."""
    return MailjetClient(
        keys.key, keys.secret, base_url, timeout_s=10.0, max_attempts=4, max_wait_s=20.0
    )
