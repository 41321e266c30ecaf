def test_built_in_fields_may_change_their_source_but_stay_text() -> None:
    from engage_desktop.core.fields import FieldType
    from engage_desktop.core.mapping import MappingSpec, validate_mappings

    assert validate_mappings([MappingSpec("First name", "properties.nickname")]) == []
    errors = validate_mappings([MappingSpec("Phone", "properties.mobile", FieldType.NUMBER)])
    assert errors == ["'Phone' is a built-in text field."]
