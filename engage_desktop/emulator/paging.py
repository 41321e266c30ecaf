"""Keyset pagination over an ordering, with filters, `links.next/prev` and size caps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engage_desktop.emulator.filters import Condition
from engage_desktop.emulator.orderings import Key, Ordering
from engage_desktop.emulator.wire import Cursors, Request, bad_request, cursor_from_param

_BIG = 1 << 62


def page_size(req: Request, default: int, cap: int) -> int:
    raw = req.param("page[size]")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        raise bad_request(f"'{raw}' is not a valid integer.", parameter="page[size]") from None
    if size < 1 or size > cap:
        raise bad_request(
            f"Page size must be an integer between 1 and {cap}.", parameter="page[size]"
        )
    return size


@dataclass
class Page:
    """The indexes on one page (with their keys) and the links around it."""

    items: list[tuple[Key, int]]
    next_url: str | None
    prev_url: str | None


def paginate(
    req: Request,
    cursors: Cursors,
    scope: str,
    ordering: Ordering,
    descending: bool,
    size: int,
    matches: Callable[[int], bool],
    sort_bounds: list[Condition],
    sort_value: Callable[[Condition], Any],
) -> Page:
    """One page of `ordering` after the request's cursor.

    `sort_bounds` are conditions on the sort field itself: they choose where to start and when
    to stop, so a narrow window costs only its own rows.
    """
    raw = req.param("page[cursor]")
    direction, after = "n", None
    if raw:
        direction, after = cursors.decode(scope, cursor_from_param(raw))
    backwards = direction == "p"
    reverse = descending != backwards  # walking the ordering from its high end
    start, stop = _window(sort_bounds, sort_value, reverse)
    if after is None and start is not None:
        after = start
    elif after is not None and start is not None:
        after = max(after, start) if not reverse else min(after, start)

    items: list[tuple[Key, int]] = []
    more = False
    for key, i in ordering.iterate(after, reverse):
        if stop is not None and stop(key):
            break
        if not matches(i):
            continue
        if len(items) == size:
            more = True
            break
        items.append((key, i))
    if backwards:
        items.reverse()
    next_url = prev_url = None
    if items:
        first, last = items[0][0], items[-1][0]
        has_next = more if not backwards else True
        has_prev = more if backwards else raw is not None
        if has_next:
            next_url = req.url({"page[cursor]": cursors.encode(scope, "n", last)})
        if has_prev:
            prev_url = req.url({"page[cursor]": cursors.encode(scope, "p", first)})
    elif backwards:
        next_url = req.url({"page[cursor]": cursors.encode(scope, "n", after or ())})
    return Page(items, next_url, prev_url)


def _window(
    bounds: list[Condition], value: Callable[[Condition], Any], reverse: bool
) -> tuple[Key | None, Callable[[Key], bool] | None]:
    """Start key and stop test implied by comparisons on the sort field."""
    start: Key | None = None
    stops: list[Callable[[Key], bool]] = []
    for c in bounds:
        v = value(c)
        lower = c.op in ("greater-than", "greater-or-equal")
        inclusive = c.op.endswith("-or-equal")
        if lower != reverse:
            # a bound at the end we start from: begin just outside it
            if lower:
                k: Key = (v, -1) if inclusive else (v, _BIG)
                start = k if start is None or k > start else start
            else:
                k = (v, _BIG) if inclusive else (v, -1)
                start = k if start is None or k < start else start
        else:
            stops.append(_past(v, inclusive, below=lower))
    if not stops:
        return start, None
    return start, lambda key: any(s(key) for s in stops)


def _past(v: Any, inclusive: bool, below: bool) -> Callable[[Key], bool]:
    """A test for keys beyond a bound: below a lower bound, or above an upper one."""

    def test(key: Key) -> bool:
        beyond = key[0] < v if below else key[0] > v
        return bool(beyond or (not inclusive and key[0] == v))

    return test
