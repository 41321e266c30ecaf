"""Typed views of Klaviyo's JSON:API documents, parsed defensively."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from engage_desktop.klaviyo.errors import MalformedResponseError
from engage_desktop.klaviyo.scopes import ScopeNeed


def parse_time(value: Any) -> datetime | None:
    """Klaviyo's ISO 8601 timestamps; None for null or unparseable text."""
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class Account:
    """The account a key belongs to."""

    id: str
    name: str
    timezone: str | None


@dataclass(frozen=True)
class KlaviyoList:
    """A Klaviyo list (profile_count only when it was asked for)."""

    id: str
    name: str
    created: datetime | None
    updated: datetime | None
    profile_count: int | None = None


@dataclass(frozen=True)
class SmsConsent:
    """`subscriptions.sms.marketing` of a profile."""

    consent: str  # SUBSCRIBED | NEVER_SUBSCRIBED | UNSUBSCRIBED
    timestamp: datetime | None
    can_receive: bool


@dataclass(frozen=True)
class Profile:
    """A profile as returned by Get Profiles / Get List Profiles."""

    id: str
    email: str | None
    phone_number: str | None
    first_name: str | None
    last_name: str | None
    external_id: str | None
    created: datetime | None
    updated: datetime | None
    sms: SmsConsent | None  # None: no SMS consent record (or subscriptions not requested)
    attributes: dict[str, Any] = field(repr=False, compare=False)
    joined_group_at: datetime | None = None

    def value_at(self, path: str) -> Any:
        """A standard attribute or `properties.X.Y` (nested); None when absent."""
        node: Any = self.attributes
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node


@dataclass(frozen=True)
class KeyCheck:
    """The result of validating a key: its account and the scopes it lacks."""

    account: Account
    missing: list[ScopeNeed]

    def as_json(self) -> dict[str, Any]:
        return {
            "account_id": self.account.id,
            "account_name": self.account.name,
            "missing_scopes": [{"scope": m.scope, "needed_to": m.purpose} for m in self.missing],
        }


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def resources(doc: Any) -> list[dict[str, Any]]:
    """`data` of a collection document, checked to be a list of objects. Each resource is
    checked when it is parsed, so that one broken record does not cost the whole page."""
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise MalformedResponseError("Klaviyo sent a page that is not a list of resources.")
    return data


def resource_id(resource: dict[str, Any]) -> str:
    """A resource's id, which must be a non-empty string."""
    rid = resource.get("id")
    if not isinstance(rid, str) or not rid:
        raise MalformedResponseError(f"Klaviyo sent a record whose id is {_shown(rid)}.")
    return rid


def _shown(value: Any) -> str:
    return "missing" if value is None else f"not text ({type(value).__name__} {value!r:.40})"


def next_link(doc: dict[str, Any]) -> str | None:
    links = doc.get("links")
    nxt = links.get("next") if isinstance(links, dict) else None
    return nxt if isinstance(nxt, str) and nxt else None


def parse_account(resource: dict[str, Any]) -> Account:
    rid = resource_id(resource)
    attrs = _dict(resource.get("attributes"))
    info = _dict(attrs.get("contact_information"))
    name = _opt_str(info.get("organization_name")) or _opt_str(info.get("default_sender_name"))
    return Account(rid, name or rid, _opt_str(attrs.get("timezone")))


def parse_list(resource: dict[str, Any]) -> KlaviyoList:
    rid = resource_id(resource)
    attrs = _dict(resource.get("attributes"))
    count = attrs.get("profile_count")
    return KlaviyoList(
        id=rid,
        name=_opt_str(attrs.get("name")) or "(unnamed list)",
        created=parse_time(attrs.get("created")),
        updated=parse_time(attrs.get("updated")),
        profile_count=count if isinstance(count, int) else None,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


CONSENTS = ("SUBSCRIBED", "UNSUBSCRIBED", "NEVER_SUBSCRIBED")


def _sms_consent(attrs: dict[str, Any]) -> SmsConsent | None:
    """`subscriptions.sms.marketing`; None when absent. A block that is there but cannot be
    read raises: reading it as "no consent" could make an opted-out number messageable."""
    subs = attrs.get("subscriptions")
    if subs is None:
        return None
    if not isinstance(subs, dict):
        raise MalformedResponseError(f"its subscriptions are {_shown(subs)}, not an object")
    sms = subs.get("sms")
    if sms is None:
        return None
    if not isinstance(sms, dict):
        raise MalformedResponseError(f"its SMS subscriptions are {_shown(sms)}, not an object")
    block = sms.get("marketing")
    if block is None:
        return None
    if not isinstance(block, dict) or block.get("consent") not in CONSENTS:
        shown = block.get("consent") if isinstance(block, dict) else block
        raise MalformedResponseError(f"its SMS consent is {_shown(shown)}")
    return SmsConsent(
        consent=block["consent"],
        timestamp=parse_time(block.get("consent_timestamp")),
        can_receive=bool(block.get("can_receive_sms_marketing")),
    )


def parse_profile(resource: dict[str, Any]) -> Profile:
    """A profile, or MalformedResponseError saying what is wrong with it."""
    rid = resource_id(resource)
    attrs = resource.get("attributes")
    if not isinstance(attrs, dict):
        raise MalformedResponseError(f"its attributes are {_shown(attrs)}, not an object")
    sms = _sms_consent(attrs)
    return Profile(
        id=rid,
        email=_opt_str(attrs.get("email")),
        phone_number=_opt_str(attrs.get("phone_number")),
        first_name=_opt_str(attrs.get("first_name")),
        last_name=_opt_str(attrs.get("last_name")),
        external_id=_opt_str(attrs.get("external_id")),
        created=parse_time(attrs.get("created")),
        updated=parse_time(attrs.get("updated")),
        sms=sms,
        attributes=attrs,
        joined_group_at=parse_time(attrs.get("joined_group_at")),
    )


class Rejected(NamedTuple):
    """A record on a page that could not be read: its id when it has one, and why."""

    id: str | None
    reason: str


def read_profiles(resources: list[dict[str, Any]]) -> tuple[list[Profile], list[Rejected]]:
    """A page's profiles parsed one by one: a broken record is set aside, not the page."""
    profiles: list[Profile] = []
    rejected: list[Rejected] = []
    for resource in resources:
        try:
            profiles.append(parse_profile(resource))
        except MalformedResponseError as exc:
            rid = resource.get("id")
            rejected.append(Rejected(rid if isinstance(rid, str) and rid else None, str(exc)))
    return profiles, rejected
