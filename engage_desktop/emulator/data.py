"""Deterministic, lazy account data: profile `i` is a pure function of (seed, i).

Nothing is stored per profile except two compact arrays built on first use (base `updated`
times, and each list's members with their join times), so a million profiles cost tens of MB.
Ids, phones and emails are built so that they can be turned back into the profile index,
which is how the emulator answers `equals(id|email|phone_number, …)` without a scan.
"""

from __future__ import annotations

import _random
import random
import re
import threading
import unicodedata
from array import array
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Any

from engage_desktop.emulator.timeutil import iso

END = datetime(2026, 10, 1, tzinfo=UTC).timestamp()  # generated history ends here
SPAN = 5 * 365 * 86400  # …and starts five years earlier
START = END - SPAN
_M64 = (1 << 64) - 1
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PHONE_SPACE = 8_000_000  # 7-digit subscriber numbers 2000000-9999999
_PHONE_MULT = 7919  # coprime with the space, so the scramble is a bijection
_M40 = (1 << 40) - 1
_ID_MULT = 0x9E3779B97F & _M40 | 1  # odd: a bijection on 40 bits that scatters neighbours

FIRST = [
    "Maria",
    "José",
    "Zoë",
    "Łukasz",
    "Søren",
    "Aylin",
    "Mohammed",
    "Chloé",
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Sofía",
    "Mateo",
    "Hana",
    "Yuki",
    "Anaïs",
    "Björn",
    "Siobhán",
    "Priya",
    "Wei",
    "Fatima",
    "Ngozi",
    "Jürgen",
    "Ana-Lucía",
    "D'Andre",
    "Åsa",
    "Chen",
    "Kateřina",
]
LAST = [
    "García",
    "Müller",
    "O'Brien",
    "Nowak",
    "Smith",
    "Johnson",
    "Øvergaard",
    "Yılmaz",
    "Dubois",
    "van der Berg",
    "Ferreira",
    "Nguyễn",
    "Kowalczyk",
    "Rossi",
    "Tanaka",
    "Okafor",
    "Brown",
    "Schröder",
    "Martínez",
    "Lee",
    "Patel",
    "Ivanova",
    "Żuraw",
    "Lefèvre",
    "Williams",
    "李",
]
DOMAINS = ["example.com", "mail.example.org", "example.net", "shop.example", "corp.example.com"]
AREA_CODES = ["212", "213", "312", "415", "617", "646", "702", "713", "305", "404", "503", "206"]
UK_PREFIXES = ["40", "45", "70", "71", "76", "90", "91", "95"]
# Numbers Klaviyo's older APIs let through; each still ends in the profile's 7 digits, so that
# `equals(phone_number, …)` finds them without a scan.
INVALID_PHONES = ["+999{d}", "{d}", "+1{d}", "+155{d}", "{a}-{b}"]
CITIES = [
    ("New York", "NY", "United States", "10001", "America/New_York", 40.71, -74.0),
    ("San Francisco", "CA", "United States", "94103", "America/Los_Angeles", 37.77, -122.42),
    ("Chicago", "IL", "United States", "60601", "America/Chicago", 41.88, -87.63),
    ("London", "England", "United Kingdom", "SW1A 1AA", "Europe/London", 51.5, -0.13),
    ("Zürich", "ZH", "Switzerland", "8001", "Europe/Zurich", 47.37, 8.54),
    ("São Paulo", "SP", "Brazil", "01000-000", "America/Sao_Paulo", -23.55, -46.63),
]
COLORS = ["red", "green", "blue", "teal", "black", "rosé"]
SOURCES = ["Shopify", "Popup form", "Checkout", "Instagram", "In store"]
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


_c_seed = _random.Random.seed  # what random.Random.seed does for an int, without its wrapper


def _unit(h: int) -> float:
    """The low 24 bits of a hash as a number in [0, 1)."""
    return (h & 0xFFFFFF) / 0x1000000


def _mix(x: int) -> int:
    """splitmix64: a fast, well-spread 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


# Attributes drawn one after another from profile i's seeded generator (see `attributes`)
_DRAWN = frozenset(
    {"external_id", "organization", "locale", "title", "last_event_date", "location", "properties"}
)

_FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ı": "i", "æ": "ae", "ß": "ss"})


@lru_cache(maxsize=1024)  # names come from short lists
def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    ascii_text = folded.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", ascii_text.lower()) or "user"


# Crockford base32 two characters at a time: a ULID's 130 bits are 13 chunks of 10
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
_PAIR_SHIFTS = tuple(range(120, -1, -10))


def encode_ulid(ms: int, rand80: int) -> str:
    value = (ms << 80) | rand80
    return "".join([_PAIRS[(value >> s) & 1023] for s in _PAIR_SHIFTS])


def decode_ulid(text: str) -> tuple[int, int] | None:
    if len(text) != 26:
        return None
    value = 0
    for ch in text.upper():
        d = _CROCKFORD.find(ch)
        if d < 0:
            return None
        value = (value << 5) | d
    return value >> 80, value & ((1 << 80) - 1)


@dataclass(frozen=True)
class ListSpec:
    """A generated list: id, name, creation time and membership probability."""

    index: int
    id: str
    name: str
    created: float
    share: float


class AccountData:
    """Everything the seed determines: the account, its lists and `n` profiles."""

    def __init__(self, seed: int, n_profiles: int, n_lists: int) -> None:
        if n_profiles > _PHONE_SPACE:
            raise ValueError(f"at most {_PHONE_SPACE} generated profiles")
        self.seed = seed
        self.n = n_profiles
        self._local = threading.local()
        self._key = _mix(seed * 0x100000001B3 + 0x5EED)
        self._tag40 = self._key >> 24  # top 40 bits of the ULID randomness: this account
        self._mask40 = _mix(self._key) & ((1 << 40) - 1)
        self._phone_offset = self._key % _PHONE_SPACE
        self._phone_inv = pow(_PHONE_MULT, -1, _PHONE_SPACE)
        self._id_inv = pow(_ID_MULT, -1, 1 << 40)
        self.account_id = self._short_id(0xACC)
        self.lists = [self._list_spec(k) for k in range(n_lists)]

    # ----- identity -------------------------------------------------------------------------
    def _short_id(self, salt: int) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
        h = _mix(self._key ^ salt)
        return "".join(alphabet[(h >> (6 * k)) % len(alphabet)] for k in range(6))

    def _rng(self, i: int, salt: int) -> random.Random:
        """The generator random.Random(seed) would be, made by reseeding one kept per salt
        and thread: Random(seed) seeds twice (in __new__, from the OS, and in __init__),
        and profiles are rendered by the hundred thousand. Valid until the next call with
        the same salt on this thread."""
        rngs: dict[int, random.Random] | None = getattr(self._local, "rngs", None)
        if rngs is None:
            rngs = self._local.rngs = {}
        r = rngs.get(salt)
        if r is None:
            r = rngs[salt] = random.Random()
        _c_seed(r, self._seed_of(i, salt))
        return r

    def _seed_of(self, i: int, salt: int) -> int:
        return _mix(self._key ^ (i * 0x9E3779B1) ^ (salt << 56))

    def profile_id(self, i: int, created_ms: int | None = None) -> str:
        """A ULID: creation time, then 40 bits naming the account and 40 encoding i."""
        ms = int(self.created(i) * 1000) if created_ms is None else created_ms
        low = ((i ^ self._mask40) * _ID_MULT) & _M40
        return encode_ulid(ms, (self._tag40 << 40) | low)

    def index_of(self, profile_id: str) -> int | None:
        """The index a profile id was made for, or None when it is not one of this account's."""
        decoded = decode_ulid(profile_id)
        if decoded is None or decoded[1] >> 40 != self._tag40:
            return None
        return ((decoded[1] & _M40) * self._id_inv) & _M40 ^ self._mask40

    # ----- times ----------------------------------------------------------------------------
    def created(self, i: int) -> float:
        """Strictly increasing with i; denser towards the present (the account grew)."""
        if i < self.n:
            return self._created[i]
        u = i / self.n if self.n else 0.0
        return float(int(START + i + (SPAN - self.n - 86400) * u**0.6))

    @cached_property
    def _created(self) -> array[float]:
        """created(i) for every generated profile (a profile's id and times all need it)."""
        n, scale = self.n, SPAN - self.n - 86400
        return array("d", (float(int(START + i + scale * (i / n) ** 0.6)) for i in range(n)))

    @cached_property
    def base_updated(self) -> array[float]:
        out = array("d", bytes(8 * self.n))
        rnd = random.Random(self._key ^ 0x0DD).random
        for i in range(self.n):
            c = self.created(i)
            out[i] = float(int(c + (END - c) * rnd() ** 2))
        return out

    # ----- contact points -------------------------------------------------------------------
    # Names, email and phone are drawn from bit fields of one 64-bit hash each, not from a
    # seeded Mersenne Twister: they are looked up by index (email and phone lookups) and
    # rendered a hundred thousand times a sync, and seeding costs more than the draws.
    def names(self, i: int) -> tuple[str | None, str | None]:
        h = self._seed_of(i, 1)
        first: str | None = FIRST[(h >> 24) % len(FIRST)]
        last: str | None = LAST[(h >> 40) % len(LAST)]
        roll = _unit(h)
        if roll < 0.03:
            first = None
        elif roll < 0.05:
            last = None
        elif roll < 0.0501:
            first = (first or "Max") * (10_000 // len(first or "Max") + 1)
            first = first[:10_000]
        return first, last

    def email(self, i: int, names: tuple[str | None, str | None] | None = None) -> str | None:
        """`names`: profile i's names when the caller has them already."""
        h = self._seed_of(i, 2)
        if _unit(h) < 0.08:
            return None
        first, last = names or self.names(i)
        domain = DOMAINS[(h >> 24) % len(DOMAINS)]
        return f"{_slug(first or '')[:20]}.{_slug(last or '')[:20]}{i}@{domain}"

    def index_for_email(self, email: str) -> int | None:
        m = re.search(r"(\d+)@", email)
        if not m:
            return None
        i = int(m.group(1))
        return i if i < self.n and self.email(i) == email.lower() else None

    def _digits7(self, i: int) -> str:
        return str(2_000_000 + (i * _PHONE_MULT + self._phone_offset) % _PHONE_SPACE)

    def _e164(self, i: int, h: int) -> str:
        d = self._digits7(i)
        if _unit(h >> 24) < 0.12:
            return f"+447{UK_PREFIXES[(h >> 48) % len(UK_PREFIXES)]}{d}"
        return f"+1{AREA_CODES[(h >> 48) % len(AREA_CODES)]}{d}"

    def phone(self, i: int) -> str | None:
        """Mostly E.164; some national format, some invalid, a few repeating i-1's number."""
        h = self._seed_of(i, 3)
        roll = _unit(h)
        if roll < 0.12:
            return None
        if roll < 0.14:
            d = self._digits7(i)
            return INVALID_PHONES[(h >> 48) % len(INVALID_PHONES)].format(d=d, a=d[:3], b=d[3:])
        if roll < 0.145 and i > 0:
            prev = self.phone(i - 1)
            if prev and prev.startswith("+1") and len(prev) == 12:
                return f"({prev[2:5]}) {prev[5:8]}-{prev[8:]}"
        e164 = self._e164(i, h)
        if roll < 0.19:
            if e164.startswith("+1"):
                return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
            return "0" + e164[3:7] + " " + e164[7:]
        return e164

    def indexes_for_phone(self, phone: str) -> list[int]:
        digits = re.sub(r"\D", "", phone)
        if len(digits) < 7:
            return []
        d7 = int(digits[-7:])
        if not 2_000_000 <= d7 < 2_000_000 + _PHONE_SPACE:
            return []
        i = ((d7 - 2_000_000 - self._phone_offset) * self._phone_inv) % _PHONE_SPACE
        return [c for c in (i, i + 1) if c < self.n and self.phone(c) == phone]

    # ----- the whole profile ----------------------------------------------------------------
    def attributes(self, i: int, wanted: Collection[str] | None = None) -> dict[str, Any]:
        """All attributes of generated profile i, `subscriptions` included.

        `wanted`: the top-level attributes the caller will use (a sparse fieldset); others may
        then be left out. Every attribute has the same value whichever are asked for."""
        created = self.created(i)
        updated = self.base_updated[i]
        first, last = self.names(i)
        phone = self.phone(i)
        if wanted is not None and _DRAWN.isdisjoint(wanted):
            # None of the attributes drawn in sequence below: skip seeding and drawing them
            out: dict[str, Any] = {
                "email": self.email(i, (first, last)),
                "phone_number": phone,
                "first_name": first,
                "last_name": last,
                "image": None,
            }
            if "created" in wanted:
                out["created"] = iso(created)
            if "updated" in wanted:
                out["updated"] = iso(updated)
            if "subscriptions" in wanted:
                out["subscriptions"] = self._subscriptions(i, phone is not None, created, updated)
            return out
        r = self._rng(i, 4)
        city = r.choice(CITIES)
        return {
            "email": self.email(i, (first, last)),
            "phone_number": phone,
            "external_id": f"shop-{i}" if r.random() < 0.3 else None,
            "first_name": first,
            "last_name": last,
            "organization": "Example Trading Ltd" if r.random() < 0.1 else None,
            "locale": r.choice(["en-US", "en-GB", "de-DE", "fr-FR", "es-ES", None]),
            "title": "Buyer" if r.random() < 0.05 else None,
            "image": None,
            "created": iso(created),
            "updated": iso(updated),
            "last_event_date": iso(created + (updated - created) * r.random())
            if r.random() < 0.7
            else None,
            "location": {
                "address1": f"{r.randint(1, 999)} Market Street" if r.random() < 0.5 else None,
                "address2": None,
                "city": city[0],
                "region": city[1],
                "country": city[2],
                "zip": city[3],
                "timezone": city[4],
                "latitude": city[5],
                "longitude": city[6],
                "ip": None,
            }
            if r.random() < 0.7
            else None,
            "properties": self._properties(r, created, updated),
            "subscriptions": self._subscriptions(i, phone is not None, created, updated),
        }

    def _properties(self, r: random.Random, created: float, updated: float) -> dict[str, Any]:
        p: dict[str, Any] = {}
        if r.random() < 0.7:
            p["loyalty_points"] = r.randint(0, 5000)
        if r.random() < 0.6:
            p["lifetime_value"] = round(r.uniform(0, 2500), 2)
        if r.random() < 0.4:
            p["Shoe Size"] = str(r.choice([6, 7, 8, 8.5, 9, 9.5, 10, 11, 12]))
        if r.random() < 0.5:
            p["zip_code"] = f"{r.randint(0, 99999):05d}"
        if r.random() < 0.5:
            p["birthday"] = f"{r.randint(1950, 2006)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        if r.random() < 0.5:
            p["last_order_date"] = (
                "next tuesday" if r.random() < 0.03 else iso(created + (updated - created) / 2)
            )
        if r.random() < 0.5:
            p["vip"] = r.random() < 0.1
        if r.random() < 0.5:
            p["favorite_color"] = r.choice(COLORS)
        if r.random() < 0.3:
            p["preferences"] = {
                "channel": r.choice(["sms", "email"]),
                "frequency": r.choice(["daily", "weekly", "monthly"]),
                "store": {"city": r.choice(CITIES)[0]},
            }
        if r.random() < 0.3:
            p["tags"] = r.sample(["summer", "sale", "new", "loyal", "wholesale"], r.randint(1, 3))
        if r.random() < 0.6:
            p["$source"] = r.choice(SOURCES)
        if r.random() < 0.2:
            p["signup_epoch"] = int(created)
        if r.random() < 0.001:
            p["notes"] = "Lorem ipsum dolor sit amet. " * 700  # ~20 KB blob
        return p

    def _subscriptions(
        self, i: int, has_phone: bool, created: float, updated: float
    ) -> dict[str, Any]:
        h = self._seed_of(i, 5)
        roll = _unit(h) if has_phone else 0.55 + _unit(h) * 0.45
        when = iso(created + (updated - created) * _unit(h >> 24))
        sms: dict[str, Any] | None
        if roll < 0.55:
            sms = _channel("SUBSCRIBED", when, ("TEXT", "FORM", "API")[(h >> 48) % 3], "JOIN")
        elif roll < 0.75:
            sms = _channel("NEVER_SUBSCRIBED", None, None, None)
        elif roll < 0.87:
            sms = _channel("UNSUBSCRIBED", when, "TEXT", "STOP")
        else:
            sms = None
        email_consent = ("SUBSCRIBED", "SUBSCRIBED", "NEVER_SUBSCRIBED", "UNSUBSCRIBED")[
            (h >> 56) % 4
        ]
        email_when = iso(created) if email_consent != "NEVER_SUBSCRIBED" else None
        return {
            "email": {
                "marketing": {
                    "can_receive_email_marketing": email_consent == "SUBSCRIBED",
                    "consent": email_consent,
                    "consent_timestamp": email_when,
                    "last_updated": email_when,
                    "method": "FORM" if email_when else None,
                    "method_detail": "",
                    "custom_method_detail": None,
                    "double_optin": None,
                    "suppression": [],
                    "list_suppressions": [],
                }
            },
            "sms": {"marketing": sms, "transactional": None} if sms else None,
            "mobile_push": None,
            "whatsapp": None,
        }

    # ----- lists ----------------------------------------------------------------------------
    def _list_spec(self, k: int) -> ListSpec:
        if k < len(LIST_TEMPLATES):
            name, share = LIST_TEMPLATES[k]
        else:
            name, share = f"Imported segment {k - len(LIST_TEMPLATES) + 1}", 0.04
        return ListSpec(k, self._short_id(0x1157 + k), name, START + 86400 * (30 + 40 * k), share)

    def members(self, k: int) -> tuple[array[int], array[float]]:
        """List k's members and join times, in profile-index order."""
        spec = self.lists[k]
        rnd = random.Random(self._key ^ (0xA11 + k)).random
        idx = array("i")
        joined = array("d")
        for i in range(self.n):
            if rnd() < spec.share:
                c = max(self.created(i), spec.created)
                idx.append(i)
                joined.append(float(int(c + (END - c) * rnd() ** 3)))
        return idx, joined


def _channel(
    consent: str, when: str | None, method: str | None, detail: str | None
) -> dict[str, Any]:
    return {
        "can_receive_sms_marketing": consent == "SUBSCRIBED",
        "consent": consent,
        "consent_timestamp": when,
        "method": method,
        "method_detail": detail,
        "last_updated": when,
    }
