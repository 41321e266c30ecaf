"""Secret values that never show up in logs, reprs or exception text."""

from __future__ import annotations

import re

_KEY_LIKE = re.compile(r"pk_[A-Za-z0-9_]{4,}")
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")


class ApiKey:
    """A Klaviyo private API key; its repr and str are masked, `reveal()` gives the text."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value.strip()

    def reveal(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        """The key as shown to people: its prefix and last four characters."""
        v = self._value
        if len(v) <= 8:
            return "pk_…"
        return f"{v[:3]}…{v[-4:]}"

    def __repr__(self) -> str:
        return f"ApiKey({self.masked})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("ApiKey", self._value))


def redact(text: str) -> str:
    """Mask anything that looks like a private API key in free text, and the user name and
    password of any URL."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}***@", text)
    return _KEY_LIKE.sub(lambda m: f"pk_…{m.group(0)[-4:]}", text)


def looks_like_private_key(text: str) -> bool:
    """A well-formed private key: `pk_` and at least 20 letters, digits or underscores."""
    return re.fullmatch(r"pk_[A-Za-z0-9_]{20,}", text.strip()) is not None
