"""SMS segment counting: GSM-7 160/153, UCS-2 70/67, extension characters count twice."""

from __future__ import annotations

from engage_desktop.core.segments import count_segments


def test_gsm7_single_and_multi() -> None:
    assert count_segments("").segments == 0
    one = count_segments("a" * 160)
    assert (one.encoding, one.units, one.segments, one.remaining) == ("GSM-7", 160, 1, 0)
    two = count_segments("a" * 161)
    assert (two.segments, two.remaining) == (2, 153 * 2 - 161)
    assert count_segments("a" * 306).segments == 2
    assert count_segments("a" * 307).segments == 3


def test_extension_characters_take_two_and_never_split() -> None:
    assert count_segments("€" * 80).units == 160
    assert count_segments("€" * 80).segments == 1
    assert count_segments("a" * 159 + "€").segments == 2  # 161 septets
    # 152 septets then an escape pair: it cannot straddle the boundary
    split = count_segments("a" * 152 + "[" + "a" * 10)
    assert split.units == 164 and split.segments == 2 and split.remaining == 153 - 12


def test_ucs2_when_any_character_is_outside_gsm7() -> None:
    assert count_segments("héllo ✓").encoding == "UCS-2"
    assert count_segments("ö" * 160).encoding == "GSM-7"  # ö is in the GSM-7 table
    assert count_segments("✓" * 70).segments == 1
    assert count_segments("✓" * 71).segments == 2
    emoji = count_segments("😀" * 35)  # surrogate pairs: 70 units
    assert (emoji.units, emoji.segments) == (70, 1)
    assert count_segments("a" * 66 + "😀").segments == 1
    assert count_segments("a" * 66 + "😀" + "b" * 4).segments == 2
    assert "segment" in count_segments("hi").describe()
