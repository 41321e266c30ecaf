"""The one small protocol every contact source implements, and what a run hands it.

A run asks each source, in turn: is a full read due (`full_due`), what will you read
(`plan`), read it into your part of the staging area (`fetch`: records, list memberships,
issues; and in `tally.gaps` why the listing may be incomplete), and, once the commit is
done, remember what it proved (`committed`). `lists` answers what can be synced, for the
wizard. Sources know nothing of each other: merging by phone is storage's (merge.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from engage_desktop.storage.commit import SyncedList
from engage_desktop.storage.run_sources import RunSourceRepo
from engage_desktop.storage.staging import StagingRepo
from engage_desktop.sync.fetch import Tally


class NotConnected(Exception):
    """Nothing to sync with: a source is not connected, or its contact sync is off."""


class SourceProblem(Exception):
    """A source cannot be read as set up (a property it names is gone, say); the message
    says what to change."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


@dataclass(frozen=True)
class SourceList:
    """A list at a source (a group here once synced): its id there, name, size there."""

    external_id: str
    name: str
    member_count: int | None = None


@dataclass
class RunContext:
    """What a source may use during a run: where its issues go, how it reports progress."""

    run_id: int
    issues: RunSourceRepo
    on_page: Callable[[], None]
    clock: Callable[[], float]

    def add_issues(self, source: str, rows: Sequence[tuple[str | None, str | None, str]]) -> None:
        self.issues.add_issues(self.run_id, source, rows)


@dataclass
class SourcePlan:
    """What one source will read in this run."""

    full: bool  # every chosen list read whole (removals possible if proven complete)
    lists: list[SourceList]
    rederive: bool = False  # re-derive contacts of unchanged records (settings changed)


@dataclass
class Fetched:
    """What one source's fetch staged, for the commit."""

    lists: list[SyncedList]
    watermark: float | None = None  # the newest record change seen (incremental sources)
    notes: list[str] = field(default_factory=list)


class ContactSource(Protocol):
    """A service contacts come from (Klaviyo, Mailjet)."""

    name: str  # the stored label: KLAVIYO, MAILJET
    noun: str  # what its records are called: "profiles", "contacts"
    tally: Tally  # progress of the current run (fetched, expected, lists, gaps)

    @property
    def requests(self) -> int: ...
    @property
    def throttled(self) -> int: ...

    def full_due(self, requested: bool) -> bool:
        """Whether this run reads everything (asked for, or due by the source's rules)."""
        ...

    async def plan(self, run: RunContext, full: bool) -> SourcePlan:
        """The lists to read; a list gone at the source is an issue, a listing that left
        one out is a gap."""
        ...

    async def fetch(self, plan: SourcePlan, staging: StagingRepo, run: RunContext) -> Fetched:
        """Read the plan into `staging` (this source's part of the staging area)."""
        ...

    def last_full_count(self) -> int | None:
        """How many records the last full run staged (an empty answer now is suspicious)."""
        ...

    def committed(self, plan: SourcePlan, fetched: Fetched, staged: int, now: float) -> None:
        """The commit is done: remember watermarks and what a full run counted."""
        ...

    async def lists(self) -> list[SourceList]:
        """The lists that can be synced (for the wizard and the settings)."""
        ...


class UnavailableSource:
    """A connected source that cannot be read in this run (its key is not available): it
    takes part so that the run says so, and fails without touching its contacts."""

    def __init__(self, name: str, noun: str, message: str) -> None:
        self.name = name
        self.noun = noun
        self.message = message
        self.tally = Tally()
        self.requests = 0
        self.throttled = 0

    def full_due(self, requested: bool) -> bool:
        return requested

    async def plan(self, run: RunContext, full: bool) -> SourcePlan:
        raise SourceProblem(self.message)

    async def fetch(self, plan: SourcePlan, staging: StagingRepo, run: RunContext) -> Fetched:
        raise SourceProblem(self.message)

    def last_full_count(self) -> int | None:
        return None

    def committed(self, plan: SourcePlan, fetched: Fetched, staged: int, now: float) -> None:
        return None

    async def lists(self) -> list[SourceList]:
        return []
