"""The E.164 shortcut says exactly what phonenumbers.parse + is_valid_number say."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from engage_desktop.sync.phones import e164_validity, normalize_phone, parsed_e164


def corpus() -> list[str]:
    """Every region's example numbers of every type in E.164, with national prefixes put
    in after the country code, and digits changed, dropped and added."""
    rnd = random.Random(5)
    out: set[str] = set()
    types = [v for k, v in vars(phonenumbers.PhoneNumberType).items() if k.isupper()]
    regions = [*phonenumbers.SUPPORTED_REGIONS, "001"]
    for region in regions:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        prefixes = {"0", "1", "8"} | {metadata.national_prefix or ""} if metadata else {"0"}
        for kind in types:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            code = str(example.country_code)
            rest = e164[1 + len(code) :]
            out.add(e164)
            out.update(f"+{code}{p}{rest}" for p in prefixes)
            for _ in range(3):
                k = rnd.randrange(len(rest))
                out.add(f"+{code}{rest[:k]}{rnd.randrange(10)}{rest[k + 1 :]}")
                out.add(f"+{code}{rest[:k]}{rest[k + 1 :]}")
                out.add(f"+{code}{rest[:k]}{rnd.randrange(10)}{rest[k:]}")
    for _ in range(3000):
        out.add("+" + str(rnd.randrange(1, 10)) + "".join(rnd.choices("0123456789", k=10)))
    return sorted(out)


def test_the_shortcut_agrees_with_the_full_parse_on_every_region() -> None:
    numbers = corpus()
    decided = 0
    for raw in numbers:
        quick = e164_validity(raw)
        if quick is None:
            continue
        decided += 1
        expected = parsed_e164(raw, "US")
        assert quick == (expected is not None), raw
        if quick:
            assert expected == raw  # valid E.164 formats back to itself
    # it decides nearly everything (a number starting with a national prefix is left to parse)
    assert len(numbers) > 10_000 and decided > 0.8 * len(numbers)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+11234567890", "US", None),  # no US area code starts with 1
        ("+12125551234", "US", "+12125551234"),
        ("+447400123456", "US", "+447400123456"),
        ("+4407400123456", "GB", "+447400123456"),  # national 0 kept after +44: parse strips it
        ("+390612345678", "US", "+390612345678"),  # Italian leading zero is part of the number
        ("(212) 555-1234", "US", "+12125551234"),
        ("07400 123456", "GB", "+447400123456"),
        ("+999123456789", "US", None),
        ("12", "US", None),
    ],
)
def test_normalize_phone(raw: str, region: str, expected: str | None) -> None:
    assert normalize_phone(raw, region) == expected == parsed_e164(raw, region)
