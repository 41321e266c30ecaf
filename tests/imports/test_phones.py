"""A CSV file's numbers are read exactly as the full parse reads them, only faster."""

from __future__ import annotations

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from engage_desktop.sync.phones import parsed_e164
from engage_desktop.sync.written_phones import surely_valid, written_phone

REGIONS = ["US", "GB", "FR", "DE", "AU", "IT", "ES", "IE", "NL", "BR", "JP", "AR"]
national = st.text("0123456789", min_size=6, max_size=12)
writings = st.sampled_from(
    [
        "+{cc}{n}",
        "+{cc} {a} {b}",
        "+{cc}-{a}-{b}",
        "+{cc}.{a}.{b}",
        "{n}",
        "0{n}",
        "({a}) {b}",
        "{a}.{b}",
        "00{cc}{n}",
        "011 {cc} {n}",
        "+{cc} (0) {n}",
        "1 {a} {b}",
        "{n} ext. 12",
    ]
)


@settings(max_examples=3000, deadline=None)
@given(
    national,
    writings,
    st.sampled_from(REGIONS),
    st.sampled_from(REGIONS),
)
def test_every_writing_reads_as_the_full_parse_reads_it(
    digits: str, writing: str, home: str, region: str
) -> None:
    cc = phonenumbers.country_code_for_region(home)
    raw = writing.format(cc=cc, n=digits, a=digits[:3], b=digits[3:])
    assert written_phone(raw, region) == parsed_e164(raw, region)


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)), national)
def test_the_quick_validity_is_only_ever_a_sure_yes(cc: int, digits: str) -> None:
    e164 = f"+{cc}{digits}"
    if surely_valid(e164):
        assert phonenumbers.is_valid_number(phonenumbers.parse(e164, None))
