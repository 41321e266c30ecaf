"""The app's stylesheet, rendered offscreen: what is disabled looks disabled (grey, flat), what
is enabled keeps its look (the blue default and primary buttons, white inputs)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)
from pytestqt.qtbot import QtBot

from engage_desktop.app import apply_theme

ACCENT = QColor("#2563eb")
INK = QColor("#1f2933")
DISABLED_FILL = QColor("#eef0f3")
CLOSE = 40  # per-channel distance that still counts as "that colour" (antialiasing, blending)


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[QApplication]:
    """The app's stylesheet for one test; the session's application gets its own back."""
    sheet, icon = qapp.styleSheet(), qapp.windowIcon()
    apply_theme(qapp)
    assert qapp.styleSheet(), "resources/style.qss was found"
    yield qapp
    qapp.setStyleSheet(sheet)
    qapp.setWindowIcon(icon)


def distance(a: QColor, b: QColor) -> int:
    return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue()))


def fill_of(widget: QWidget) -> QColor:
    """The colour covering most of the widget: its background."""
    image = widget.grab().toImage()
    counts = Counter(image.pixel(x, y) for x in range(image.width()) for y in range(image.height()))
    return QColor.fromRgb(counts.most_common(1)[0][0])


def ink_of(widget: QWidget, fill: QColor) -> QColor:
    """The colour of its text: the pixel furthest from the fill, inside the border."""
    image: QImage = widget.grab().toImage()
    inside = [
        image.pixelColor(x, y)
        for x in range(4, image.width() - 4)
        for y in range(4, image.height() - 4)
    ]
    return max(inside, key=lambda colour: distance(colour, fill))


def is_grey(colour: QColor) -> bool:
    """Light enough to read as "not available", without the accent's saturation."""
    return colour.lightness() > 120 and colour.hslSaturation() < 80


@pytest.fixture
def wizard_and_name(qtbot: QtBot, themed: QApplication) -> tuple[QWizard, QLineEdit]:
    """Two pages; the first needs a name, so its Next (the default button) starts disabled."""
    wizard = QWizard()
    first = QWizardPage()
    name = QLineEdit()
    QVBoxLayout(first).addWidget(name)
    first.registerField("name*", name)
    wizard.addPage(first)
    wizard.addPage(QWizardPage())
    wizard.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
    wizard.resize(500, 300)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    return wizard, name


def test_a_disabled_wizard_next_is_grey_and_an_enabled_one_blue(
    wizard_and_name: tuple[QWizard, QLineEdit],
) -> None:
    wizard, name = wizard_and_name
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    assert isinstance(next_button, QPushButton)
    assert next_button.isDefault() and not next_button.isEnabled()
    fill = fill_of(next_button)
    assert distance(fill, ACCENT) > CLOSE, f"disabled Next is drawn blue: {fill.name()}"
    assert distance(fill, DISABLED_FILL) <= CLOSE / 4
    assert is_grey(ink_of(next_button, fill))

    name.setText("Ada")
    assert next_button.isEnabled()
    fill = fill_of(next_button)
    assert distance(fill, ACCENT) <= CLOSE / 4, f"enabled Next lost its blue: {fill.name()}"
    assert ink_of(next_button, fill).lightness() > 230  # white text on blue


@pytest.mark.parametrize("enabled", [True, False])
def test_a_primary_button_is_blue_only_while_enabled(
    qtbot: QtBot, themed: QApplication, enabled: bool
) -> None:
    button = QPushButton("Sync now")
    button.setObjectName("primary")
    button.setEnabled(enabled)
    qtbot.addWidget(button)
    button.show()
    qtbot.waitExposed(button)
    fill = fill_of(button)
    assert (distance(fill, ACCENT) <= CLOSE / 4) == enabled, fill.name()
    if not enabled:
        assert is_grey(ink_of(button, fill))


@pytest.mark.parametrize("kind", [QLineEdit, QComboBox])
def test_a_disabled_input_is_greyed_and_an_enabled_one_white(
    qtbot: QtBot, themed: QApplication, kind: type[QLineEdit] | type[QComboBox]
) -> None:
    host = QWidget()
    layout = QVBoxLayout(host)
    enabled, disabled = kind(), kind()
    for field in (enabled, disabled):
        if isinstance(field, QLineEdit):
            field.setText("smtp.example.com")
        else:
            field.addItem("smtp.example.com")
        layout.addWidget(field)
    disabled.setEnabled(False)
    host.resize(320, 100)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)

    assert fill_of(enabled).lightness() == 255  # white, as before
    assert distance(ink_of(enabled, QColor("white")), INK) <= CLOSE  # dark text
    fill = fill_of(disabled)
    assert distance(fill, QColor("white")) > 8, "a disabled input looks editable"
    assert distance(fill, DISABLED_FILL) <= CLOSE / 4
    text = ink_of(disabled, fill)
    assert is_grey(text) and distance(text, INK) > CLOSE, f"text stays dark: {text.name()}"
