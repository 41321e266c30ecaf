"""A listing's query string the way Mailjet reads it, and the page it answers.

Parameter names are case-insensitive and only their first occurrence counts; unknown ones are
ignored (recorded: `?InvalidParameter=0` is a 200 with every row). `Limit` defaults to 10,
`0` means the maximum, 1,000. Without a count flag `Count` = `Total` = rows in this page;
`countOnly=1` answers the global count with no rows; the older `countrecords=1` answers the page
*and* the global `Total` (both recorded).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from engage_desktop.emulator.mailjet import envelope
from engage_desktop.emulator.mailjet.envelope import bad_request
from engage_desktop.emulator.wire import Request, Response

MAX_LIMIT = 1000
DEFAULT_LIMIT = 10
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
T = TypeVar("T")


class Query:
    """The parameters of one GET: filters, paging, sorting, count flags."""

    def __init__(self, req: Request) -> None:
        self.params: dict[str, str] = {}
        for name, value in req.query:
            self.params.setdefault(name.lower(), value)
        self.limit = self._limit()
        self.offset = self.integer("Offset") or 0
        if self.offset < 0:
            raise bad_request("Offset must not be negative")
        self.count_only = bool(self.flag("countOnly"))
        self.count_records = bool(self.flag("countrecords"))
        self.sort = self._sort()

    def get(self, name: str) -> str | None:
        return self.params.get(name.lower())

    def has(self, name: str) -> bool:
        return name.lower() in self.params

    def integer(self, name: str) -> int | None:
        raw = self.get(name)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise bad_request(f'Invalid value "{raw}" for {name}') from None

    def flag(self, name: str) -> bool | None:
        raw = self.get(name)
        if raw is None or raw == "":
            return None
        text = raw.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise bad_request(f'Invalid value "{raw}" for {name}')

    def _limit(self) -> int:
        limit = self.integer("Limit")
        if limit is None:
            return DEFAULT_LIMIT
        if limit < 0:
            raise bad_request("Limit must not be negative")
        return MAX_LIMIT if limit == 0 else min(limit, MAX_LIMIT)

    def _sort(self) -> list[tuple[str, bool]]:
        """`Sort=Email`, `Sort=Email DESC` (`+DESC` in a URL), several joined with commas."""
        raw = self.get("Sort")
        out: list[tuple[str, bool]] = []
        for part in (raw or "").replace("+", " ").split(","):
            words = part.split()
            if not words:
                continue
            if len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
                raise bad_request(f'Invalid sort "{raw}"')
            out.append((words[0].lower(), len(words) == 2 and words[1].upper() == "DESC"))
        return out

    def sort_key(self, allowed: dict[str, Callable[[T], Any]]) -> Callable[[T], Any] | None:
        """The key function for this query's sort (None for the default ID order), or a 400
        for a property the resource cannot sort on."""
        if not self.sort:
            return None
        keys = []
        for name, desc in self.sort:
            key = allowed.get(name)
            if key is None:
                raise bad_request(f'Sort is not possible on "{name}"')
            keys.append((key, desc))
        return _composite(keys)

    def page(self, selection: Sequence[T], render: Callable[[T], str]) -> Response:
        """The envelope for this query's window of an ordered selection."""
        if self.count_only:
            return envelope.json_response(200, envelope.count_only(len(selection)))
        rows = [render(x) for x in selection[self.offset : self.offset + self.limit]]
        total = len(selection) if self.count_records else len(rows)
        return envelope.json_response(200, envelope.page(rows, total))


class _Desc:
    """Inverts the order of a sort key (for DESC parts of a composite sort)."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.key < self.key)

    def __eq__(self, other: object) -> bool:  # tuples compare items with == first
        return isinstance(other, _Desc) and bool(self.key == other.key)


def _composite(keys: list[tuple[Callable[[T], Any], bool]]) -> Callable[[T], Any]:
    def key(x: T) -> Any:
        return tuple(_Desc(k(x)) if desc else k(x) for k, desc in keys)

    return key
