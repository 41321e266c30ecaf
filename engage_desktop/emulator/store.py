"""The emulator's mutable state: generated data plus an overlay of every change made since.

Generated profiles are never stored; a profile that changes (admin API, bulk job) gets a full
copy in `overrides`, and new profiles get indexes after the generated ones.
"""

from __future__ import annotations

import bisect
import copy
import secrets
import time
from array import array
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from engage_desktop.emulator.data import END, AccountData
from engage_desktop.emulator.orderings import Ordering
from engage_desktop.emulator.timeutil import iso

ALL_SCOPES = frozenset(
    {
        "accounts:read",
        "profiles:read",
        "profiles:write",
        "lists:read",
        "lists:write",
        "subscriptions:read",
        "subscriptions:write",
    }
)
DEMO_API_KEY = "pk_demo_engage_desktop_0000000000000000"  # documented in README: not a secret


@dataclass
class ListState:
    """One list: generated members (lazy) plus members added and removed since."""

    id: str
    name: str
    created: float
    updated: float
    generated: int | None  # index into AccountData.lists, None for lists made at run time
    added: dict[int, float] = field(default_factory=dict)  # profile index -> joined time
    removed: set[int] = field(default_factory=set)
    _members: tuple[array[int], array[float]] | None = None
    _by_join: array[int] | None = None  # positions into _members sorted by (joined, index)


class Store:
    """All state of one emulated account; every read and write of the API goes through it."""

    def __init__(self, data: AccountData, clock: Callable[[], float] = time.time) -> None:
        self.data = data
        self.clock = clock
        self.keys: dict[str, frozenset[str]] = {}
        self.reset()

    def reset(self) -> None:
        d = self.data
        self.overrides: dict[int, dict[str, Any]] = {}
        self.deleted: set[int] = set()
        self.new_created: dict[int, float] = {}
        self.new_ids: dict[int, str] = {}
        self.id_to_new: dict[str, int] = {}
        self.n_total = d.n
        self.lists: dict[str, ListState] = {
            s.id: ListState(s.id, s.name, s.created, s.created + 86400, s.index) for s in d.lists
        }
        self._email_sorted: array[int] | None = None
        self._updated_sorted: array[int] | None = None

    # ----- profiles ---------------------------------------------------------------------
    def exists(self, i: int) -> bool:
        return 0 <= i < self.n_total and i not in self.deleted

    def profile_id(self, i: int) -> str:
        return self.new_ids[i] if i in self.new_ids else self.data.profile_id(i)

    def index_of(self, profile_id: str) -> int | None:
        if profile_id in self.id_to_new:  # created here; gone when deleted
            new = self.id_to_new[profile_id]
            return new if self.exists(new) else None
        i = self.data.index_of(profile_id)
        if i is None or i >= self.data.n or not self.exists(i):
            return None
        return i

    def attributes(self, i: int, wanted: Collection[str] | None = None) -> dict[str, Any]:
        """The current attributes (a copy the caller may change); `wanted` as in
        `AccountData.attributes`."""
        if i in self.overrides:
            return copy.deepcopy(self.overrides[i])
        return self.data.attributes(i, wanted)

    def created(self, i: int) -> float:
        return self.new_created[i] if i in self.new_created else self.data.created(i)

    def updated(self, i: int) -> float:
        if i in self.overrides:
            return float(self.overrides[i]["_updated_ts"])
        return self.data.base_updated[i]

    def email(self, i: int) -> str | None:
        if i in self.overrides:
            value = self.overrides[i].get("email")
            return value if isinstance(value, str) else None
        return self.data.email(i)

    def save(self, i: int, attributes: dict[str, Any]) -> None:
        """Store changed attributes and bump `updated` to now."""
        now = max(self.clock(), END + 1)
        attributes["updated"] = iso(now)
        attributes["_updated_ts"] = now
        self.overrides[i] = attributes

    def create(self, attributes: dict[str, Any]) -> int:
        i = self.n_total
        self.n_total += 1
        now = max(self.clock(), END + 1)
        self.new_created[i] = now
        pid = self.data.profile_id(i, created_ms=int(now * 1000))
        self.new_ids[i] = pid
        self.id_to_new[pid] = i
        base: dict[str, Any] = {
            "email": None,
            "phone_number": None,
            "external_id": None,
            "first_name": None,
            "last_name": None,
            "organization": None,
            "locale": None,
            "title": None,
            "image": None,
            "created": iso(now),
            "last_event_date": None,
            "location": None,
            "properties": {},
            "subscriptions": {
                "email": {
                    "marketing": {
                        "can_receive_email_marketing": False,
                        "consent": "NEVER_SUBSCRIBED",
                        "consent_timestamp": None,
                        "last_updated": None,
                        "method": None,
                        "method_detail": "",
                        "custom_method_detail": None,
                        "double_optin": None,
                        "suppression": [],
                        "list_suppressions": [],
                    }
                },
                "sms": None,
                "mobile_push": None,
                "whatsapp": None,
            },
        }
        base.update(attributes)
        self.save(i, base)
        return i

    def delete(self, i: int) -> None:
        self.deleted.add(i)
        self.overrides.pop(i, None)

    def find_by_email(self, email: str) -> list[int]:
        email = email.lower()
        hits = [i for i, a in self.overrides.items() if (a.get("email") or "").lower() == email]
        i = self.data.index_for_email(email)
        if i is not None and i not in self.overrides and self.exists(i):
            hits.append(i)
        return sorted(hits)

    def find_by_phone(self, phone: str) -> list[int]:
        hits = [i for i, a in self.overrides.items() if a.get("phone_number") == phone]
        hits += [
            i
            for i in self.data.indexes_for_phone(phone)
            if i not in self.overrides and self.exists(i)
        ]
        return sorted(hits)

    def find_by_external_id(self, external_id: str) -> list[int]:
        hits = [i for i, a in self.overrides.items() if a.get("external_id") == external_id]
        if external_id.startswith("shop-") and external_id[5:].isdigit():
            i = int(external_id[5:])
            live = i < self.data.n and i not in self.overrides and self.exists(i)
            if live and self.data.attributes(i)["external_id"] == external_id:
                hits.append(i)
        return sorted(hits)

    # ----- orderings --------------------------------------------------------------------
    def _not_live(self, i: int) -> bool:
        return i in self.deleted

    def by_index(self) -> Ordering:
        """id and created order (ids are ULIDs, so both follow creation)."""
        return Ordering(range(self.n_total), self.created, {}, self._not_live)

    def by_updated(self) -> Ordering:
        if self._updated_sorted is None:
            upd = self.data.base_updated
            self._updated_sorted = array("i", sorted(range(self.data.n), key=upd.__getitem__))
        overlay = {i: float(a["_updated_ts"]) for i, a in self.overrides.items()}
        return Ordering(
            self._updated_sorted, self.data.base_updated.__getitem__, overlay, self._not_live
        )

    def by_email(self) -> Ordering:
        if self._email_sorted is None:
            em = self.data.email
            self._email_sorted = array(
                "i", sorted(range(self.data.n), key=lambda i: (em(i) or "", i))
            )
        overlay = {i: (a.get("email") or "") for i, a in self.overrides.items()}
        data_email = self.data.email
        return Ordering(self._email_sorted, lambda i: data_email(i) or "", overlay, self._not_live)

    # ----- lists ------------------------------------------------------------------------
    def _members(self, lst: ListState) -> tuple[array[int], array[float]]:
        if lst._members is None:
            lst._members = (
                self.data.members(lst.generated)
                if lst.generated is not None
                else (array("i"), array("d"))
            )
        return lst._members

    def is_member(self, lst: ListState, i: int) -> bool:
        if not self.exists(i) or i in lst.removed:
            return False
        return i in lst.added or self._in_generated(lst, i)

    def joined(self, lst: ListState, i: int) -> float:
        return lst.added[i] if i in lst.added else self._generated_joined(lst, i)

    def _generated_joined(self, lst: ListState, i: int) -> float:
        idx, joined = self._members(lst)
        return joined[bisect.bisect_left(idx, i)]

    def by_joined(self, lst: ListState) -> Ordering:
        idx, joined = self._members(lst)
        if lst._by_join is None:
            order = sorted(range(len(idx)), key=lambda p: (joined[p], idx[p]))
            lst._by_join = array("i", (idx[p] for p in order))

        def excluded(i: int) -> bool:
            return i in self.deleted or i in lst.removed

        return Ordering(
            lst._by_join, lambda i: self._generated_joined(lst, i), dict(lst.added), excluded
        )

    def profile_count(self, lst: ListState) -> int:
        idx, _ = self._members(lst)
        gone = sum(1 for i in self.deleted if self._in_generated(lst, i))
        gone += sum(1 for i in lst.removed if self._in_generated(lst, i) and i not in self.deleted)
        added = sum(1 for i in lst.added if self.exists(i) and not self._in_generated(lst, i))
        return len(idx) - gone + added

    def _in_generated(self, lst: ListState, i: int) -> bool:
        idx, _ = self._members(lst)
        p = bisect.bisect_left(idx, i)
        return p < len(idx) and idx[p] == i

    def add_member(self, lst: ListState, i: int) -> None:
        if self.is_member(lst, i):
            return
        lst.removed.discard(i)
        lst.added[i] = max(self.clock(), END + 1)
        lst.updated = self.clock()

    def remove_member(self, lst: ListState, i: int) -> None:
        lst.added.pop(i, None)
        lst.removed.add(i)
        lst.updated = self.clock()

    def create_list(self, name: str) -> ListState:
        lid = secrets.token_urlsafe(4)[:6].replace("-", "x").replace("_", "y")
        now = self.clock()
        lst = ListState(lid, name, now, now, None)
        self.lists[lid] = lst
        return lst
