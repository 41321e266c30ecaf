"""The facts of Klaviyo's OpenAPI spec that the emulator enforces (from `spec_facts.json`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from engage_desktop.emulator.ratelimit import Limit

FACTS = Path(__file__).with_name("spec_facts.json")

# Extra buckets the spec only states in prose (NOTES.md): they apply on top of the endpoint's.
PROFILE_COUNT = Limit(burst=1, steady=15)
PREDICTIVE_ANALYTICS = Limit(burst=10, steady=150)


@dataclass(frozen=True)
class Operation:
    """One operation: its id, scopes, rate limit and the query parameters it accepts."""

    id: str
    path: str
    method: str
    scopes: tuple[str, ...]
    limit: Limit
    raw: dict[str, Any]

    def accepts(self, param: str) -> bool:
        return param in self.raw["params"]

    def enum(self, param: str) -> list[str] | None:
        entry = self.raw["params"].get(param)
        return None if entry is None else entry["enum"]

    def page_size(self) -> tuple[int, int]:
        ps = self.raw["page_size"]
        return int(ps["default"]), int(ps["max"])

    def filters(self) -> dict[str, list[str]]:
        return dict(self.raw["filters"])


@cache
def operations() -> dict[str, Operation]:
    facts = json.loads(FACTS.read_text(encoding="utf-8"))
    return {
        op_id: Operation(
            op_id,
            body["path"],
            body["method"],
            tuple(body["scopes"]),
            Limit(body["burst"], body["steady"]),
            body,
        )
        for op_id, body in facts["operations"].items()
    }


@cache
def revision() -> str:
    return str(json.loads(FACTS.read_text(encoding="utf-8"))["revision"])
