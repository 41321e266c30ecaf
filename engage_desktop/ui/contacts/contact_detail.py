"""The detail pane: every platform field of one contact and its source ids."""

from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtWidgets import QPushButton, QTextBrowser, QVBoxLayout, QWidget

from engage_desktop.core.consent import SmsStatus
from engage_desktop.storage.contact_table import ContactDetail


def _when(ts: float | None) -> str:
    return "—" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


class ContactDetailPane(QWidget):
    """Shows one contact; its button asks to opt the contact out."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        self.opt_out = QPushButton("Mark as &opted out…")
        self.opt_out.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.opt_out)
        self.show_contact(None)

    def show_contact(self, detail: ContactDetail | None) -> None:
        self.shown = detail
        if detail is None:
            self.text.setHtml("<p style='color:#6b6b6b'>Select a contact to see its details.</p>")
            self.opt_out.setEnabled(False)
            return
        r = detail.row
        rows: list[tuple[str, str]] = [
            ("Phone", r.phone or f"none usable (Klaviyo has: {detail.phone_raw or 'nothing'})"),
            ("Email", r.email or "—"),
            ("SMS status", r.status.label),
            ("Status changed", _when(detail.sms_changed_at)),
            ("Why", detail.sms_reason or "—"),
            ("Lists", r.lists or "—"),
        ]
        rows += [(name, str(value)) for name, value in sorted(detail.fields.items())]
        rows += [(f"{source} id", ext) for source, ext in detail.source_ids]
        rows += [("Created", _when(detail.created_at)), ("Updated", _when(r.updated_at))]
        body = "".join(
            f"<tr><td style='color:#555;padding-right:12px'>{html.escape(k)}</td>"
            f"<td>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        self.text.setHtml(f"<h3>{html.escape(r.name or '(no name)')}</h3><table>{body}</table>")
        self.opt_out.setEnabled(r.status is not SmsStatus.OPTED_OUT)
