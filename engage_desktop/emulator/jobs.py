"""Bulk subscribe / unsubscribe jobs: validated at once (202), applied after a short delay."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

from engage_desktop.emulator.store import Store
from engage_desktop.emulator.timeutil import iso
from engage_desktop.emulator.wire import ApiError, Request, Response, bad_request, not_found

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
CHANNELS = {"email": ("marketing",), "sms": ("marketing", "transactional")}


@dataclass(frozen=True)
class Change:
    """One profile's requested change."""

    email: str | None
    phone: str | None
    channels: dict[str, dict[str, Any]]  # {"sms": {"marketing": {"consent": …}}}


def parse_job(
    req: Request, job_type: str, consent: str, cap: int
) -> tuple[list[Change], str | None]:
    try:
        doc = json.loads(req.body or b"null")
        data = doc["data"]
    except (ValueError, TypeError, KeyError):
        raise bad_request(
            "The request body is not a valid JSON:API document.", pointer="/data"
        ) from None
    if not isinstance(data, dict) or data.get("type") != job_type:
        raise ApiError(
            409,
            "conflict",
            "Conflict.",
            f"The resource type must be '{job_type}'.",
            pointer="/data/type",
        )
    try:
        profiles = data["attributes"]["profiles"]["data"]
    except (KeyError, TypeError):
        raise bad_request(
            "'profiles' is required.", pointer="/data/attributes/profiles/data"
        ) from None
    if not isinstance(profiles, list) or not profiles:
        raise bad_request(
            "At least one profile is required.", pointer="/data/attributes/profiles/data"
        )
    if len(profiles) > cap:
        raise bad_request(
            f"A job can contain at most {cap} profiles.", pointer="/data/attributes/profiles/data"
        )
    changes = [_parse_profile(p, n, consent) for n, p in enumerate(profiles)]
    rel = (data.get("relationships") or {}).get("list") or {}
    list_id = (rel.get("data") or {}).get("id") if isinstance(rel, dict) else None
    return changes, list_id


def _parse_profile(p: Any, n: int, consent: str) -> Change:
    where = f"/data/attributes/profiles/data/{n}"
    if not isinstance(p, dict) or p.get("type") != "profile":
        raise bad_request("Each entry must be a 'profile' resource.", pointer=f"{where}/type")
    attrs = p.get("attributes") or {}
    email, phone = attrs.get("email"), attrs.get("phone_number")
    if phone is not None and (not isinstance(phone, str) or not E164.match(phone)):
        raise bad_request(
            f"Invalid phone number format (Example of a valid format: +12345678901): {phone}",
            pointer=f"{where}/attributes/phone_number",
        )
    subs = attrs.get("subscriptions")
    if not isinstance(subs, dict) or not subs:
        raise bad_request(
            "'subscriptions' is required.", pointer=f"{where}/attributes/subscriptions"
        )
    channels: dict[str, dict[str, Any]] = {}
    for channel, body in subs.items():
        if body is None:
            continue
        if not isinstance(body, dict):
            raise bad_request(
                f"'{channel}' must be an object.",
                pointer=f"{where}/attributes/subscriptions/{channel}",
            )
        for kind, value in body.items():
            if value is None:
                continue
            if not isinstance(value, dict) or value.get("consent") != consent:
                raise bad_request(
                    f"'consent' must be '{consent}'.",
                    pointer=f"{where}/attributes/subscriptions/{channel}/{kind}/consent",
                )
            if channel in CHANNELS and kind in CHANNELS[channel]:
                channels.setdefault(channel, {})[kind] = value
    if "sms" in channels and not phone:
        raise bad_request(
            "A phone number is required to change SMS consent.",
            pointer=f"{where}/attributes/phone_number",
        )
    if "email" in channels and not email:
        raise bad_request(
            "An email is required to change email consent.", pointer=f"{where}/attributes/email"
        )
    if not email and not phone:
        raise bad_request("Each profile needs an email or a phone number.", pointer=where)
    return Change(email, phone, channels)


class JobRunner:
    """Accepts jobs and applies them to the store after `delay_s` (Klaviyo's are async)."""

    def __init__(self, store: Store, delay_s: float = 0.5) -> None:
        self.store = store
        self.delay_s = delay_s
        self.pending: set[asyncio.Task[None]] = set()
        self.applied = 0

    def submit(self, req: Request, subscribe: bool) -> Response:
        job_type = "profile-subscription-bulk-" + ("create-job" if subscribe else "delete-job")
        cap = 1000 if subscribe else 100
        consent = "SUBSCRIBED" if subscribe else "UNSUBSCRIBED"
        changes, list_id = parse_job(req, job_type, consent, cap)
        if list_id is not None and list_id not in self.store.lists:
            raise not_found(f"A list with id {list_id} does not exist.")
        task = asyncio.get_running_loop().create_task(
            self._apply_later(changes, list_id, subscribe)
        )
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)
        return Response(202)

    async def _apply_later(self, changes: list[Change], list_id: str | None, sub: bool) -> None:
        await asyncio.sleep(self.delay_s)
        for change in changes:
            self.apply(change, list_id, sub)
        self.applied += 1

    def apply(self, change: Change, list_id: str | None, subscribe: bool) -> None:
        s = self.store
        hits: list[int] = []
        if change.phone:
            hits = s.find_by_phone(change.phone)
        if not hits and change.email:
            hits = s.find_by_email(change.email)
        if not hits:
            hits = [s.create({"email": change.email, "phone_number": change.phone})]
        now = iso(s.clock())
        for i in hits:
            lst = s.lists.get(list_id) if list_id else None
            if lst is not None and not subscribe:
                s.remove_member(lst, i)  # a list-scoped unsubscribe leaves global consent alone
                continue
            attrs = s.attributes(i)
            subs = attrs.setdefault("subscriptions", {}) or {}
            attrs["subscriptions"] = subs
            for channel, kinds in change.channels.items():
                holder = subs.get(channel) or {}
                for kind, body in kinds.items():
                    holder[kind] = _consent_record(channel, kind, body, subscribe, now)
                subs[channel] = holder
            s.save(i, attrs)
            if lst is not None:
                s.add_member(lst, i)


def _consent_record(
    channel: str, kind: str, body: dict[str, Any], subscribe: bool, now: str
) -> dict[str, Any]:
    consent = "SUBSCRIBED" if subscribe else "UNSUBSCRIBED"
    when = body.get("consented_at") or now
    flag = f"can_receive_{channel}_{kind}"
    record: dict[str, Any] = {
        flag: subscribe,
        "consent": consent,
        "consent_timestamp": when,
        "method": "API",
        "method_detail": "",
        "last_updated": now,
    }
    if channel == "email":
        record.update(
            custom_method_detail=None, double_optin=None, suppression=[], list_suppressions=[]
        )
    return record
