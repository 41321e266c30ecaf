"""The one path from background sync events to widgets."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from engage_desktop.imports.report import ImportProgress
from engage_desktop.sync.events import SyncProgress, SyncRefused, SyncResult


class EngineBridge(QObject):
    """Turns the engine's immutable events (from the sync thread) into Qt signals.

    It lives on the GUI thread; emitting from the sync thread queues the call, so slots always
    run on the GUI thread.
    """

    progress_changed = Signal(object)  # SyncProgress
    run_finished = Signal(object)  # SyncResult
    run_refused = Signal(object)  # SyncRefused
    message_posted = Signal(str)  # a sentence for the status bar, from a worker thread
    import_progressed = Signal(object)  # ImportProgress, from the import's worker thread

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

    def say(self, text: str) -> None:
        """A worker thread has something to tell the person (call it from any thread)."""
        self.message_posted.emit(text)
