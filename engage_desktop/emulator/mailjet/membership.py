"""Lists and list membership: the generated members plus what was created, changed or removed.

A generated list's recipients keep the IDs of their position in the generated member array
(one block of IDs per list), so a recipient ID turns back into (list, contact) by arithmetic
and an untouched list's recipients are a `range` — no per-request scan.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engage_desktop.emulator.mailjet.generated import INACTIVE, UNSUBSCRIBED, MailjetData


@dataclass
class ContactsList:
    """One `contactslist`: generated (with `generated` = its index) or created later."""

    id: int
    address: str
    name: str
    created: int
    deleted: bool = False
    generated: int | None = None


@dataclass
class Member:
    """One membership as a `listrecipient` row shows it."""

    recipient_id: int
    list_id: int
    contact: int  # contact index
    active: bool
    unsubscribed: bool
    subscribed_at: int
    unsubscribed_at: int  # 0 = never


class Memberships:
    """Every list and who is on it; `alive(i)` says whether contact i still exists."""

    def __init__(self, data: MailjetData, alive: Callable[[int], bool]) -> None:
        self.data = data
        self._alive = alive
        self.block = max(data.n, 1)
        self.lists: dict[int, ContactsList] = {
            s.id: ContactsList(s.id, s.address, s.name, s.created, generated=s.index)
            for s in data.lists
        }
        self._edits: dict[tuple[int, int], Member] = {}  # (list id, contact): changed or added
        self._removed: set[tuple[int, int]] = set()
        self._added: dict[int, list[int]] = {}  # list id -> contacts added, in order
        self._by_recipient: dict[int, tuple[int, int]] = {}  # added recipient id -> key
        self.next_recipient_id = data.recipient_base + (len(data.lists) + 1) * self.block
        self.touched = False  # someone was added or removed: the `range` fast paths are off

    @property
    def edited(self) -> bool:
        """Some membership was added or had its flags changed."""
        return bool(self._edits)

    # ----- reading --------------------------------------------------------------------------
    def _generated(self, lst: ContactsList, i: int) -> Member | None:
        if lst.generated is None:
            return None
        k = lst.generated
        idx, flags = self.data.members(k)
        j = bisect_left(idx, i)
        if j == len(idx) or idx[j] != i:
            return None
        return self._from_generated(lst, k, j, i, flags[j])

    def _from_generated(self, lst: ContactsList, k: int, j: int, i: int, flag: int) -> Member:
        unsub = bool(flag & UNSUBSCRIBED)
        return Member(
            self.data.recipient_base + k * self.block + j,
            lst.id,
            i,
            not flag & INACTIVE,
            unsub,
            self.data.subscribed_at(k, i),
            self.data.unsubscribed_at(k, i) if unsub else 0,
        )

    def member(self, lst: ContactsList, i: int) -> Member | None:
        key = (lst.id, i)
        if key in self._removed or not self._alive(i):
            return None
        return self._edits.get(key) or self._generated(lst, i)

    def by_recipient_id(self, rid: int) -> Member | None:
        key = self._by_recipient.get(rid)
        if key is not None:
            return self.member(self.lists[key[0]], key[1])
        k, j = divmod(rid - self.data.recipient_base, self.block)
        if rid < self.data.recipient_base or k >= len(self.data.lists):
            return None
        idx, flags = self.data.members(k)
        if j >= len(idx):
            return None
        lst = self.lists[self.data.lists[k].id]
        i = idx[j]
        if (lst.id, i) in self._removed or not self._alive(i):
            return None
        return self._edits.get((lst.id, i)) or self._from_generated(lst, k, j, i, flags[j])

    def recipient(self, rid: int) -> Member:
        """A membership known to exist (from a selection)."""
        m = self.by_recipient_id(rid)
        assert m is not None, rid
        return m

    def recipient_ids(self, lst: ContactsList, contacts_deleted: bool) -> Sequence[int]:
        """The list's recipient IDs, ascending (the default listrecipient order)."""
        ids: Sequence[int] = range(0)
        if lst.generated is not None:
            k = lst.generated
            idx, _ = self.data.members(k)
            start = self.data.recipient_base + k * self.block
            ids = range(start, start + len(idx))
            if self.touched or contacts_deleted:
                ids = array(
                    "q",
                    (
                        start + j
                        for j, i in enumerate(idx)
                        if (lst.id, i) not in self._removed and self._alive(i)
                    ),
                )
        added = [
            self._edits[(lst.id, i)].recipient_id
            for i in self._added.get(lst.id, ())
            if (lst.id, i) not in self._removed and self._alive(i)
        ]
        return array("q", [*ids, *added]) if added else ids

    def contacts_of(self, lst: ContactsList, contacts_deleted: bool) -> Sequence[int]:
        """Contact indexes on the list, ascending (= contact ID order)."""
        base: Sequence[int] = array("i")
        if lst.generated is not None:
            base, _ = self.data.members(lst.generated)
        if not (self.touched or contacts_deleted):
            return base
        keep = [i for i in base if (lst.id, i) not in self._removed and self._alive(i)]
        keep += [
            i
            for i in self._added.get(lst.id, ())
            if (lst.id, i) not in self._removed and self._alive(i)
        ]
        return array("i", sorted(keep))

    def subscriber_count(self, lst: ContactsList, contacts_deleted: bool) -> int:
        """Active, subscribed members (what `SubscriberCount` counts)."""
        if lst.generated is not None and not (self.touched or contacts_deleted or self._edits):
            _, flags = self.data.members(lst.generated)
            return len(flags) - flags.count(UNSUBSCRIBED) - flags.count(INACTIVE)
        n = 0
        for i in self.contacts_of(lst, contacts_deleted):
            m = self.member(lst, i)
            n += m is not None and m.active and not m.unsubscribed
        return n

    # ----- writing --------------------------------------------------------------------------
    def create_list(self, name: str, now: int, address: str) -> ContactsList:
        new_id = max([*self.lists, self.data.list_base]) + 1
        lst = ContactsList(new_id, address, name, now)
        self.lists[new_id] = lst
        return lst

    def add(self, lst: ContactsList, i: int, now: int, unsubscribed: bool = False) -> Member:
        """Put contact i on the list (again); an existing membership is returned unchanged."""
        existing = self.member(lst, i)
        if existing is not None:
            return existing
        self.touched = True
        key = (lst.id, i)
        self._removed.discard(key)
        old = self._edits.get(key) or self._generated(lst, i)
        if old is not None:  # removed earlier: it comes back under its old ID
            old.active, old.unsubscribed = True, unsubscribed
            old.subscribed_at, old.unsubscribed_at = now, now if unsubscribed else 0
            self._edits[key] = old
            return old
        rid = self.next_recipient_id
        self.next_recipient_id += 1
        member = Member(rid, lst.id, i, True, unsubscribed, now, now if unsubscribed else 0)
        self._edits[key] = member
        self._added.setdefault(lst.id, []).append(i)
        self._by_recipient[rid] = key
        return member

    def update(self, member: Member, *, active: bool | None, unsub: bool | None, now: int) -> bool:
        """Change a membership's flags; False when nothing changed."""
        new_active = member.active if active is None else active
        new_unsub = member.unsubscribed if unsub is None else unsub
        if (new_active, new_unsub) == (member.active, member.unsubscribed):
            return False
        if new_unsub and not member.unsubscribed:
            member.unsubscribed_at = now
        if not new_unsub:
            member.unsubscribed_at = 0
        member.active, member.unsubscribed = new_active, new_unsub
        self._edits[(member.list_id, member.contact)] = member
        return True

    def remove(self, member: Member) -> None:
        self._removed.add((member.list_id, member.contact))
        self.touched = True
