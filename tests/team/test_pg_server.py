"""The throwaway server's fixture: skips without PostgreSQL, except where CI requires it."""

from __future__ import annotations

import pytest

from tests.pg_server import REQUIRE_ENV, unavailable


def test_without_a_server_the_tests_skip_unless_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="initdb"):
        unavailable("initdb not found")
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="required"):
        unavailable("initdb not found")
