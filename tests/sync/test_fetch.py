"""The fetch plan's sparse fieldset: what staging and the mappings read, no more."""

from __future__ import annotations

from engage_desktop.core.fields import FieldType
from engage_desktop.core.mapping import MappingSpec
from engage_desktop.sync.fetch import sparse_fields


def test_sparse_fieldset_holds_what_staging_and_the_mappings_read() -> None:
    fields = sparse_fields(
        [
            MappingSpec("Size", "properties.Shoe Size", FieldType.NUMBER),
            MappingSpec("City", "location.city", FieldType.TEXT),
            MappingSpec("Email again", "email", FieldType.TEXT),
        ]
    )
    assert fields is not None
    assert len(fields) == len(set(fields))
    needed = {"email", "phone_number", "first_name", "last_name", "updated"}
    assert needed | {"subscriptions.sms.marketing", "properties", "location"} == set(fields)


def test_without_mappings_no_properties_are_fetched() -> None:
    fields = sparse_fields([])
    assert fields is not None and "properties" not in fields


def test_a_mapping_to_another_attribute_fetches_every_attribute() -> None:
    mapping = MappingSpec("Email consent", "subscriptions.email.marketing.consent", FieldType.TEXT)
    assert sparse_fields([mapping]) is None
