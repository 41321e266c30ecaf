"""Extensions → Integrations: the Mailjet tile (Install, or See details when connected)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from engage_desktop.core.words import plural
from engage_desktop.storage.mailjet_settings import MailjetSettings
from engage_desktop.ui.integrations.tile_frame import TileFrame


def lists_words(settings: MailjetSettings) -> str:
    if settings.lists is None:
        return "every list"
    return "no lists" if not settings.lists else plural(len(settings.lists), "list")


class MailjetTile(TileFrame):
    """One integration: what it does, whether it is connected, one button."""

    install_requested = Signal()
    details_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "<b style='font-size:15pt'>Mailjet</b>",
            "Syncs the contacts of your Mailjet lists — phone numbers from the property you "
            "choose, consent, names and mapped fields. A number Klaviyo also has becomes one "
            "contact with both sources.",
            parent,
        )
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
