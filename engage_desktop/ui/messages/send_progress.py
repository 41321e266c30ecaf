"""A send in progress: the bar, submitted and skipped so far, Cancel; then the summary."""

from __future__ import annotations

import html

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.core.words import plural
from engage_desktop.gateway.events import SendFinished, SendProgress
from engage_desktop.ui.messages.preview_panel import reason_label

RENDER_EVERY_MS = 100  # snapshots are drawn at most ten times a second


def skipped_text(skipped: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {reason_label(why)}" for why, n in skipped.items() if n)


class SendProgressPanel(QFrame):
    """Renders the latest snapshot of the campaign being sent (never deltas)."""

    cancel_requested = Signal(int)  # campaign id
    campaign_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("send_progress")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.campaign_id: int | None = None
        self.title = QLabel()
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Sending progress")
        self.counts = QLabel()
        self.counts.setWordWrap(True)
        self.cancel = QPushButton("&Cancel sending")
        self.open = QPushButton("Open in Ca&mpaigns")
        self.close_button = QPushButton("&Done")
        buttons = QHBoxLayout()
        buttons.addWidget(self.counts, 1)
        buttons.addWidget(self.open)
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.bar)
        layout.addLayout(buttons)
        self._latest: SendProgress | None = None
        self._timer = QTimer(self, singleShot=True, interval=RENDER_EVERY_MS)
        self._timer.timeout.connect(self._render)
        self.cancel.clicked.connect(self._cancel)
        self.open.clicked.connect(
            lambda: self.campaign_requested.emit(self.campaign_id) if self.campaign_id else None
        )
        self.close_button.clicked.connect(self.hide)
        self.finished: SendFinished | None = None
        self._cancelling = False
        self.hide()

    def preparing(self, recipients: int) -> None:
        """Writing the campaign's recipients (before anything is sent)."""
        self.campaign_id = None
        self.finished = None
        self._latest = None
        self.title.setText(f"<b>Preparing</b> {plural(recipients, 'recipient')}…")
        self.bar.setRange(0, max(recipients, 1))
        self.bar.setValue(0)
        self.counts.setText("Nothing is sent until every recipient is written down.")
        self.cancel.setEnabled(False)
        self.open.hide()
        self.close_button.hide()
        self.cancel.show()
        self.show()

    def prepared(self, done: int) -> None:
        self.bar.setValue(done)

    def started(self, campaign_id: int, recipients: int) -> None:
        self.campaign_id = campaign_id
        self._cancelling = False
        self.title.setText(f"<b>Sending</b> campaign {campaign_id}…")
        self.bar.setRange(0, max(recipients, 1))
        self.bar.setValue(0)
        self.counts.setText("Starting…")
        self.cancel.setEnabled(True)
        self.open.show()

    def show_progress(self, progress: SendProgress) -> None:
        """Keep the newest snapshot; draw it within 100 ms."""
        if progress.campaign_id != self.campaign_id or self.finished is not None:
            return
        self._latest = progress
        if not self._timer.isActive():
            self._timer.start()

    def _render(self) -> None:
        p = self._latest
        if p is None or self.finished is not None:
            return
        self.bar.setRange(0, max(p.recipients, 1))
        self.bar.setValue(min(p.done, p.recipients))
        eta = f" · about {int(p.eta_s)} s left" if p.eta_s is not None and p.eta_s >= 2 else ""
        self.counts.setText(
            f"{p.submitted:,} submitted · {p.skipped:,} skipped · {p.failed:,} refused"
            + (f" · <b>{p.unknown:,} unknown</b>" if p.unknown else "")
            + f" · {p.rate:,.0f}/s{eta}"
        )

    def show_finished(self, result: SendFinished) -> None:
        if result.campaign_id != self.campaign_id:
            return
        self.finished = result
        self._timer.stop()
        done = result.submitted + result.failed + result.unknown + sum(result.skipped.values())
        self.bar.setRange(0, max(result.recipients, 1))
        self.bar.setValue(min(done, result.recipients) if result.status == "finished" else done)
        word = {"finished": "Sent", "cancelled": "Cancelled", "paused": "Stopped"}.get(
            result.status, result.status.capitalize()
        )
        self.title.setText(f"<b>{word}</b> — campaign {result.campaign_id}")
        parts = [f"<b>{result.submitted:,}</b> submitted to MessageMedia"]
        if result.skipped:
            parts.append(f"skipped: {html.escape(skipped_text(result.skipped))}")
        if result.failed:
            parts.append(f"{result.failed:,} refused by MessageMedia")
        if result.unknown or result.recovered_unknown:
            n = result.unknown + result.recovered_unknown
            parts.append(
                f"<span style='color:#b00020'><b>{n:,} unknown</b> (the answer was lost): "
                "decide in Campaigns — they are never resent on their own</span>"
            )
        if result.error:
            parts.append(f"<span style='color:#b00020'>{html.escape(result.error)}</span>")
        parts.append(f"{result.duration_s:.1f} s")
        self.counts.setText(" · ".join(parts))
        self.cancel.hide()
        self.open.show()
        self.close_button.show()

    def show_refused(self, campaign_id: int | None, reason: str) -> None:
        if campaign_id is not None and campaign_id != self.campaign_id:
            return
        self.title.setText(
            "<b>Cancelled</b> — nothing was sent" if self._cancelling else "<b>Not sent</b>"
        )
        self.counts.setText(f"<span style='color:#b00020'>{html.escape(reason)}</span>")
        self.cancel.hide()
        self.close_button.show()
        self.show()

    def _cancel(self) -> None:
        if self.campaign_id is not None:
            self.cancel.setEnabled(False)
            self._cancelling = True
            self.title.setText(f"<b>Cancelling</b> campaign {self.campaign_id}…")
            self.cancel_requested.emit(self.campaign_id)
