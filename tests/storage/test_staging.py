"""The staging area is emptied source by source: one source's commit never drops another's
staged rows, and a table holding only the committed sources is emptied whole."""

from __future__ import annotations

from pathlib import Path

from engage_desktop.storage.database import open_database
from engage_desktop.storage.staging import (
    STAGED_TABLES,
    StagedIssue,
    StagedRecord,
    StagingRepo,
    clear_sources,
)


def _stage(repo: StagingRepo, n: int) -> None:
    repo.add(
        [
            StagedRecord(f"{repo.source}{i}", None, None, None, None, None, {}, None, None, None)
            for i in range(n)
        ],
        [("L1", f"{repo.source}{i}") for i in range(n)],
        [StagedIssue(f"{repo.source}0", None, None, "bad")],
        [f"{repo.source}kept"],
    )


def test_clearing_one_source_leaves_the_others_staged_rows(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    klaviyo, mailjet, csv = (StagingRepo(db, s) for s in ("klaviyo", "mailjet", "csv"))
    for repo in (klaviyo, mailjet, csv):
        _stage(repo, 3)

    def left() -> dict[str, set[str]]:
        return {
            t: {r[0] for r in db.execute_sql(f"SELECT DISTINCT source FROM {t}")}
            for t in STAGED_TABLES
        }

    mailjet.clear()
    assert left() == {t: {"klaviyo", "csv"} for t in STAGED_TABLES}
    with db.atomic():
        clear_sources(db, ["klaviyo"])
    assert left() == {t: {"csv"} for t in STAGED_TABLES}
    with db.atomic():
        clear_sources(db, ["klaviyo", "csv"])  # the only source left: emptied whole
    assert left() == {t: set() for t in STAGED_TABLES}
    _stage(mailjet, 2)
    db.execute_sql("INSERT INTO staged_issues (source, reason) VALUES (NULL, 'unnamed')")
    mailjet.clear()  # a row of no source is not the source's: kept
    assert db.execute_sql("SELECT count(*) FROM staged_issues").fetchone()[0] == 1
    assert left()["staged_records"] == set()
