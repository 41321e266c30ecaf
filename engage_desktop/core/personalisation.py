"""Personal messages: `{first_name}`, `{Shoe size}`, and what happens when a value is missing.

The rule (docs/sms-gateway.md): a placeholder names a contact detail (`first_name`,
`last_name`, `email`, `phone`) or a platform field by its name (`{Shoe size}`). It may carry
a fallback after a bar, `{first_name|there}`, used when the contact has no value. A
placeholder without a fallback is required: a contact without that value is *skipped*
(reason `missing_field`) rather than sent a broken text such as "Hi , your order". `{{` and
`}}` write literal braces. An unknown name is an error before anything is prepared, with the
names that exist.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

BUILTINS = ("first_name", "last_name", "email", "phone")
MAX_CONTENT = 5000  # the gateway's limit for one message's content (NOTES §3)


class TemplateError(ValueError):
    """A message text that cannot be personalised; the message says what to change."""


@dataclass(frozen=True)
class Placeholder:
    """One `{name}` or `{name|fallback}` in a message."""

    name: str  # as the contact store knows it: a builtin or the platform field's own name
    builtin: bool
    fallback: str | None

    @property
    def required(self) -> bool:
        return self.fallback is None

    @property
    def written(self) -> str:
        return "{" + self.name + ("" if self.fallback is None else "|" + self.fallback) + "}"


Part = str | Placeholder


@dataclass(frozen=True)
class Template:
    """A parsed message: literal text and placeholders, in order."""

    text: str
    parts: tuple[Part, ...]

    @property
    def placeholders(self) -> tuple[Placeholder, ...]:
        return tuple(p for p in self.parts if isinstance(p, Placeholder))

    @property
    def personal(self) -> bool:
        """Whether recipients get different texts (else the text is stored once)."""
        return bool(self.placeholders)

    def render(
        self, details: Mapping[str, Any], fields: Mapping[str, Any] | None = None
    ) -> str | None:
        """The text for one contact (`details`: first_name, last_name, email, phone; `fields`:
        platform field values by name); None when a required value is missing."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            raw = details.get(part.name) if part.builtin else (fields or {}).get(part.name)
            value = format_value(raw)
            if value is None:
                if part.fallback is None:
                    return None
                value = part.fallback
            out.append(value)
        return "".join(out)

    def missing(
        self, details: Mapping[str, Any], fields: Mapping[str, Any] | None = None
    ) -> list[str]:
        """The required placeholders this contact has no value for."""
        return [
            p.written
            for p in self.placeholders
            if p.required
            and format_value(details.get(p.name) if p.builtin else (fields or {}).get(p.name))
            is None
        ]


def format_value(value: Any) -> str | None:
    """A stored value as it is written into a message; None when there is nothing to write
    (no value, an empty or blank text, a number that is not finite)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    text = str(value).strip()
    return text or None


def parse_template(text: str, field_names: Iterable[str] = ()) -> Template:
    """Parse a message against the platform fields that exist; TemplateError says what is
    wrong (an unclosed or empty placeholder, an unknown name, a text too long)."""
    if not text.strip():
        raise TemplateError("The message is empty: write the text to send.")
    if len(text) > MAX_CONTENT:
        raise TemplateError(
            f"The message is {len(text):,} characters; MessageMedia takes at most {MAX_CONTENT:,}."
        )
    known = list(field_names)
    by_folded: dict[str, list[str]] = {}
    for name in known:
        by_folded.setdefault(name.casefold(), []).append(name)
    parts: list[Part] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c in "{}" and text[i : i + 2] in ("{{", "}}"):
            literal.append(c)
            i += 2
            continue
        if c != "{":
            literal.append(c)
            i += 1
            continue
        end = text.find("}", i + 1)
        if end < 0:
            raise TemplateError(
                f"A placeholder is not closed: '{text[i : i + 20]}…'. Close it with '}}', or "
                f"write '{{{{' for a literal brace."
            )
        inner = text[i + 1 : end]
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(_placeholder(inner, known, by_folded))
        i = end + 1
    if literal:
        parts.append("".join(literal))
    return Template(text, tuple(parts))


def _placeholder(inner: str, known: list[str], by_folded: dict[str, list[str]]) -> Placeholder:
    name, bar, fallback = inner.partition("|")
    name = name.strip()
    if not name:
        raise TemplateError(
            "A placeholder has no name: write {first_name}, {last_name}, {email} or a field's "
            "name such as {Shoe size}."
        )
    if name.casefold() in BUILTINS:
        return Placeholder(name.casefold(), True, fallback if bar else None)
    if '"' in name or "\\" in name:
        raise TemplateError(f"'{{{name}}}': a field name with quotes cannot be used in a message.")
    if name in known:
        return Placeholder(name, False, fallback if bar else None)
    matches = by_folded.get(name.casefold(), [])
    if len(matches) == 1:
        return Placeholder(matches[0], False, fallback if bar else None)
    names = ", ".join([*(f"{{{b}}}" for b in BUILTINS), *(f"{{{k}}}" for k in known)])
    raise TemplateError(f"'{{{name}}}' is not a contact detail or field. Use one of: {names}.")
