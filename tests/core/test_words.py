"""Plurals said properly."""

from __future__ import annotations

from engage_desktop.core.words import plural


def test_plurals() -> None:
    assert plural(1, "issue") == "1 issue"
    assert plural(0, "issue") == "0 issues"
    assert plural(1204, "contact") == "1,204 contacts"
    assert plural(2, "reply") == "2 replies"
    assert plural(3, "day") == "3 days"
    assert plural(2, "person") == "2 people"
    assert plural(2, "list", "lists of yours") == "2 lists of yours"
