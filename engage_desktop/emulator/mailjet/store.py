"""The account as it is now: the generated data plus what the API and the admin API changed.

Listings page over *selections* (ascending sequences of contact indexes or recipient IDs).
An untouched account's selections are `range`s; a filtered one is built once and cached until
the next change (`version`), so paging through 100,000 contacts never rescans them per page.
"""

from __future__ import annotations

import secrets
import string
import time
from array import array
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from engage_desktop.emulator.mailjet.envelope import MailjetError, bad_request
from engage_desktop.emulator.mailjet.generated import Contact, MailjetData, rfc3339
from engage_desktop.emulator.mailjet.membership import ContactsList, Memberships
from engage_desktop.emulator.mailjet.settings import Settings

DATATYPES = ("str", "int", "float", "bool", "datetime")
T = TypeVar("T")


@dataclass
class Property:
    """One `contactmetadata` definition."""

    id: int
    name: str
    datatype: str
    namespace: str = "static"


def coerce(datatype: str, value: Any) -> str:
    """A value written to a property, as Mailjet hands it back (text); ValueError if it does
    not fit the property's type."""
    if datatype == "str":
        return value if isinstance(value, str) else str(value)
    if datatype == "int":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        return str(int(value))
    if datatype == "float":
        if isinstance(value, bool):
            raise ValueError
        return repr(float(value))
    if datatype == "bool":
        text = str(value).strip().lower()
        if text not in ("true", "false", "1", "0"):
            raise ValueError
        return "true" if text in ("true", "1") else "false"
    if isinstance(value, int | float) and not isinstance(value, bool):  # datetime
        return rfc3339(int(value))  # Unix timestamps are accepted too
    parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    return rfc3339(int(parsed.replace(tzinfo=parsed.tzinfo or UTC).timestamp()))


class MailjetStore:
    """Contacts, properties, lists and memberships, with lookups and cached selections."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        s = self.settings
        defs = s.property_definitions()
        self.data = MailjetData(s.seed, s.contacts, s.lists, len(defs))
        self.props = [Property(self.data.meta_base + j, n, t) for j, (n, t) in enumerate(defs)]
        self._props_removed = False  # so props[j] still holds generated value j
        self.n_total = s.contacts
        self.deleted: set[int] = set()
        self._contacts: dict[int, Contact] = {}  # edited or created contacts
        self._values: dict[int, dict[int, str | None]] = {}  # contact -> property id -> value
        self._emails: dict[str, int] = {}  # e-mail of every edited or created contact
        self.members = Memberships(self.data, self.alive)
        self.version = 0
        self._cache: dict[Hashable, object] = {}

    def now(self) -> int:
        return int(self.clock())

    def changed(self) -> None:
        """Something was written: cached selections are stale."""
        self.version += 1
        self._cache.clear()

    def cached(self, key: Hashable, build: Callable[[], T]) -> T:
        """`build()`, remembered until the next change (selections, counts)."""
        if key in self._cache:
            return cast(T, self._cache[key])
        if len(self._cache) >= 64:
            self._cache.clear()
        got = self._cache[key] = build()
        return got

    # ----- contacts -------------------------------------------------------------------------
    def alive(self, i: int) -> bool:
        return 0 <= i < self.n_total and i not in self.deleted

    def contact(self, i: int) -> Contact | None:
        if not self.alive(i):
            return None
        return self._contacts.get(i) or self.data.contact(i)

    def contact_of(self, i: int) -> Contact:
        """A contact known to exist (from a selection)."""
        c = self.contact(i)
        assert c is not None, i
        return c

    def contact_id(self, i: int) -> int:
        return self.data.contact_id(i)

    def find_contact(self, ref: str) -> int | None:
        """A contact by its numeric ID or its e-mail (both work in Mailjet paths)."""
        if ref.isdigit():
            i = self.data.index_of_id(int(ref))
        else:
            email = ref.strip().lower()
            i = self._emails.get(email)
            if i is None:
                i = self.data.index_for_email(email)
            if i is not None and (c := self.contact(i)) is not None and c.email != email:
                i = None
        return i if i is not None and self.alive(i) else None

    def contact_indexes(self) -> Sequence[int]:
        """Every live contact, ascending (= contact ID order)."""
        if not self.deleted:
            return range(self.n_total)
        return self.cached(
            "contacts",
            lambda: array("i", (i for i in range(self.n_total) if i not in self.deleted)),
        )

    def values(self, i: int) -> list[tuple[Property, str]]:
        """Contact i's set properties, in contactmetadata order."""
        generated = self.data.properties(i) if i < self.data.n else []
        edits = self._values.get(i)
        if edits is None and not self._props_removed:  # the common case, by the thousand
            return [(p, v) for p, v in zip(self.props, generated, strict=False) if v is not None]
        base = self.data.meta_base
        out = []
        for p in self.props:
            j = p.id - base
            if edits is not None and p.id in edits:
                v = edits[p.id]
            else:
                v = generated[j] if 0 <= j < len(generated) else None
            if v is not None:
                out.append((p, v))
        return out

    def create_contact(self, email: str, name: str = "", excluded: bool = False) -> int:
        email = email.strip().lower()
        if "@" not in email:
            raise bad_request(f'"{email}" is not a valid email address')
        if self.find_contact(email) is not None:
            raise bad_request(
                f'MJ18 A Contact resource with value "{email}" for Email already exists.'
            )
        i = self.n_total
        self.n_total += 1
        now = self.now()
        self._contacts[i] = Contact(
            email, name, now, 0, excluded, now if excluded else 0, False, False, 0, 0
        )
        self._emails[email] = i
        self.changed()
        return i

    def update_contact(
        self,
        i: int,
        *,
        name: str | None = None,
        excluded: bool | None = None,
        email: str | None = None,
    ) -> bool:
        """Change a contact's own fields; False when nothing changed."""
        old = self.contact_of(i)
        new = old._replace(
            name=old.name if name is None else name,
            excluded=old.excluded if excluded is None else excluded,
            email=old.email if email is None else email.strip().lower(),
        )
        if new.excluded != old.excluded:
            new = new._replace(excluded_at=self.now())
        if new == old:
            return False
        if new.email != old.email:
            if self.find_contact(new.email) is not None:
                raise bad_request(
                    f'MJ18 A Contact resource with value "{new.email}" for Email already exists.'
                )
            self._emails.pop(old.email, None)
        self._emails[new.email] = i
        self._contacts[i] = new._replace(last_update=self.now())
        self.changed()
        return True

    def set_values(self, i: int, data: list[dict[str, Any]]) -> bool:
        """Merge `[{"Name", "Value"}, …]` into contact i's properties (others are kept)."""
        by_name = {p.name.lower(): p for p in self.props}
        problems: list[dict[str, str]] = []
        updates: dict[int, str | None] = {}
        for item in data:
            name = str(item.get("Name", ""))
            prop = by_name.get(name.lower())
            if prop is None:
                problems.append({name: "Property not defined"})
                continue
            value = item.get("Value")
            try:
                updates[prop.id] = None if value in (None, "") else coerce(prop.datatype, value)
            except (TypeError, ValueError):
                problems.append({name: "Property type does not match definition"})
        if problems:
            raise MailjetError(400, "Object properties invalid", {"Properties": problems})
        current = dict((p.id, v) for p, v in self.values(i))
        if all(current.get(pid) == v for pid, v in updates.items()):
            return False
        self._values.setdefault(i, {}).update(updates)
        self._contacts[i] = self.contact_of(i)._replace(last_update=self.now())
        self.changed()
        return True

    def delete_contact(self, i: int) -> None:
        contact = self.contact(i)
        if contact is not None:
            self._emails.pop(contact.email, None)
        self.deleted.add(i)
        self.changed()

    # ----- properties (contactmetadata) -----------------------------------------------------
    def find_property(self, ref: str) -> Property | None:
        for p in self.props:
            if str(p.id) == ref or p.name.lower() == ref.lower():
                return p
        return None

    def create_property(self, name: str, datatype: str, namespace: str = "static") -> Property:
        if not name or datatype not in DATATYPES or namespace not in ("static", "historic"):
            raise bad_request(
                "Invalid property definition", {"Datatype": ", ".join(DATATYPES), "Name": name}
            )
        if self.find_property(name) is not None:
            raise bad_request(
                f'MJ18 A ContactMetaData resource with value "{name}" for Name already exists.'
            )
        prop = Property(max(p.id for p in self.props) + 1, name, datatype, namespace)
        self.props.append(prop)
        self.changed()
        return prop

    def delete_property(self, prop: Property) -> None:
        self.props.remove(prop)  # its values disappear from contactdata with it
        self._props_removed = True
        self.changed()

    # ----- lists ----------------------------------------------------------------------------
    def lists(self) -> list[ContactsList]:
        return sorted(self.members.lists.values(), key=lambda lst: lst.id)

    def find_list(self, ref: str) -> ContactsList | None:
        return self.members.lists.get(int(ref)) if ref.isdigit() else None

    def create_list(self, name: str) -> ContactsList:
        if not name.strip():
            raise bad_request("Name is required")
        if any(lst.name == name for lst in self.members.lists.values()):
            raise bad_request(
                f'MJ18 A ContactsList resource with value "{name}" for Name already exists.'
            )
        alphabet = string.ascii_letters + string.digits
        address = "".join(secrets.choice(alphabet) for _ in range(9))
        lst = self.members.create_list(name, self.now(), address)
        self.changed()
        return lst

    def subscriber_count(self, lst: ContactsList) -> int:
        return self.cached(
            ("subscribers", lst.id),
            lambda: self.members.subscriber_count(lst, bool(self.deleted)),
        )

    def list_contacts(self, lst: ContactsList) -> Sequence[int]:
        """Contact indexes on a list, ascending."""
        return self.cached(
            ("list contacts", lst.id), lambda: self.members.contacts_of(lst, bool(self.deleted))
        )
