"""Faults injected through the admin API: the next N requests on a path misbehave."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# What every emulator does the same way (emulator/base.py): error answers, a delay, a dropped
# connection, no answer at all (stall), half a body (truncate), a body a byte at a time
# (trickle). A service adds kinds that reshape its own answers (ServiceEmulator.shape).
KINDS = ("429", "500", "502", "503", "delay", "drop", "truncate", "stall", "trickle")


@dataclass
class Fault:
    """One armed fault: what happens, to which paths, how many more times."""

    path: str  # a path prefix such as "/api/profiles"
    kind: str
    remaining: int
    delay_s: float = 0.0
    detail: str = ""  # kind-specific: a variant, a target URL


class FaultBoard:
    """The armed faults, consumed in the order they were armed."""

    def __init__(self, extra_kinds: Iterable[str] = ()) -> None:
        self.kinds = (*KINDS, *extra_kinds)
        self._faults: list[Fault] = []

    def arm(
        self, path: str, kind: str, count: int, delay_s: float = 0.0, detail: str = ""
    ) -> Fault:
        if kind not in self.kinds:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(self.kinds)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        fault = Fault(path.rstrip("/") or "/", kind, count, delay_s, detail)
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

    def give_back(self, fault: Fault) -> None:
        """A fault that found nothing to act on (a page too short to break) is not used up."""
        fault.remaining += 1
        if fault not in self._faults:
            self._faults.insert(0, fault)

    def clear(self) -> None:
        self._faults.clear()
