"""What the Mailjet wizard collects, page by page; nothing is saved before Connect."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from engage_desktop.actions.mailjet import Lists, MailjetPlan, PropertySample, VerifiedMailjet
from engage_desktop.core.consent import ConsentMode
from engage_desktop.core.mapping import MappingSpec


class MailjetStep(IntEnum):
    """The pages, in order."""

    KEYS = 0
    PHONE = 1
    CONSENT = 2
    LISTS = 3
    FIELDS = 4
    FINISH = 5


@dataclass(frozen=True)
class MailjetDraft:
    """The wizard's answers so far (each page writes its part)."""

    demo: bool = False
    verified: VerifiedMailjet | None = None
    properties: tuple[PropertySample, ...] = ()
    phone_property: str | None = None
    consent: ConsentMode | None = None
    consent_property: str | None = None
    lists: Lists = ()
    list_names: tuple[tuple[str, str, int], ...] = ()  # id, name, subscribers
    mappings: tuple[MappingSpec, ...] = ()
    mapping_warnings: tuple[str, ...] = ()

    def plan(self) -> MailjetPlan:
        """What Connect saves."""
        assert self.verified is not None
        return MailjetPlan(
            self.verified,
            phone_property=self.phone_property,
            lists=self.lists,
            consent=self.consent,
            consent_property=self.consent_property or "",
            mappings=self.mappings,
        )


def consent_problem(draft: MailjetDraft) -> str | None:
    """Explicit consent needs the property that records it."""
    if draft.consent is None:
        return "Choose how Mailjet contacts' SMS consent is read."
    if draft.consent is ConsentMode.EXPLICIT and not draft.consent_property:
        return "Explicit consent needs the true/false property that records SMS consent."
    return None


def lists_problem(draft: MailjetDraft) -> str | None:
    if draft.lists == ():
        return "Choose at least one list, or every list."
    return None
