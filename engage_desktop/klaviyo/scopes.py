"""The API scopes Engage Desktop needs, and what each one is for (shown to people)."""

from __future__ import annotations

from dataclasses import dataclass

READ_SCOPES = ("accounts:read", "lists:read", "profiles:read")
WRITE_SCOPES = ("lists:write", "profiles:write", "subscriptions:write")

PURPOSE = {
    "accounts:read": "show which Klaviyo account is connected",
    "lists:read": "show your Klaviyo lists and read who is on them",
    "profiles:read": "read contacts: names, phone numbers, emails and SMS consent",
    "lists:write": "send opt-outs back to Klaviyo (SMS unsubscribe)",
    "profiles:write": "send opt-outs back to Klaviyo (SMS unsubscribe)",
    "subscriptions:write": "send opt-outs back to Klaviyo (SMS unsubscribe)",
}


@dataclass(frozen=True)
class ScopeNeed:
    """A scope the key lacks and why the product needs it."""

    scope: str
    purpose: str
