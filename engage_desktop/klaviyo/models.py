"""Typed views of Klaviyo's JSON:API documents, parsed defensively."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
    """`data` of a collection document, checked to be a list of objects with ids."""
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, list) or not all(
        isinstance(r, dict) and isinstance(r.get("id"), str) for r in data
    ):
        raise MalformedResponseError("Klaviyo sent a page that is not a list of resources.")
    return data


def next_link(doc: dict[str, Any]) -> str | None:
    links = doc.get("links")
    nxt = links.get("next") if isinstance(links, dict) else None
    return nxt if isinstance(nxt, str) and nxt else None


def parse_account(resource: dict[str, Any]) -> Account:
    attrs = resource.get("attributes") or {}
    info = attrs.get("contact_information") or {}
    name = _opt_str(info.get("organization_name")) or _opt_str(info.get("default_sender_name"))
    return Account(resource["id"], name or resource["id"], _opt_str(attrs.get("timezone")))


def parse_list(resource: dict[str, Any]) -> KlaviyoList:
    attrs = resource.get("attributes") or {}
    count = attrs.get("profile_count")
    return KlaviyoList(
        id=resource["id"],
        name=_opt_str(attrs.get("name")) or "(unnamed list)",
        created=parse_time(attrs.get("created")),
        updated=parse_time(attrs.get("updated")),
        profile_count=count if isinstance(count, int) else None,
    )


def parse_profile(resource: dict[str, Any]) -> Profile:
    attrs = resource.get("attributes")
    if not isinstance(attrs, dict):
        raise MalformedResponseError("Klaviyo sent a profile without attributes.")
    sms_block = ((attrs.get("subscriptions") or {}).get("sms") or {}).get("marketing")
    sms = None
    if isinstance(sms_block, dict) and isinstance(sms_block.get("consent"), str):
        sms = SmsConsent(
            consent=sms_block["consent"],
            timestamp=parse_time(sms_block.get("consent_timestamp")),
            can_receive=bool(sms_block.get("can_receive_sms_marketing")),
        )
    return Profile(
        id=resource["id"],
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
