"""Mapping rules: errors that block saving, warnings with what to do, type problems."""

from __future__ import annotations

from engage_desktop.core.fields import FieldType, coerce
from engage_desktop.core.mapping import (
    EMPTY_ROW,
    MappingSpec,
    is_type_problem,
    mapping_row_errors,
    mapping_warnings,
    row_label,
    validate_mappings,
)


def test_built_in_fields_may_change_their_source_but_stay_text() -> None:
    assert validate_mappings([MappingSpec("First name", "properties.nickname")]) == []
    errors = validate_mappings([MappingSpec("Phone", "properties.mobile", FieldType.NUMBER)])
    assert errors == ["'Phone' is a built-in text field."]


def test_an_empty_row_is_one_error_not_two() -> None:
    assert mapping_row_errors([MappingSpec("", "")]) == [(0, EMPTY_ROW)]
    assert mapping_row_errors([MappingSpec("", "email")]) == [
        (0, "A platform field name is empty.")
    ]
    assert mapping_row_errors([MappingSpec("Points", "")]) == [
        (0, "'Points' has no Klaviyo field.")
    ]
    two_empty = mapping_row_errors([MappingSpec("", ""), MappingSpec("", "")])
    assert two_empty == [(0, EMPTY_ROW), (1, EMPTY_ROW)]  # not "mapped twice" on top


def test_a_near_match_is_a_suggestion_to_apply() -> None:
    sample = [{"properties": {"Shoe Size": "9"}}]
    known = ["email", "properties.Shoe Size"]
    (warning,) = mapping_warnings([MappingSpec("Shoe", "properties.shoe size")], sample, known)
    assert warning.kind == "no_exact_match" and warning.suggestion == "properties.Shoe Size"
    (far,) = mapping_warnings([MappingSpec("X", "properties.nothing_like_it")], sample, known)
    assert far.suggestion is None and "Did you mean" not in far.message


def test_a_brand_new_field_has_no_old_values_to_keep() -> None:
    sample = [{"properties": {"size": "huge"}}, {"properties": {"size": "9"}}]
    spec = MappingSpec("Size", "properties.size", FieldType.NUMBER)
    (existing,) = mapping_warnings([spec], sample, ["properties.size"])
    assert "keep their old value" in existing.message
    (new,) = mapping_warnings([spec], sample, ["properties.size"], new_fields={"Size"})
    assert "old value" not in new.message and "get no value" in new.message


def test_type_problems_are_told_apart_from_other_issues() -> None:
    # Every reason coerce gives for a value of the wrong type (so a change of its words shows).
    for value, kind in [
        ("huge", FieldType.NUMBER),
        (True, FieldType.NUMBER),
        ({"a": 1}, FieldType.NUMBER),
        ("1e400", FieldType.NUMBER),
        (float("inf"), FieldType.NUMBER),
        ("next tuesday", FieldType.DATE),
        (False, FieldType.DATE),
        ([1], FieldType.DATE),
        (1e30, FieldType.DATE),
    ]:
        result = coerce(value, kind)
        assert not result.ok and is_type_problem(result.reason), result.reason
    assert is_type_problem("not an ISO 8601 date")  # a group's reason, its value left out
    assert is_type_problem("not text (int): left empty")  # a built-in text field
    assert not is_type_problem("not a valid phone number; kept without an SMS number")
    assert not is_type_problem("cut to 10,000 of its 12,000 characters; kept")
    assert row_label(MappingSpec("Shoe", "properties.shoe")) == "Shoe ← properties.shoe"
    assert row_label(MappingSpec("", "email")) == "(no name) ← email"
    assert row_label(MappingSpec("", "")) == "Empty row"
