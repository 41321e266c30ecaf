"""Phone numbers to E.164 with `phonenumbers`, and a shortcut for numbers already in E.164.

Klaviyo stores phone numbers in E.164, so nearly every number a sync reads is `+` and digits.
`phonenumbers.parse` spends half of its time on what such a string cannot contain (extensions,
letters, dialling prefixes). The shortcut builds the same `PhoneNumber` that `parse` would and
asks `phonenumbers.is_valid_number`, so validity comes from the same metadata. Where `parse`
could read the digits differently (they start with the country's national prefix, which it
may strip) the shortcut steps aside and the full parse decides.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


@lru_cache(maxsize=65536)
def normalize_phone(raw: str, region: str) -> str | None:
    """E.164 for a number `phonenumbers` finds valid (national numbers read in `region`)."""
    quick = e164_validity(raw)
    if quick is not None:
        return raw if quick else None
    return parsed_e164(raw, region)


def parsed_e164(raw: str, region: str) -> str | None:
    """The full way: `phonenumbers.parse`, `is_valid_number`, E.164 formatting."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def e164_validity(raw: str) -> bool | None:
    """Whether an E.164 string is a valid number, as `parse` + `is_valid_number` would say;
    None when the string is not plain E.164 or `parse` might read it another way."""
    if _E164.fullmatch(raw) is None:
        return None
    digits = raw[1:]
    for size in (1, 2, 3):  # country codes are prefix-free: the first known one is it
        country = int(digits[:size])
        if country in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[size:]
    prefix = _national_prefix(country)
    if prefix is not None and prefix.match(national):
        return None
    number = phonenumbers.PhoneNumber(country_code=country, national_number=int(national))
    if len(national) > 1 and national[0] == "0":  # as parse records leading zeros
        number.italian_leading_zero = True
        zeros = len(national) - len(national.lstrip("0"))
        zeros = min(zeros, len(national) - 1)
        if zeros != 1:
            number.number_of_leading_zeros = zeros
    # is_valid_number first looks for the region the number belongs to, trying each region
    # of the country code with the same checks that validity then repeats. A number valid
    # in the code's main region belongs to it when that region is tried first on its checks
    # (no leading-digit rule), so one pass is enough; any other number takes the full way.
    main = _main_region(country)
    if main is not None and phonenumbers.is_valid_number_for_region(number, main):
        return True
    return bool(phonenumbers.is_valid_number(number))


@cache
def _national_prefix(country: int) -> re.Pattern[str] | None:
    """The pattern `parse` tries to strip from the front of this country's numbers."""
    region = phonenumbers.region_code_for_country_code(country)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country, region)
    pattern = metadata.national_prefix_for_parsing if metadata is not None else None
    return re.compile(pattern) if pattern else None


@cache
def _main_region(country: int) -> str | None:
    """The region `region_code_for_number` tries first for this code, if it tries it by
    validity (not by leading digits); None otherwise."""
    region = phonenumbers.region_code_for_country_code(country)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country, region)
    if metadata is None or metadata.leading_digits is not None:
        return None
    return str(region)


def is_region(code: str) -> bool:
    """A two-letter country code `phonenumbers` can read national numbers for."""
    return code in phonenumbers.SUPPORTED_REGIONS
