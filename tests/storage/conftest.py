"""Storage tests run on both engines (SQLite and the team database)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _both_engines(engine: str) -> str:
    return engine
