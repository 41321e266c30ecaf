"""How many SMS segments a message takes: GSM-7 (160 / 153) or UCS-2 (70 / 67).

GSM-7 extension characters (€ [ ] { } and a few more) take two septets, and a segment never
splits one; UCS-2 counts UTF-16 code units and never splits a surrogate pair (an emoji).
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentCount:
    """The encoding, the length in its units, segments, and what is left in the last one."""

    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets or UTF-16 code units
    segments: int
    remaining: int  # units still free in the last segment

    def describe(self) -> str:
        if self.units == 0:
            return "0 characters"
        return (
            f"{self.units} {'characters' if self.encoding == 'GSM-7' else 'UCS-2 units'} · "
            f"{self.segments} segment{'s' if self.segments != 1 else ''} ({self.encoding}) · "
            f"{self.remaining} left"
        )


def count_segments(text: str) -> SegmentCount:
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        sizes = [2 if c in GSM7_EXTENSION else 1 for c in text]
        return _pack("GSM-7", sizes, single=160, multi=153)
    sizes = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return _pack("UCS-2", sizes, single=70, multi=67)


def _pack(encoding: str, sizes: list[int], single: int, multi: int) -> SegmentCount:
    units = sum(sizes)
    if units <= single:
        return SegmentCount(encoding, units, 1 if units else 0, single - units)
    segments, used = 1, 0
    for size in sizes:  # greedy: a character that does not fit starts the next segment
        if used + size > multi:
            segments += 1
            used = 0
        used += size
    return SegmentCount(encoding, units, segments, multi - used)
