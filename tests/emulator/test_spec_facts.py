"""The emulator's spec facts are exactly what Klaviyo's published spec says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engage_desktop.emulator.spec import operations
from engage_desktop.emulator.spec_extract import FACTS_PATH, extract

SPEC = Path(__file__).resolve().parents[3] / "shared" / "klaviyo" / "stable.json"


@pytest.mark.skipif(
    not SPEC.exists(), reason="../shared/klaviyo/stable.json is not beside the repo"
)
def test_committed_facts_match_the_spec() -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    assert json.loads(FACTS_PATH.read_text(encoding="utf-8")) == json.loads(
        json.dumps(extract(spec))
    )


def test_facts_cover_every_operation_we_serve() -> None:
    ops = operations()
    assert ops["get_profiles"].page_size() == (20, 100)
    assert ops["get_lists"].page_size() == (10, 10)
    assert ops["get_accounts"].limit.burst == 1 and ops["get_accounts"].limit.steady == 15
    assert ops["get_profiles"].limit.steady == 750
    assert set(ops["bulk_unsubscribe_profiles"].scopes) == {
        "lists:write",
        "profiles:write",
        "subscriptions:write",
    }
    assert "joined_group_at" in ops["get_profiles_for_list"].filters()
