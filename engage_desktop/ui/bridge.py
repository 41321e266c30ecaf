"""The one path from background events (syncs, the SMS gateway) to widgets."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from engage_desktop.gateway.events import PollRound, SendFinished, SendProgress, SendRefused
from engage_desktop.imports.report import ImportProgress
from engage_desktop.sync.events import SyncProgress, SyncRefused, SyncResult


class EngineBridge(QObject):
    """Turns the engines' immutable events (from worker threads) into Qt signals.

    It lives on the GUI thread; emitting from a worker thread queues the call, so slots always
    run on the GUI thread.
    """

    progress_changed = Signal(object)  # SyncProgress
    run_finished = Signal(object)  # SyncResult
    run_refused = Signal(object)  # SyncRefused
    message_posted = Signal(str)  # a sentence for the status bar, from a worker thread
    import_progressed = Signal(object)  # ImportProgress, from the import's worker thread
    send_progress = Signal(object)  # SendProgress
    send_finished = Signal(object)  # SendFinished
    send_refused = Signal(object)  # SendRefused
    poll_heard = Signal(object)  # PollRound

    def publish(self, event: object) -> None:
        """The engine-side listener: call it from any thread."""
        if isinstance(event, SyncProgress):
            self.progress_changed.emit(event)
        elif isinstance(event, SyncResult):
            self.run_finished.emit(event)
        elif isinstance(event, SyncRefused):
            self.run_refused.emit(event)
        elif isinstance(event, ImportProgress):
            self.import_progressed.emit(event)
        elif isinstance(event, SendProgress):
            self.send_progress.emit(event)
        elif isinstance(event, SendFinished):
            self.send_finished.emit(event)
        elif isinstance(event, SendRefused):
            self.send_refused.emit(event)
        elif isinstance(event, PollRound):
            self.poll_heard.emit(event)

    def say(self, text: str) -> None:
        """A worker thread has something to tell the person (call it from any thread)."""
        self.message_posted.emit(text)
