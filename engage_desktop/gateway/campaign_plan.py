"""Before sending: who a message reaches (and who not, and why), what each person gets, how
many segments it costs, and the campaign that records it all.

Blocking database work (the app calls it on a worker thread). Counting is one SQL statement
(a million contacts in well under a second); preparing writes the recipients in chunks of a
few thousand, each its own short transaction, so a sync waiting to commit is not held up.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from engage_desktop.core.messaging import RecipientState, SkipReason
from engage_desktop.core.personalisation import Template, parse_template
from engage_desktop.core.segments import count_segments
from engage_desktop.storage.audience import ALL_CONTACTS, AudienceRepo, AudienceRow, ListRef
from engage_desktop.storage.campaigns import Campaign, CampaignRepo
from engage_desktop.storage.database import Database


class PreviewRow(NamedTuple):
    """What one contact of the audience would get (or why not)."""

    contact_id: int
    name: str
    phone: str | None
    text: str | None  # None when skipped
    segments: int
    skipped: str | None  # the SkipReason value, None when it would be sent
    missing: tuple[str, ...] = ()  # the placeholders without a value (missing_field)


@dataclass(frozen=True)
class SendPlan:
    """A message to a list, before anything is written."""

    list: ListRef
    text: str
    personal: bool
    recipients: int
    skipped: dict[str, int] = field(default_factory=dict)  # by reason, only those that occur
    segments: int | None = None  # all recipients' segments together (None: not counted)
    segments_min: int = 0  # per message
    segments_max: int = 0
    encoding: str = "GSM-7"
    sample: tuple[PreviewRow, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "list": self.list.name,
            "list_id": self.list.id,
            "recipients": self.recipients,
            "skipped": dict(self.skipped),
            "segments": self.segments,
            "segments_per_message": [self.segments_min, self.segments_max],
            "encoding": self.encoding,
            "personal": self.personal,
        }


class CampaignPlanner:
    """Counts, previews and prepares messages on one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.audience = AudienceRepo(db)
        self.campaigns = CampaignRepo(db)

    def find_list(self, ref: str | int | None) -> ListRef:
        """None: every contact. LookupError says which lists exist."""
        return ALL_CONTACTS if ref is None else self.audience.find_list(str(ref))

    def template(self, text: str) -> Template:
        """The message parsed against the platform fields (TemplateError says what to fix)."""
        return parse_template(text, self.audience.field_names())

    def plan(
        self, lst: ListRef, text: str, with_segments: bool = True, sample: int = 5
    ) -> SendPlan:
        template = self.template(text)
        counts = self.audience.counts(lst, template)
        recipients = counts.pop(None, 0)
        skipped = {str(k): v for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])) if v}
        shown = tuple(self.preview(lst, template, limit=sample)) if sample else ()
        if not template.personal:
            one = count_segments(template.render({}) or "")
            return SendPlan(
                lst,
                text,
                False,
                recipients,
                skipped,
                one.segments * recipients,
                one.segments,
                one.segments,
                one.encoding,
                shown,
            )
        total, low, high, encodings = 0, 0, 0, Counter[str]()
        if with_segments:
            for row in self._rendered(lst, template):
                if row.text is None:
                    continue
                n = count_segments(row.text)
                total += n.segments
                low = n.segments if not low else min(low, n.segments)
                high = max(high, n.segments)
                encodings[n.encoding] += 1
        return SendPlan(
            lst,
            text,
            True,
            recipients,
            skipped,
            total if with_segments else None,
            low,
            high,
            "UCS-2" if encodings["UCS-2"] else "GSM-7",
            shown,
        )

    def preview(
        self,
        lst: ListRef,
        template: Template,
        after_contact_id: int = 0,
        limit: int = 50,
        include_skipped: bool = False,
    ) -> list[PreviewRow]:
        """What the next contacts of the list would get (keyset on contact id)."""
        out: list[PreviewRow] = []
        for row in self._rendered(lst, template, after_contact_id):
            if row.skipped is None or include_skipped:
                out.append(row)
                if len(out) >= limit:
                    break
        return out

    def prepare(
        self,
        lst: ListRef,
        text: str,
        source_number: str | None,
        now: float,
        on_chunk: Callable[[int], None] = lambda done: None,
    ) -> Campaign:
        """Write the campaign and every contact of the list with its state: `pending` with
        its personal text, or `skipped` with the reason. Nothing is sent."""
        template = self.template(text)
        own_text = _own_texts(template)
        campaign_id = self.campaigns.create(lst.id, lst.name, text, own_text, source_number, now)
        done = 0
        try:
            for chunk in self.audience.rows(lst):
                rows = []
                for row in map(lambda r: _render(template, r), chunk):
                    state = (
                        RecipientState.PENDING if row.skipped is None else RecipientState.SKIPPED
                    )
                    text_kept = row.text if own_text and row.skipped is None else None
                    rows.append((row.contact_id, row.phone, text_kept, state.value, row.skipped))
                self.campaigns.add_recipients(campaign_id, rows)
                done += len(rows)
                on_chunk(done)
            return self.campaigns.ready(campaign_id)
        except BaseException:
            self.campaigns.delete(campaign_id)  # never a half-prepared campaign
            raise

    def _rendered(
        self, lst: ListRef, template: Template, after_contact_id: int = 0
    ) -> Iterator[PreviewRow]:
        for chunk in self.audience.rows(lst, after=after_contact_id):
            for row in chunk:
                yield _render(template, row)


def _own_texts(template: Template) -> bool:
    """Whether each recipient's text is kept on its row: it differs per person, or differs
    from the text as written (`{{` stands for a brace)."""
    return template.personal or template.render({}) != template.text


def _render(template: Template, row: AudienceRow) -> PreviewRow:
    name = " ".join(x for x in (row.first_name, row.last_name) if x) or (row.phone or "")
    if row.reason is not None:
        return PreviewRow(row.contact_id, name, row.phone, None, 0, row.reason)
    if not template.personal:
        text = template.render({}) or ""
    else:
        details = {
            "first_name": row.first_name,
            "last_name": row.last_name,
            "email": row.email,
            "phone": row.phone,
        }
        needs_fields = any(not p.builtin for p in template.placeholders)
        fields = json.loads(row.fields) if needs_fields and row.fields else {}
        rendered = template.render(details, fields)
        if rendered is None:
            missing = tuple(template.missing(details, fields))
            return PreviewRow(
                row.contact_id, name, row.phone, None, 0, SkipReason.MISSING_FIELD.value, missing
            )
        text = rendered
    return PreviewRow(row.contact_id, name, row.phone, text, count_segments(text).segments, None)
