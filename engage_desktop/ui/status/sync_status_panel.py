"""The live sync status panel: progress while a run goes, the last and next run when idle."""

from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engage_desktop.core.sources import source_label
from engage_desktop.core.words import plural
from engage_desktop.storage.runs import RunRecord
from engage_desktop.sync.events import SyncProgress
from engage_desktop.ui.widgets.question import ask

RENDER_EVERY_MS = 100  # at most 10 renders a second, whatever the engine sends


def _when(ts: float) -> str:
    moment = datetime.fromtimestamp(ts)
    day = "today" if moment.date() == datetime.now().date() else moment.strftime("%Y-%m-%d")
    return f"{day} {moment:%H:%M}"


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class SyncStatusPanel(QFrame):
    """Renders snapshots (never deltas); asks for syncs, cancels and history through signals."""

    sync_requested = Signal(bool)  # full; already confirmed by the person
    cancel_requested = Signal()
    history_requested = Signal(int)  # run id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusPanel")
        self._pending: SyncProgress | None = None
        self.sources: list[str] = ["Klaviyo"]  # what a sync reads, named in the confirmation
        self._timer = QTimer(self, singleShot=True, interval=RENDER_EVERY_MS)
        self._timer.timeout.connect(self._render_pending)
        self.renders = 0  # for tests and the stall benchmark
        self._running_here = False
        self._blocked: str | None = "Install Klaviyo under Extensions → Integrations first."

        self.headline = QLabel()
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.headline.linkActivated.connect(lambda link: self.history_requested.emit(int(link)))
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.detail = QLabel()
        self.stats = QLabel()
        self.stats.setStyleSheet("color: #52606d;")
        self.cancel = QPushButton("&Cancel sync")
        self.sync_now = QPushButton("&Sync now")
        self.sync_now.setObjectName("primary")
        self.full_sync = QPushButton("F&ull sync")  # Alt+F is the File menu
        self.full_sync.setToolTip("Read every chosen list completely (finds removed contacts).")
        self.why = QLabel()
        self.why.setWordWrap(True)
        self.why.setStyleSheet("color: #8a6d00;")

        text = QVBoxLayout()
        text.addWidget(self.headline)
        text.addWidget(self.bar)
        text.addWidget(self.detail)
        text.addWidget(self.stats)
        text.addWidget(self.why)
        buttons = QGridLayout()
        buttons.addWidget(self.sync_now, 0, 0)
        buttons.addWidget(self.full_sync, 1, 0)
        buttons.addWidget(self.cancel, 2, 0)
        layout = QHBoxLayout(self)
        layout.addLayout(text, 1)
        layout.addLayout(buttons)

        self.sync_now.clicked.connect(lambda: self.confirm(full=False))
        self.full_sync.clicked.connect(lambda: self.confirm(full=True))
        self.cancel.clicked.connect(self.cancel_requested)
        self.show_idle(None, None)

    # ----- running ----------------------------------------------------------------------------
    def show_progress(self, p: SyncProgress) -> None:
        """Called for every snapshot; renders at most every RENDER_EVERY_MS."""
        self._pending = p
        self._running_here = True
        if not self._timer.isActive():
            self._render_pending()
            self._timer.start()

    def _render_pending(self) -> None:
        p, self._pending = self._pending, None
        if p is None or not self._running_here:
            return
        self.renders += 1
        names = " and ".join(source_label(s) for s in p.sources) or "Klaviyo"
        self.headline.setText(f"<b>Syncing with {names}</b> — {html.escape(p.phase)}")
        if p.expected:
            self.bar.setRange(0, p.expected)
            self.bar.setValue(min(p.fetched, p.expected))
        else:
            self.bar.setRange(0, 0)  # busy: the total is not known yet
        total = f" of {p.expected:,}" if p.expected else ""
        eta = f" · about {_duration(p.eta_s)} left" if p.eta_s is not None else ""
        current = f" · {p.current_list}" if p.current_list else ""
        lists = f" · lists {p.lists_done}/{p.lists_total}" if p.lists_total else ""
        each = (
            " (" + ", ".join(f"{source_label(s)} {f:,}" for s, (f, _) in p.sources.items()) + ")"
            if len(p.sources) > 1
            else ""
        )
        self.detail.setText(
            f"{p.fetched:,}{total} records{each} · {p.rate:,.0f}/s{eta}{lists}{current}"
        )
        self.stats.setText(
            f"{p.requests:,} requests · {p.throttled:,} throttling waits · "
            f"{p.issues:,} issues so far"
        )
        self.bar.show()
        self.cancel.show()
        self.cancel.setEnabled(True)
        self._buttons()

    # ----- idle -------------------------------------------------------------------------------
    def show_idle(self, last: RunRecord | None, next_due: float | None) -> None:
        """The run ended (or none is going): the last run, with a link, and the next one."""
        self._running_here = False
        self._pending = None
        self.bar.hide()
        self.cancel.hide()
        if last is None:
            self.headline.setText("<b>No sync yet</b>")
            self.detail.setText("")
        else:
            c = last.counts
            verdict = last.status + (" — check it" if last.suspicious else "")
            self.headline.setText(
                f"<b>Last sync:</b> {_when(last.started_at)}, {html.escape(verdict)} · "
                f"<a href='{last.id}'>view run #{last.id}</a>"
            )
            self.detail.setText(
                f"{c['created']:,} new · {c['updated']:,} updated · {c['removed']:,} removed · "
                f"{c['opted_out']:,} opted out · {plural(last.issues, 'issue')}"
                + (f" — {last.error}" if last.error else "")
            )
        self.stats.setText(
            f"Next automatic sync: {_when(next_due)}" if next_due is not None else ""
        )
        self._buttons()

    def show_refused(self, reason: str) -> None:
        """A sync that could not start (no key, not connected): say why, here, not only in
        the status bar."""
        self._running_here = False
        self._pending = None
        self.bar.hide()
        self.cancel.hide()
        self.headline.setText("<b style='color:#b00020'>The sync could not start</b>")
        self.detail.setText(reason)
        self._buttons()

    def set_blocked(self, reason: str | None) -> None:
        """Why the buttons are off (not connected, a run elsewhere); None: they are on."""
        self._blocked = reason
        self._buttons()

    def _buttons(self) -> None:
        reason = "A sync is running in this window." if self._running_here else self._blocked
        for button in (self.sync_now, self.full_sync):
            button.setEnabled(reason is None)
            button.setToolTip(reason or "")
        self.why.setText(reason if reason and not self._running_here else "")
        self.why.setVisible(bool(self.why.text()))

    # ----- the question -----------------------------------------------------------------------
    def confirm(self, full: bool) -> QMessageBox:
        """Ask before a manual sync; `sync_requested` only on the person's yes."""
        names = " and ".join(self.sources) or "Klaviyo"
        self.question = ask(
            self,
            "Manual sync",
            (
                f"Sync every chosen list of {names} completely now? This finds removed "
                "contacts and takes longer."
                if full
                else f"Sync your contacts from {names} now?"
            )
            + " You can keep working meanwhile; changes appear when it completes.",
            "Okay, continue with Manual Syncing",
            lambda: self.sync_requested.emit(full),
        )
        return self.question
