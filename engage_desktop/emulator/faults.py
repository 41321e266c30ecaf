"""Faults injected through the admin API: the next N requests on a path misbehave."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("429", "500", "502", "503", "delay", "drop", "truncate", "stall", "trickle")


@dataclass
class Fault:
    """One armed fault: what happens, to which paths, how many more times."""

    path: str  # a path prefix such as "/api/profiles"
    kind: str
    remaining: int
    delay_s: float = 0.0


class FaultBoard:
    """The armed faults, consumed in the order they were armed."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def arm(self, path: str, kind: str, count: int, delay_s: float = 0.0) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        fault = Fault(path.rstrip("/") or "/", kind, count, delay_s)
        self._faults.append(fault)
        return fault

    def take(self, path: str) -> Fault | None:
        """The fault for this request, if one is armed for its path (and use it up)."""
        norm = path.rstrip("/")
        for fault in self._faults:
            if norm == fault.path or norm.startswith(fault.path + "/"):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()
