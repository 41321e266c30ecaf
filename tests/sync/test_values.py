"""Values of the wrong kind are said, never silently dropped; what is stored is safe to show.

Before: a number in `phone_number`, `first_name` or `email` became NULL with no issue; "1e400"
in a Number field was stored as Infinity and `contacts --json` printed invalid JSON; NUL bytes
and right-to-left overrides were stored as received.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from engage_desktop.cli import main
from engage_desktop.core.fields import FieldType
from engage_desktop.core.mapping import MappingSpec
from engage_desktop.storage.runs import RunRepo
from engage_desktop.sync.engine import SyncEngine

from .conftest import World

pytestmark = pytest.mark.asyncio


def no_constants(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


async def test_wrong_kinds_huge_numbers_and_invisible_characters(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lst = world.first_list()
    numbers = await world.add(
        None, None, None, (lst,), first_name=42, email=7, properties={"points": "1e400"}
    )
    await world.patch(numbers, {"phone_number": 14155550155})
    sneaky = await world.add(
        "+14155550156",
        None,
        None,
        (lst,),
        first_name="Ann\x00e",
        last_name="\u202eredaeL",
        properties={"points": "12"},
    )
    world.connect(
        lists=(lst,), mappings=[MappingSpec("Points", "properties.points", FieldType.NUMBER)]
    )
    result = await world.sync()
    issues = {(i[0], i[2]): i[4] for i in RunRepo(world.db).issues(result.run_id)}
    for field in ("Phone", "First name", "Email"):
        assert issues[(numbers, field)].startswith("not text (int)"), field
    assert "too large to be a number" in issues[(numbers, "Points")]
    assert "invisible control character" in issues[(sneaky, "First name")]
    assert "invisible control character" in issues[(sneaky, "Last name")]
    contact = world.by_source(sneaky)
    assert contact.first_name == "Anne" and contact.last_name == "redaeL"
    assert "Points" not in world.by_source(numbers).fields
    folder = Path(world.db.database).parent
    capsys.readouterr()
    assert main(["--data-dir", str(folder), "contacts", "--json"]) == 0
    for line in capsys.readouterr().out.splitlines():
        json.loads(line, parse_constant=no_constants)  # strict JSON: no Infinity, no NaN


async def test_a_run_that_goes_on_too_long_is_stopped_and_says_so(world: World) -> None:
    world.connect()
    await world.admin.post("/_emulator/settings", json={"latency_ms": 300})
    engine = SyncEngine(world.db, world.client, who="test", max_run_s=0.5)
    started = time.monotonic()
    result = await engine.run("manual", True)
    assert time.monotonic() - started < 10
    assert result.status == "failed" and "was stopped" in (result.error or "")
    assert world.contacts() == []
