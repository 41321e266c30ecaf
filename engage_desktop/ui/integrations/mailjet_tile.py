"""Extensions → Integrations: the Mailjet tile (Install, or See details when connected)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from engage_desktop.core.words import plural
from engage_desktop.storage.mailjet_settings import MailjetSettings


def lists_words(settings: MailjetSettings) -> str:
    if settings.lists is None:
        return "every list"
    return "no lists" if not settings.lists else plural(len(settings.lists), "list")


class MailjetTile(QFrame):
    """One integration: what it does, whether it is connected, one button."""

    install_requested = Signal()
    details_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("tile")
        self.setMaximumWidth(520)
        title = QLabel("<b style='font-size:15pt'>Mailjet</b>")
        about = QLabel(
            "Syncs the contacts of your Mailjet lists — phone numbers from the property you "
            "choose, consent, names and mapped fields. A number Klaviyo also has becomes one "
            "contact with both sources."
        )
        about.setWordWrap(True)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.button = QPushButton()
        self.button.setMinimumWidth(140)
        self.button.setAutoDefault(True)
        row = QHBoxLayout()
        row.addWidget(self.state, 1)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignRight)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(about)
        layout.addLayout(row)
        self.button.clicked.connect(self._clicked)
        self._connected = False
        self.show_settings(None)

    def show_settings(self, settings: MailjetSettings | None, keys_missing: bool = False) -> None:
        self._connected = settings is not None
        if settings is None:
            self.state.setText("Not installed.")
            self.button.setText("Ins&tall")
            return
        text = (
            f"<span style='color:#1b5e20'>● Connected</span> (key {settings.key_hint}) — "
            f"{lists_words(settings)}, phone from '{settings.phone_property}', "
            f"{settings.consent_mode.value} consent."
        )
        if keys_missing:
            text += (
                "<br><span style='color:#b00020'>The key pair is not available (not in the "
                "keyring, or it is locked): Reconnect to enter it. Nothing else changes.</span>"
            )
        self.state.setText(text)
        self.button.setText("Reconnec&t…" if keys_missing else "See de&tails")

    @property
    def connected(self) -> bool:
        return self._connected

    def _clicked(self) -> None:
        (self.details_requested if self._connected else self.install_requested).emit()
