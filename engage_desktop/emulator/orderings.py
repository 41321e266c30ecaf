"""Keyset orderings over profile indexes: the emulator's replacement for a database index.

An ordering yields `(key, index)` pairs in key order, starting strictly after (or before) a
cursor key, so that pages stay correct while profiles change between requests.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Iterator, Sequence
from typing import Any

Key = tuple[Any, ...]


class Ordering:
    """A sorted base array of indexes plus a small overlay of indexes whose key changed."""

    def __init__(
        self,
        base: Sequence[int],
        base_key: Callable[[int], Any],
        overlay: dict[int, Any],
        excluded: Callable[[int], bool],
    ) -> None:
        self._base = base
        self._base_key = base_key
        self._overlay = sorted((k, i) for i, k in overlay.items())
        self._moved = overlay
        self._excluded = excluded

    def iterate(self, after: Key | None, reverse: bool) -> Iterator[tuple[Key, int]]:
        """Pairs strictly beyond `after` (a `(key, index)` tuple) in the chosen direction."""
        base_key = self._base_key
        moved = self._moved

        def full(i: int) -> Key:
            return (base_key(i), i)

        if reverse:
            hi = (
                len(self._base)
                if after is None
                else bisect.bisect_left(self._base, after, key=full)
            )
            o_hi = (
                len(self._overlay)
                if after is None
                else bisect.bisect_left(self._overlay, (after[0], after[1]))
            )
            base_it: Iterator[tuple[Key, int]] = (
                (full(i), i)
                for i in (self._base[p] for p in range(hi - 1, -1, -1))
                if i not in moved
            )
            over_it: Iterator[tuple[Key, int]] = (
                ((k, i), i) for k, i in reversed(self._overlay[:o_hi])
            )
            merged = (
                heapq.merge(base_it, over_it, key=lambda t: t[0], reverse=True)
                if moved
                else base_it
            )
        else:
            lo = 0 if after is None else bisect.bisect_right(self._base, after, key=full)
            o_lo = 0 if after is None else bisect.bisect_right(self._overlay, (after[0], after[1]))
            base_it = (
                (full(i), i)
                for i in (self._base[p] for p in range(lo, len(self._base)))
                if i not in moved
            )
            over_it = (((k, i), i) for k, i in self._overlay[o_lo:])
            merged = heapq.merge(base_it, over_it, key=lambda t: t[0]) if moved else base_it
        excluded = self._excluded
        for key, i in merged:
            if not excluded(i):
                yield key, i
