"""Phone numbers as people write them (a CSV file, a Mailjet contact property), read as
`sync/phones.py` reads them, faster (a million rows must import in seconds).

The full parse (`phonenumbers`) costs 25-40 µs a number; the E.164 shortcut of
`sync/phones.py` ~6. A file's numbers are rarely E.164 as written (`+44 7700 900123`,
`(415) 555-0123`, `07700 900123`), so: separators are dropped, and a national number is
given the default country's code (its national prefix taken off) — then the E.164 shortcut
decides. Only a definite *valid* answer is taken; anything else (letters, an extension, an
international dialling prefix, a region whose prefix rules are not plain, an invalid
number) goes the full way on the text as written, so the answer is always the full parse's
(tests/imports/test_phones.py compares both on every format).
"""

from __future__ import annotations

import re
from functools import cache

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata

from engage_desktop.sync.phones import e164_validity, normalize_phone

_DROP = str.maketrans("", "", " -.()/\u00a0\t")
_DIGITS = re.compile(r"[0-9]{4,17}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


@cache
def _national(region: str) -> tuple[str, str, re.Pattern[str] | None, re.Pattern[str]] | None:
    """(country code, national prefix or '', its parsing pattern, international prefix
    pattern) for a region without a prefix transform rule; None for the others."""
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.country_code is None:
        return None
    if metadata.national_prefix_transform_rule:
        return None
    parsing = metadata.national_prefix_for_parsing
    idd = metadata.international_prefix or "00"
    return (
        str(metadata.country_code),
        metadata.national_prefix or "",
        re.compile(parsing) if parsing else None,
        re.compile(idd),
    )


def written_phone(raw: str, region: str) -> str | None:
    """E.164 for a number `phonenumbers` finds valid (national numbers read in `region`)."""
    compact = raw.translate(_DROP)
    if compact.startswith("+"):
        if surely_valid(compact) or e164_validity(compact):
            return compact
    elif _DIGITS.fullmatch(compact):
        candidate = _with_country(compact, region)
        if candidate is not None and (surely_valid(candidate) or e164_validity(candidate)):
            return candidate
    return normalize_phone(raw, region)


def surely_valid(e164: str) -> bool:
    """True when `e164` is certainly a valid number of its country code's main region, by
    the same rules as `phonenumbers.is_valid_number_for_region`, checked with one combined
    pattern per number length instead of up to eleven (a third of the time). False means
    "not sure": the caller asks phonenumbers."""
    if _E164.fullmatch(e164) is None:
        return False
    digits = e164[1:]
    for size in (1, 2, 3):  # country codes are prefix-free: the first known one is it
        country = int(digits[:size])
        if country in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return False
    national = digits[size:]
    tables = _tables(country)
    if tables is None or national.startswith("0"):
        return False
    prefix, general, general_lengths, by_length = tables
    if prefix is not None and prefix.match(national):
        return False  # parse might strip it: the full way decides
    n = len(national)
    if general_lengths and n not in general_lengths:
        return False
    if not general.fullmatch(national):
        return False
    combined = by_length.get(n)
    return combined is not None and combined.fullmatch(national) is not None


_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
)


@cache
def _tables(
    country: int,
) -> (
    tuple[re.Pattern[str] | None, re.Pattern[str], frozenset[int], dict[int, re.Pattern[str]]]
    | None
):
    """For the main region of a country code (when `region_code_for_number` tries it first by
    validity): its national prefix pattern, general pattern and lengths, and per number
    length one pattern matching what any number type of that length matches."""
    region = phonenumbers.region_code_for_country_code(country)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country, region)
    if metadata is None or metadata.leading_digits is not None or metadata.general_desc is None:
        return None
    general = metadata.general_desc
    if not general.national_number_pattern:
        return None
    descs = [getattr(metadata, t) for t in _TYPES]
    if not metadata.same_mobile_and_fixed_line_pattern:
        descs.append(metadata.mobile)
    usable = [d for d in descs if d is not None and d.national_number_pattern]
    lengths = set(general.possible_length)
    for d in usable:
        lengths |= set(d.possible_length)
    by_length: dict[int, re.Pattern[str]] = {}
    for n in lengths:
        fits = [
            d.national_number_pattern
            for d in usable
            if not d.possible_length or n in d.possible_length
        ]
        if fits:
            by_length[n] = re.compile("|".join(f"(?:{p})" for p in fits))
    parsing = metadata.national_prefix_for_parsing
    return (
        re.compile(parsing) if parsing else None,
        re.compile(general.national_number_pattern),
        frozenset(general.possible_length),
        by_length,
    )


def _with_country(digits: str, region: str) -> str | None:
    """A national number as E.164 the way `parse` would read it, when that is plain: its
    national prefix taken off (only the plain prefix: another match of the region's prefix
    pattern, or an international dialling prefix, is left to the full parse)."""
    rules = _national(region)
    if rules is None:
        return None
    cc, prefix, parsing, idd = rules
    if idd.match(digits):
        return None
    national = digits
    found = parsing.match(digits) if parsing is not None else None
    if found is not None:
        if found.group(0) != prefix or found.lastindex:
            return None
        national = digits[len(prefix) :]
    return f"+{cc}{national}"


def region_code(code: str) -> str:
    """A default country as phonenumbers knows it (upper case), or ValueError."""
    region = code.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"'{code}' is not a country code numbers can be read in (US, GB, …).")
    return region
