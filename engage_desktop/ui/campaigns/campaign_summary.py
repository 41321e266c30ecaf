"""One campaign at a glance: its text and numbers, and the unknown recipients waiting for a
person's decision (resend, or mark as not sent — never resent on their own)."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engage_desktop.core.words import plural
from engage_desktop.storage.campaign_batches import UnknownBatch
from engage_desktop.storage.campaigns import Campaign
from engage_desktop.ui.messages.preview_panel import reason_label


def counts_text(c: Campaign, replies: int) -> str:
    n = c.counts
    parts = [
        f"<b>{n.total:,}</b> recipients",
        f"<b>{n.submitted:,}</b> submitted",
    ]
    if n.pending or n.sending:
        parts.append(f"{n.pending + n.sending:,} waiting")
    for key, label in (("delivered", "delivered"), ("failed", "failed"), ("rejected", "rejected")):
        parts.append(f"{n.delivery.get(key, 0):,} {label}")
    if n.delivery.get("expired"):
        parts.append(f"{n.delivery['expired']:,} expired")
    if n.failed:
        parts.append(f"{n.failed:,} refused by MessageMedia")
    parts.append(plural(replies, "reply", "replies"))
    skipped = ", ".join(f"{v:,} {reason_label(k)}" for k, v in n.skipped.items() if v)
    text = " · ".join(parts)
    if skipped:
        text += f"<br>Skipped: {html.escape(skipped)}"
    return text


class CampaignSummary(QFrame):
    """Shows a campaign's numbers; the unknown box asks for a decision."""

    decision_requested = Signal(int, bool)  # campaign id, resend
    resume_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("campaign_summary")
        self.campaign: Campaign | None = None
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.counts = QLabel()
        self.counts.setWordWrap(True)
        self.unknown_box = QFrame()
        self.unknown_box.setObjectName("unknown_box")
        self.unknown_box.setStyleSheet(
            "#unknown_box { background: #fff4e5; border: 1px solid #e0a030; border-radius: 4px; }"
        )
        self.unknown_text = QLabel()
        self.unknown_text.setWordWrap(True)
        self.resend = QPushButton("&Resend them…")
        self.drop = QPushButton("Mark as &not sent")
        row = QHBoxLayout(self.unknown_box)
        row.addWidget(self.unknown_text, 1)
        row.addWidget(self.resend)
        row.addWidget(self.drop)
        self.resume = QPushButton("Res&ume sending")
        self.resume.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.counts)
        layout.addWidget(self.unknown_box)
        layout.addWidget(self.resume)
        self.unknown_box.hide()
        self.resend.clicked.connect(lambda: self._decide(True))
        self.drop.clicked.connect(lambda: self._decide(False))
        self.resume.clicked.connect(
            lambda: self.resume_requested.emit(self.campaign.id) if self.campaign else None
        )

    def show_campaign(
        self, c: Campaign | None, replies: int, unknown: list[UnknownBatch], sending: bool
    ) -> None:
        self.campaign = c
        if c is None:
            self.title.setText("Choose a campaign to see its recipients.")
            self.counts.clear()
            self.unknown_box.hide()
            self.resume.hide()
            return
        first = c.text if len(c.text) <= 160 else c.text[:157] + "…"
        self.title.setText(
            f"<b>Campaign {c.id}</b> to <b>{html.escape(c.list_name)}</b> — {c.status.value}"
            + (" (sending now)" if sending else "")
            + f"<br><span style='color:#444'>“{html.escape(first)}”</span>"
        )
        self.counts.setText(counts_text(c, replies))
        n = sum(b.recipients for b in unknown)
        self.unknown_box.setVisible(n > 0)
        if n:
            # What went wrong technically is on each row (Detail); here, what to decide.
            self.unknown_text.setText(
                f"<b>{plural(n, 'recipient')} in {plural(len(unknown), 'batch', 'batches')} "
                f"may or may not have got the message</b> — MessageMedia's answer was lost. "
                "Delivery reports confirm the ones that arrived; decide about the rest. "
                "Resending one that did arrive sends it twice."
            )
        resumable = c.status.value in ("paused", "ready") and not sending
        self.resume.setVisible(resumable or (c.counts.pending > 0 and not sending))

    def _decide(self, resend: bool) -> None:
        if self.campaign is not None:
            self.decision_requested.emit(self.campaign.id, resend)
