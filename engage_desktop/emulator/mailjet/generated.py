"""Deterministic, lazy Mailjet account data: contact `i` is a pure function of (seed, i).

Nothing is stored per contact. Each list's members are two compact arrays built on first use
(contact indexes and a flag byte each), so 100,000 contacts cost a few MB and no start-up time.
Contact IDs grow with `i` and e-mails embed `i`, so both turn back into the index without a scan.
Property values are kept as the strings Mailjet returns them as (see `MailjetData.properties`).
"""

from __future__ import annotations

import random
import re
import time
import unicodedata
from array import array
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

END = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp())  # generated history ends here
SPAN = 6 * 365 * 86400  # …and starts six years earlier
START = END - SPAN
_M64 = (1 << 64) - 1
_ID_STEP = 7  # contact IDs leave gaps, as real ones do
_PHONE_SPACE = 8_000_000  # 7-digit subscriber numbers 2000000-9999999
_PHONE_MULT = 7919  # coprime with the space: every contact gets its own number

FIRST = ["Maria", "José", "Zoë", "Łukasz", "Søren", "Aylin", "Mohammed", "Chloé", "Emma", "Liam"]
FIRST += ["Olivia", "Noah", "Sofía", "Mateo", "Hana", "Yuki", "Anaïs", "Björn", "Priya", "Wei"]
LAST = ["García", "Müller", "O'Brien", "Nowak", "Smith", "Johnson", "Dubois", "van der Berg"]
LAST += ["Ferreira", "Nguyễn", "Rossi", "Tanaka", "Okafor", "Martin", "Lefèvre", "Schmidt"]
DOMAINS = ["example.com", "mail.example.org", "example.net", "shop.example", "example.fr"]
COUNTRIES = ["United States", "United Kingdom", "France", "Germany"]  # as phones
CITIES = ["New York", "Chicago", "London", "Manchester", "Paris", "Lyon", "Berlin", "München"]
LIST_TEMPLATES: list[tuple[str, float]] = [
    ("Newsletter", 0.60),
    ("SMS Subscribers", 0.45),
    ("VIP Customers", 0.05),
    ("Black Friday 2025", 0.30),
    ("Returning Customers", 0.25),
    ("Café Regulars", 0.12),
    ("Events — Berlin", 0.08),
    ("Wholesale", 0.02),
]
UNSUBSCRIBED = 1  # member flag bits
INACTIVE = 2


def _mix(x: int) -> int:
    """splitmix64: a fast, well-spread 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


_DAYS: dict[int, str] = {}
_HH_MM = [f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440)]
_SS_Z = [f"{s:02d}Z" for s in range(60)]


def rfc3339(ts: int) -> str:
    """Seconds since the epoch as Mailjet writes times: `2021-06-20T09:20:44Z`. Table-driven:
    a page of contacts formats three thousand of these."""
    d, s = divmod(int(ts), 86400)
    day = _DAYS.get(d)
    if day is None:
        day = _DAYS[d] = time.strftime("%Y-%m-%dT", time.gmtime(d * 86400))
    return day + _HH_MM[s // 60] + _SS_Z[s % 60]


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ł", "L"))
    return re.sub(r"[^a-z]", "", folded.encode("ascii", "ignore").decode().lower()) or "x"


_SLUG_FIRST = [_slug(n) for n in FIRST]
_SLUG_LAST = [_slug(n) for n in LAST]


class Contact(NamedTuple):
    """The fields of a `contact` row (times as epoch seconds, 0 = unset)."""

    email: str
    name: str
    created: int
    delivered: int
    excluded: bool
    excluded_at: int
    opt_in_pending: bool
    spam: bool
    last_activity: int
    last_update: int


@dataclass(frozen=True)
class ListSpec:
    """A generated list: its ID, address, name, creation time and membership share."""

    index: int
    id: int
    address: str
    name: str
    created: int
    share: float


class MailjetData:
    """Everything the seed determines: contacts, their property values, lists and members."""

    def __init__(self, seed: int, n_contacts: int, n_lists: int, n_properties: int) -> None:
        if n_contacts > _PHONE_SPACE:
            raise ValueError(f"at most {_PHONE_SPACE} generated contacts")
        self.n = n_contacts
        self.key = _mix(seed * 0x100000001B3 + 0x3A11)
        self.contact_base = 120_000_000 + self.key % 40_000_000
        self.meta_base = 60_000 + (self.key >> 20) % 10_000
        self.list_base = 30_000 + (self.key >> 34) % 8_000
        self.recipient_base = 200_000_000 + (self.key >> 40) % 50_000_000
        self.n_properties = n_properties
        self._phone_offset = self.key % _PHONE_SPACE
        self.lists = [self._list_spec(k) for k in range(n_lists)]
        self._members: dict[int, tuple[array[int], bytearray]] = {}

    def _h(self, i: int, salt: int) -> int:
        """`_mix(key ^ i * 0x9E3779B1 ^ salt << 56)`, inlined: rows need three or four each."""
        x = ((self.key ^ (i * 0x9E3779B1) ^ (salt << 56)) + 0x9E3779B97F4A7C15) & _M64
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
        return x ^ (x >> 31)

    # ----- identity -------------------------------------------------------------------------
    def contact_id(self, i: int) -> int:
        """Grows with i (Mailjet IDs grow with creation), with gaps."""
        return self.contact_base + i * _ID_STEP + (i * 5) % _ID_STEP

    def index_of_id(self, contact_id: int) -> int | None:
        i = (contact_id - self.contact_base) // _ID_STEP
        return i if i >= 0 and self.contact_id(i) == contact_id else None

    def names(self, i: int, h1: int | None = None) -> tuple[str, str]:
        """`h1`: `_h(i, 1)` when the caller has it already (rows are rendered by the thousand)."""
        h = self._h(i, 1) if h1 is None else h1
        return FIRST[(h >> 8) % len(FIRST)], LAST[(h >> 24) % len(LAST)]

    def email(self, i: int, h1: int | None = None) -> str:
        h = self._h(i, 1) if h1 is None else h1
        first, last = _SLUG_FIRST[(h >> 8) % len(FIRST)], _SLUG_LAST[(h >> 24) % len(LAST)]
        return f"{first}.{last}{i}@{DOMAINS[(h >> 40) % len(DOMAINS)]}"

    def index_for_email(self, email: str) -> int | None:
        """The generated contact an e-mail was made for (the caller checks it still is)."""
        m = re.search(r"(\d+)@", email)
        if not m:
            return None
        i = int(m.group(1))
        return i if i < self.n and self.email(i) == email.lower() else None

    # ----- the contact row ------------------------------------------------------------------
    def created(self, i: int) -> int:
        """Non-decreasing with i; denser towards the present (the account grew)."""
        u = i / self.n if self.n else 0.0
        return int(START + (SPAN - 86400) * u**0.6)

    def contact(self, i: int) -> Contact:
        h = self._h(i, 2)
        h1 = self._h(i, 1)
        created = self.created(i)
        life = END - created
        first, last = self.names(i, h1)
        named = h & 0xFF < 150  # many Mailjet contacts have no Name at all
        excluded = (h >> 8) & 0xFF < 8
        excluded_at = created + life * ((h >> 16) & 0xFF) // 256 if excluded or h >> 60 == 0 else 0
        activity = created + life * ((h >> 24) & 0xFF) // 256 if (h >> 32) & 0xFF < 180 else 0
        return Contact(
            email=self.email(i, h1),
            name=f"{first} {last}" if named else "",
            created=created,
            delivered=(h >> 40) % 300 if activity else 0,
            excluded=excluded,
            excluded_at=excluded_at,
            opt_in_pending=(h >> 50) & 0x7F == 0,
            spam=(h >> 57) & 0x7F == 1,
            last_activity=activity,
            last_update=max(activity, excluded_at),
        )

    # ----- properties -----------------------------------------------------------------------
    def _digits7(self, i: int) -> str:
        return str(2_000_000 + (i * _PHONE_MULT + self._phone_offset) % _PHONE_SPACE)

    def _phone_variants(self, i: int, h: int) -> list[str]:
        """Contact i's number: E.164, national, spaced, dashed (by country)."""
        d = self._digits7(i)
        country = (h >> 8) % 20
        if country < 11:  # United States
            area = ("212", "312", "415", "617", "702", "305")[(h >> 16) % 6]
            return [f"+1{area}{d}", f"({area}) {d[:3]}-{d[3:]}", f"+1 {area} {d[:3]} {d[3:]}"]
        if country < 15:  # United Kingdom mobile
            p = f"7{(h >> 16) % 90 + 10}{d[0]}"
            return [f"+44{p}{d[1:]}", f"0{p} {d[1:]}", f"+44 {p} {d[1:]}", f"+44-{p}-{d[1:]}"]
        if country < 18:  # France mobile
            n = f"6{(h >> 16) % 10}{d}"
            pairs = " ".join(n[k : k + 2] for k in range(1, 9, 2))
            return [f"+33{n}", f"0{n[0]} {pairs}", f"+33 {n[0]} {pairs}", f"+33.{n[0]}.{n[1:]}"]
        p = f"15{(h >> 16) % 10}"  # Germany mobile
        return [f"+49{p}{d}", f"0{p} {d}", f"+49 {p} {d}", f"+49-{p}-{d}"]

    def _own_phone(self, i: int, h: int) -> str | None:
        roll = h & 0xFFF
        if roll < 490:  # ~12 % have none
            return None
        if roll < 570:
            return ""
        if roll < 610:
            return ("n/a", "123", f"+999{self._digits7(i)}", "call me")[(h >> 12) % 4]
        variants = self._phone_variants(i, h)
        fmt = (h >> 32) % 100
        return variants[0] if fmt < 60 else variants[1 + fmt % (len(variants) - 1)]

    def phone(self, i: int, h3: int | None = None) -> str | None:
        """Mostly E.164, else national, spaced or dashed; ~12 % none, a few empty or junk, and
        ~0.5 % repeat contact i-1's number in another format (one person, two e-mails)."""
        h = self._h(i, 3) if h3 is None else h3
        if 610 <= h & 0xFFF < 630 and i > 0:
            hp = self._h(i - 1, 3)
            prev, own = self._phone_variants(i - 1, hp), self._own_phone(i - 1, hp)
            if own in prev:
                return next(v for v in prev[(h >> 12) % len(prev) :] + prev if v != own)
        return self._own_phone(i, h)

    def properties(self, i: int) -> list[str | None]:
        """Property values in contactmetadata order (None = never set), as strings: Mailjet's
        Go SDK reads contactdata values into `map[string]string`, so typed values come back
        as text (`"42"`, `"true"`, RFC 3339 times)."""
        h, h3 = self._h(i, 4), self._h(i, 3)
        first, last = self.names(i)
        phone = self.phone(i, h3)
        c = (h3 >> 8) % 20  # the phone's country
        opt_in: str | None = None
        if (phone and (h >> 30) & 0xF < 12) or (h >> 30) & 0xF == 15:
            opt_in = "true" if (h >> 34) & 0xF < 11 else "false"
        created = self.created(i)
        values: list[str | None] = [
            first if h & 0xF < 14 else None,
            last if (h >> 4) & 0xF < 13 else None,
            COUNTRIES[(c >= 11) + (c >= 15) + (c >= 18)] if (h >> 8) & 0xF < 11 else None,
            ("Y", "N")[(h >> 12) & 1] if (h >> 13) & 0xF < 8 else None,
            phone,
            CITIES[(h >> 40) % len(CITIES)] if (h >> 17) & 0xF < 8 else None,
            str((h >> 44) % 5000) if (h >> 21) & 0xF < 10 else None,
            f"{(h >> 36) % 250000 / 100:.2f}" if (h >> 25) & 0xF < 6 else None,
            rfc3339(created + (h >> 28) % (END - created + 1)) if (h >> 54) & 0xF < 7 else None,
            opt_in,
        ]
        # An account defines these properties first; others added later have no generated values.
        return values + [None] * (self.n_properties - len(values))

    # ----- lists and members ----------------------------------------------------------------
    def _list_spec(self, k: int) -> ListSpec:
        if k < len(LIST_TEMPLATES):
            name, share = LIST_TEMPLATES[k]
        else:
            name, share = f"Imported segment {k - len(LIST_TEMPLATES) + 1}", 0.04
        h = _mix(self.key ^ (0x1157 + k))
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        address = "".join(alphabet[(h >> (6 * n)) % len(alphabet)] for n in range(9))
        created = START + 86400 * (20 + 45 * k)
        return ListSpec(k, self.list_base + 37 * k + h % 29, address, name, created, share)

    def members(self, k: int) -> tuple[array[int], bytearray]:
        """List k's member contact indexes (ascending) and a flag byte for each."""
        got = self._members.get(k)
        if got is not None:
            return got
        share = self.lists[k].share
        rnd = random.Random(self.key ^ (0xA11 + k)).random
        idx: array[int] = array("i")
        flags = bytearray()
        for i in range(self.n):
            if rnd() < share:
                idx.append(i)
                r = rnd()
                flags.append(UNSUBSCRIBED if r < 0.08 else INACTIVE if r < 0.09 else 0)
        self._members[k] = (idx, flags)
        return idx, flags

    def subscribed_at(self, k: int, i: int) -> int:
        since = max(self.created(i), self.lists[k].created)
        return since + (END - since) * (self._h(i, 16 + k) & 0xFFFF) // 0x30000

    def unsubscribed_at(self, k: int, i: int) -> int:
        since = self.subscribed_at(k, i)
        return since + (END - since) * ((self._h(i, 16 + k) >> 16) & 0xFFFF) // 0x10000
