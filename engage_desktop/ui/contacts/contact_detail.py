"""The detail pane: every platform field of one contact and its source ids."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QPushButton, QTextBrowser, QVBoxLayout, QWidget

from engage_desktop.core.consent import SmsStatus
from engage_desktop.core.sources import source_label
from engage_desktop.storage.contact_table import ContactDetail
from engage_desktop.storage.contacts import SourceRecord
from engage_desktop.storage.inbound import ReplyRow
from engage_desktop.ui.contacts.source_records import records_html, value_text
from engage_desktop.ui.widgets.phone_text import phone_text

LABEL = "margin:6px 0 0 0; color:#6b6b6b; font-size:9pt"
# Names and values can be huge (a 10,000-character first name has been seen in Klaviyo): the
# pane shows the start; the table's tooltip and the export keep the rest.
LONGEST = 300


def _when(ts: float | None) -> str:
    return "—" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def _cut(text: str) -> str:
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"


class ContactDetailPane(QWidget):
    """Shows one contact; its button asks to opt the contact out."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        self.text.setAccessibleName("Contact details")
        self.opt_out = QPushButton("Mark as &opted out…")
        self.opt_out.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.opt_out)
        self.shown: ContactDetail | None = None
        self.records: list[SourceRecord] = []
        self.replies: list[ReplyRow] = []
        self.show_contact(None)

    def show_contact(
        self,
        detail: ContactDetail | None,
        records: list[SourceRecord] | None = None,
        replies: Sequence[ReplyRow] = (),
    ) -> None:
        """Show this contact as it is now (None: nothing selected), with each source's
        record of it and its latest SMS replies."""
        self.shown = detail
        self.records = records or []
        self.replies = list(replies)
        if detail is None:
            self.text.setHtml("<p style='color:#6b6b6b'>Select a contact to see its details.</p>")
            self.opt_out.setEnabled(False)
            self.opt_out.setToolTip("")
            return
        self._render(detail)
        opted_out = detail.row.status is SmsStatus.OPTED_OUT
        self.opt_out.setEnabled(not opted_out)
        self.opt_out.setToolTip("Already opted out." if opted_out else "")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.shown is not None:  # a long email may need its other layout at this width
            self._render(self.shown)

    def _render(self, detail: ContactDetail) -> None:
        """The email on one line if the pane is wide enough; else broken after its @, never
        inside a word (a break at a hyphen, or anywhere, reads as two addresses)."""
        bar = self.text.horizontalScrollBar()
        sources = records_html(detail, self.records)
        self.text.setHtml(_page(detail, split_email=False, replies=self.replies) + sources)
        if self.text.document().idealWidth() > self.text.viewport().width() and "@" in (
            detail.row.email or ""
        ):
            self.text.setHtml(_page(detail, split_email=True, replies=self.replies) + sources)
        bar.setValue(0)


def _page(detail: ContactDetail, split_email: bool, replies: Sequence[ReplyRow] = ()) -> str:
    r = detail.row
    phone = (
        _token(phone_text(r.phone))
        if r.phone
        else _prose(f"none usable (the source has: {detail.phone_raw or 'nothing'})")
    )
    email = _prose("—")
    if r.email and split_email:
        local, domain = r.email.rsplit("@", 1)
        email = _token(local + "@") + _token(domain)
    elif r.email:
        email = _token(r.email)
    parts = [
        f"<h3 style='margin:0'>{html.escape(_cut(r.name) or '(no name)')}</h3>",
        _field("Phone", phone),
        _field("Email", email),
        _field("SMS status", _token(r.status.label)),
        _field("Status changed", _token(_when(detail.sms_changed_at))),
        _field("Why", _prose(detail.sms_reason or "—")),
        _field("Groups", "".join(_prose(n) for n in r.lists.split(", ") if n) or _prose("—")),
    ]
    parts += [
        _field(name, _prose(value_text(value))) for name, value in sorted(detail.fields.items())
    ]
    if replies:
        said = "".join(
            _prose(f"{_when(x.received_at)}: “{x.content}”" + (" — opted out" if x.keyword else ""))
            for x in replies
        )
        parts.append(_field("SMS replies", said))
    parts += [
        _field(f"{source_label(s)} id", _token(ext, small=True)) for s, ext in detail.source_ids
    ]
    parts += [
        _field("Created", _token(_when(detail.created_at))),
        _field("Updated", _token(_when(r.updated_at))),
    ]
    return "".join(parts)


def _field(label: str, value_html: str) -> str:
    return f"<p style='{LABEL}'>{html.escape(label)}</p>{value_html}"


def _token(text: str, small: bool = False) -> str:
    """A value read as one piece (a number, an address, a date, an id): never wrapped. Ids
    are for support, not for reading: smaller, so that a 26-letter one fits the pane."""
    size = " font-size:9pt;" if small else ""
    return f"<p style='margin:0; white-space:nowrap;{size}'>{html.escape(text)}</p>"


def _prose(text: str) -> str:
    """Words: wrapped between them."""
    return f"<p style='margin:0'>{html.escape(_cut(text))}</p>"
