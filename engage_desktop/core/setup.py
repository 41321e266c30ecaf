"""The install wizard's rules, without a GUI: what each step needs and which step comes next.

The wizard collects a `SetupDraft`; nothing is saved until Finish, so Cancel leaves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.countries import country_name
from engage_desktop.core.mapping import CONTACT_COLUMNS, MappingSpec, validate_mappings
from engage_desktop.core.secrets import ApiKey, looks_like_private_key
from engage_desktop.core.words import plural

DEFAULT_BASE_URL = "https://a.klaviyo.com"


class Step(IntEnum):
    """The wizard's pages, in order."""

    API_KEY = 0
    CONSENT = 1
    CONTACTS = 2
    MAP_FIELDS = 3
    FINISH = 4


@dataclass(frozen=True)
class VerifiedKey:
    """A key Klaviyo accepted, for the account it belongs to."""

    key: ApiKey
    base_url: str
    account_id: str
    account_name: str
    missing_scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetupDraft:
    """Everything the wizard collected so far (immutable: each page makes a new one)."""

    verified: VerifiedKey | None = None
    consent: ConsentMode | None = None  # nothing chosen for the user: they must pick
    sync_contacts: bool = True
    every_list: bool = False  # every list, including lists created later
    lists: tuple[str, ...] = ()
    mappings: tuple[MappingSpec, ...] = ()
    # The mapping page's unresolved warnings, one line each ("Shoe ← properties.shoe: …"):
    # Finish repeats them, so nobody connects past one unseen.
    mapping_warnings: tuple[str, ...] = ()
    default_region: str = "US"
    demo: bool = False

    @property
    def chosen_lists(self) -> tuple[str, ...] | None:
        """What the connection stores: None for every list, () when contact sync is off."""
        if not self.sync_contacts:
            return ()
        return None if self.every_list else self.lists


def key_problem(text: str) -> str | None:
    """Why this text cannot be a private key (checked before asking Klaviyo), or None."""
    value = text.strip()
    if not value:
        return "Paste your Klaviyo private API key."
    if value.startswith("pk_") and not looks_like_private_key(value):
        return "This key looks cut short: a private key is pk_ followed by at least 20 characters."
    if not value.startswith("pk_"):
        return (
            "Private API keys start with pk_. A 6-character public key (site id) cannot read "
            "contacts: create a private key under Settings → API keys in Klaviyo."
        )
    return None


def base_url_problem(text: str) -> str | None:
    value = text.strip()
    if not value.startswith(("https://", "http://")) or len(value) < 10:
        return "The base URL must start with https:// (for example https://a.klaviyo.com)."
    return None


def is_verified(draft: SetupDraft, key_text: str, base_url: str) -> bool:
    """Next is allowed only for the very text (and URL) that was verified."""
    v = draft.verified
    return (
        v is not None
        and v.key.reveal() == key_text.strip()
        and v.base_url == base_url.strip().rstrip("/")
    )


def lists_problem(draft: SetupDraft) -> str | None:
    if draft.sync_contacts and not draft.every_list and not draft.lists:
        return "Choose at least one list to sync, or untick “Sync my contacts”."
    return None


def default_mappings() -> tuple[MappingSpec, ...]:
    """The built-in rows: our contact columns and the Klaviyo attributes they default to."""
    return tuple(MappingSpec(name, path) for name, path in CONTACT_COLUMNS.items())


def mapping_problems(custom: list[MappingSpec]) -> list[str]:
    """Errors that block Next on the mapping page (warnings never do)."""
    return validate_mappings(custom)


def next_step(draft: SetupDraft, current: Step) -> Step | None:
    """The page after `current` (None after the last). No contact sync: no fields to map."""
    if current is Step.CONTACTS and not draft.sync_contacts:
        return Step.FINISH
    if current is Step.FINISH:
        return None
    return Step(current + 1)


def summary_lines(draft: SetupDraft, list_names: dict[str, str]) -> list[str]:
    """The Finish page's summary, one fact a line."""
    v = draft.verified
    lines = [f"Klaviyo account: {v.account_name} ({v.account_id})" if v else "No key verified"]
    if draft.demo:
        lines[0] += " — demo"
    lines.append(f"SMS consent: {draft.consent.value.title() if draft.consent else 'not chosen'}")
    region = draft.default_region
    lines.append(f"Phone numbers without a country code: {country_name(region)} ({region})")
    if not draft.sync_contacts:
        lines.append("Contacts: not synced (opt-outs are still sent to Klaviyo)")
    elif draft.every_list:
        lines.append("Contacts: every list, including lists created later")
    else:
        names = [list_names.get(i, i) for i in draft.lists]
        lines.append(f"Contacts: {plural(len(names), 'list')}: {', '.join(names)}")
    if draft.sync_contacts:
        for spec in draft.mappings:
            lines.append(f"Field: {spec.name} ({spec.type.value}) ← {spec.path}")
        lines += [f"Warning: {warning}" for warning in draft.mapping_warnings]
    if v and v.missing_scopes:
        lines.append(
            "Warning: the key lacks " + ", ".join(v.missing_scopes) + " — opt-outs cannot be sent"
        )
    return lines
