"""Totals read from the counts each campaign keeps as JSON, on both engines (on the team
database a number inside JSON comes out as text)."""

from __future__ import annotations

from pathlib import Path

from engage_desktop.storage.campaigns import CampaignRepo
from engage_desktop.storage.database import open_database


def test_the_recipients_to_decide_are_summed_over_campaigns(tmp_path: Path, engine: str) -> None:
    db = open_database(tmp_path)
    repo = CampaignRepo(db)
    assert repo.unknown_total() == 0  # no campaign yet
    for counts in ('{"unknown": 3, "sent": 9}', '{"sent": 4}', '{"unknown": 12}'):
        db.execute_sql(
            "INSERT INTO campaigns (list_name, text, personal, status, created_at, counts)"
            " VALUES ('List', 'Hi', 0, 'finished', 0, ?)",
            (counts,),
        )
    assert repo.unknown_total() == 15
