"""What an action reports back: what changed (so screens reload only that), and how it failed."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum


@dataclass(frozen=True)
class Changes:
    """Which data an action changed; each screen reloads only when its own data did."""

    connection: bool = False  # the Klaviyo connection, its settings or its key
    contacts: bool = False  # contacts, their status or details
    lists: bool = False  # contact lists and their members
    history: bool = False  # sync runs and their issues
    outbox: bool = False  # opt-outs waiting for Klaviyo
    settings: bool = False  # the app's settings

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            **{f.name: getattr(self, f.name) or getattr(other, f.name) for f in fields(self)}
        )

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


NOTHING = Changes()
EVERYTHING = Changes(True, True, True, True, True, True)


class Exit(IntEnum):
    """The command line's exit codes, one table for every command (README, `--help`)."""

    OK = 0  # done
    FAILED = 1  # tried and failed (Klaviyo, the network, a sync that failed)
    CONFIG = 2  # cannot start: a usage error, not connected, no key, an unusable data folder
    LOCKED = 3  # another sync is running (the message says who and since when)
    NOTHING = 4  # nothing to do (nothing to send)


EXIT_TABLE = (
    (Exit.OK, "done"),
    (Exit.FAILED, "tried and failed: Klaviyo refused or could not be reached, a sync failed"),
    (Exit.CONFIG, "cannot start: wrong usage, not connected, no API key, unusable data folder"),
    (Exit.LOCKED, "another sync is running (the message says who, where and since when)"),
    (Exit.NOTHING, "nothing to do"),
)


class ActionError(Exception):
    """An action could not be done; the message says why and what to do."""

    def __init__(self, message: str, exit: Exit = Exit.CONFIG) -> None:
        super().__init__(message)
        self.message = message
        self.exit = exit


class NeedsConfirmation(ActionError):
    """A change that would make contacts messageable: it says how many, and needs a yes."""

    def __init__(self, message: str, count: int) -> None:
        super().__init__(message, Exit.CONFIG)
        self.count = count
