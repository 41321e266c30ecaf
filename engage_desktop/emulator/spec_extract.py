"""Extract the facts the emulator serves from Klaviyo's OpenAPI spec into `spec_facts.json`.

Run: `python -m engage_desktop.emulator.spec_extract ../shared/klaviyo/stable.json`.
A test re-runs the extraction when the spec is present and fails if the committed file drifted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

FACTS_PATH = Path(__file__).with_name("spec_facts.json")

OPERATIONS: list[tuple[str, str]] = [
    ("/api/accounts", "get"),
    ("/api/profiles", "get"),
    ("/api/profiles/{id}", "get"),
    ("/api/lists", "get"),
    ("/api/lists/{id}", "get"),
    ("/api/lists/{id}/profiles", "get"),
    ("/api/lists/{id}/relationships/profiles", "get"),
    ("/api/profile-subscription-bulk-delete-jobs", "post"),
    ("/api/profile-subscription-bulk-create-jobs", "post"),
]


def _enum(schema: dict[str, Any]) -> list[str] | None:
    if "enum" in schema:
        return list(schema["enum"])
    items = schema.get("items")
    if isinstance(items, dict) and "enum" in items:
        return list(items["enum"])
    return None


def _rate(text: str) -> int:
    return int(text.split("/")[0])


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    """The per-operation facts: scopes, rate limits, query parameters, page sizes, filters."""
    ops: dict[str, Any] = {}
    for path, method in OPERATIONS:
        op = spec["paths"][path][method]
        params: dict[str, Any] = {}
        page_size: dict[str, int] | None = None
        for prm in op.get("parameters", []):
            if prm.get("in") != "query":
                continue
            schema = prm.get("schema", {})
            params[prm["name"]] = {"enum": _enum(schema)}
            if prm["name"] == "page[size]":
                page_size = {"default": schema["default"], "max": schema["maximum"]}
        filters = {
            field: sorted(set(spec_ops.get("single", [])) | set(spec_ops.get("list", [])))
            for field, body in (op.get("x-klaviyo-filters") or {}).items()
            for spec_ops in [body["operators"]]
        }
        limit = op["x-klaviyo-ratelimit"]
        ops[op["operationId"]] = {
            "path": path,
            "method": method.upper(),
            "scopes": list(op["x-klaviyo-scopes"]),
            "burst": _rate(limit["burst"]),
            "steady": _rate(limit["steady"]),
            "params": params,
            "page_size": page_size,
            "filters": filters,
        }
    return {"revision": spec["info"]["version"], "operations": ops}


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    FACTS_PATH.write_text(json.dumps(extract(spec), indent=1, sort_keys=True) + "\n")
    print(f"wrote {FACTS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
