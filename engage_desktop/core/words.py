"""Numbers in sentences: "1 issue", "2 issues", "1,204 contacts" — never "issue(s)"."""

from __future__ import annotations

_IRREGULAR = {"person": "people", "reply": "replies", "property": "properties"}


def plural(n: int, noun: str, many: str | None = None) -> str:
    """`n` and the noun, singular or plural as `n` asks ("1 issue", "0 issues", "3 lists")."""
    if n == 1:
        return f"1 {noun}"
    word = (
        many
        or _IRREGULAR.get(noun)
        or (noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s")
    )
    return f"{n:,} {word}"
