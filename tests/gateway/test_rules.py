"""The gateway's pure rules: personalisation, opt-out words, numbers, credentials."""

from __future__ import annotations

import pytest

from engage_desktop.core.messaging import (
    GatewayCredentials,
    canonical_number,
    opt_out_keyword,
    parse_keywords,
)
from engage_desktop.core.personalisation import TemplateError, format_value, parse_template

FIELDS = ["Shoe size", "Points", "City"]


def test_placeholders_name_details_and_platform_fields() -> None:
    t = parse_template("Hi {first_name}, size {Shoe size} in {city}: {{promo}}", FIELDS)
    assert [p.name for p in t.placeholders] == ["first_name", "Shoe size", "City"]
    text = t.render({"first_name": "Ana"}, {"Shoe size": 42.0, "City": "Lyon"})
    assert text == "Hi Ana, size 42 in Lyon: {promo}"


def test_a_missing_value_takes_its_fallback_or_skips_the_contact() -> None:
    t = parse_template("Hi {first_name|there}, {last_name}!", FIELDS)
    assert t.render({"first_name": "  ", "last_name": "Li"}) == "Hi there, Li!"
    assert t.render({"first_name": "Bo", "last_name": None}) is None
    assert t.missing({"first_name": "Bo"}) == ["{last_name}"]
    assert parse_template("{first_name|}!").render({}) == "!"  # an empty fallback is allowed


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Hi {shoe}", "is not a contact detail or field"),
        ("Hi {first_name", "not closed"),
        ("Hi {}", "no name"),
        ("   ", "empty"),
        ("x" * 5001, "at most 5,000"),
    ],
)
def test_a_template_that_cannot_work_says_what_to_change(text: str, said: str) -> None:
    with pytest.raises(TemplateError, match=said):
        parse_template(text, FIELDS)


def test_values_are_written_as_people_read_them() -> None:
    assert format_value(3.0) == "3"
    assert format_value(3.5) == "3.5"
    assert format_value(True) == "yes"
    assert format_value(float("nan")) is None
    assert format_value("") is None
    assert format_value(" Lyon ") == "Lyon"


@pytest.mark.parametrize(
    ("reply", "word"),
    [
        ("STOP", "STOP"),
        ("stop", "STOP"),
        ("  Stop.  ", "STOP"),
        ("Unsubscribe!!", "UNSUBSCRIBE"),
        ("quit?", "QUIT"),
        ("STOP ALL", None),
        ("please stop", None),
        ("don't stop me now", None),
        ("Stopp", None),
        ("", None),
    ],
)
def test_an_opt_out_is_the_whole_reply(reply: str, word: str | None) -> None:
    assert opt_out_keyword(reply) == word


def test_opt_out_words_are_configurable() -> None:
    words = parse_keywords([" arret ", "STOP", "stop", ""])
    assert words == ("ARRET", "STOP")
    assert opt_out_keyword("Arrêt", words) is None
    assert opt_out_keyword("arret", words) == "ARRET"
    assert opt_out_keyword("END", words) is None


def test_gateway_numbers_are_e164() -> None:
    assert canonical_number("61491570156") == "+61491570156"
    assert canonical_number("+1 415 555 0100") == "+14155550100"
    assert canonical_number("+1234") is None
    assert canonical_number("hello") is None


def test_credentials_never_show_the_secret() -> None:
    creds = GatewayCredentials("mm_key_1234567890", "very-secret-value")
    for shown in (repr(creds), str(creds), f"{creds}", creds.masked):
        assert "very-secret-value" not in shown and "mm_key_1234567890" not in shown
    assert creds.masked == "…7890"
