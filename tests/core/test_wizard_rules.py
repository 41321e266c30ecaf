"""Qt-free rules the install wizard will show: mapping warnings, discovered fields, estimates."""

from __future__ import annotations

from dataclasses import replace

from engage_desktop.core.estimates import describe, first_sync_seconds
from engage_desktop.core.fields import FieldType
from engage_desktop.core.mapping import MappingSpec, discovered_paths, mapping_warnings
from engage_desktop.core.secrets import ApiKey
from engage_desktop.core.setup import SetupDraft, VerifiedKey, summary_lines

SAMPLE = [
    {
        "first_name": "Ann",
        "properties": {
            "Shoe Size": "9.5",
            "birthday": "1990-01-02",
            "prefs": {"store": {"city": "Berlin"}},
        },
    },
    {"first_name": "Bo", "properties": {"Shoe Size": "huge", "birthday": "next tuesday"}},
    {"first_name": None, "properties": {}},
]


def test_discovered_paths_count_profiles_and_follow_nesting() -> None:
    assert discovered_paths(SAMPLE) == {
        "properties.Shoe Size": 2,
        "properties.birthday": 2,
        "properties.prefs.store.city": 1,
    }


def test_mapping_warnings() -> None:
    known = ["first_name", "last_name", *discovered_paths(SAMPLE)]
    specs = [
        MappingSpec("Shoe", "properties.Shoe Size", FieldType.NUMBER),
        MappingSpec("Birthday", "properties.birthday", FieldType.DATE),
        MappingSpec("Size", "properties.shoe size", FieldType.TEXT),
        MappingSpec("Last", "last_name", FieldType.TEXT),
        MappingSpec("First", "first_name", FieldType.TEXT),
    ]
    warnings = {(w.row, w.kind): w.message for w in mapping_warnings(specs, SAMPLE, known)}
    assert "1 of 2 sampled values" in warnings[(0, "type")]
    assert "not date" in warnings[(1, "type")]
    assert 'Did you mean "properties.Shoe Size"' in warnings[(2, "no_exact_match")]
    assert (3, "not_seen") in warnings
    assert not any(row == 4 for row, _ in warnings)


def test_first_sync_estimate_follows_the_limits() -> None:
    assert first_sync_seconds([], every_list=False) == 0
    one = first_sync_seconds([5_000], every_list=False)  # 50 pages: inside the first burst
    assert 0.5 < one < 2
    big = first_sync_seconds([100_000], every_list=False)  # 750 pages now, 250 a minute later
    assert 60 < big < 70
    sizes = [60_000, 45_000, 30_000, 25_000, 12_000, 8_000, 5_000, 2_000]
    chosen = first_sync_seconds(sizes, every_list=False)  # 1,870 pages through one endpoint
    assert 120 < chosen < 130
    every = first_sync_seconds(sizes, every_list=True)  # split over three endpoints
    assert 60 < every < 90
    assert describe(42) == "about 40 seconds" and describe(600) == "about 10 minutes"


def test_finish_summary_repeats_unresolved_warnings_and_counts_in_words() -> None:
    verified = VerifiedKey(ApiKey("pk_" + "x" * 30), "https://a.klaviyo.com", "A1", "Shop")
    warning = 'Shoe ← properties.shoe size: No Klaviyo field is named exactly "…".'
    draft = SetupDraft(
        verified=verified,
        lists=("L1",),
        mappings=(MappingSpec("Shoe", "properties.shoe size"),),
        mapping_warnings=(warning,),
    )
    lines = summary_lines(draft, {"L1": "VIP"})
    assert "Contacts: 1 list: VIP" in lines
    assert f"Warning: {warning}" in lines
    two = summary_lines(replace(draft, lists=("L1", "L2")), {"L1": "VIP", "L2": "All"})
    assert "Contacts: 2 lists: VIP, All" in two
    # No contact sync: no mapping, so nothing to warn about.
    assert not any(
        warning in line for line in summary_lines(replace(draft, sync_contacts=False), {})
    )
