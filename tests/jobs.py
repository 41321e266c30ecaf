"""Request bodies for Klaviyo's bulk subscription jobs, as the spec shapes them (test helper)."""

from __future__ import annotations

from typing import Any


def sms_job(kind: str, phones: list[str], list_id: str | None = None) -> dict[str, Any]:
    """A bulk `delete` (UNSUBSCRIBED) or `create` (SUBSCRIBED) SMS job for these phones."""
    consent = "UNSUBSCRIBED" if kind == "delete" else "SUBSCRIBED"
    profiles = [
        {
            "type": "profile",
            "attributes": {
                "phone_number": phone,
                "subscriptions": {"sms": {"marketing": {"consent": consent}}},
            },
        }
        for phone in phones
    ]
    data: dict[str, Any] = {
        "type": f"profile-subscription-bulk-{kind}-job",
        "attributes": {"profiles": {"data": profiles}},
    }
    if list_id:
        data["relationships"] = {"list": {"data": {"type": "list", "id": list_id}}}
    return {"data": data}
