"""Phone numbers and countries as people read them: "+1 212-760-1000", "Eswatini (+268)".

Numbers are stored in E.164 and searched that way; only what is shown is formatted, each by
its own country's rules (phonenumbers' INTERNATIONAL format).
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QCompleter

from engage_desktop.core.countries import country_name, name_order

# A table paints ~40 rows many times a second (every scroll step, every hover): a number is
# parsed once, then looked up. A few thousand numbers are a few hundred kilobytes.
PHONES_KEPT = 8192


@lru_cache(maxsize=PHONES_KEPT)
def phone_text(e164: str) -> str:
    """ "+12127601000" -> "+1 212-760-1000"; a number phonenumbers cannot read stays as it is."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def region_label(code: str) -> str:
    """ "SZ" -> "Eswatini (+268)": the name to find it by, then the code people dial."""
    return f"{country_name(code)} (+{phonenumbers.country_code_for_region(code)})"


@lru_cache(maxsize=1)
def regions_by_name() -> tuple[tuple[str, str], ...]:
    """(label, region code) for every region phonenumbers knows, sorted by country name."""
    codes = sorted(phonenumbers.SUPPORTED_REGIONS, key=lambda c: name_order(country_name(c)))
    return tuple((region_label(code), code) for code in codes)


def fill_regions(combo: QComboBox) -> None:
    """The countries, by name, each with its region code as item data. The box takes typing:
    any part of a name ("kingdom", "eswa") offers the countries that contain it."""
    combo.clear()
    for label, code in regions_by_name():
        combo.addItem(label, code)
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)  # a choice, never a new country
    combo.setMaxVisibleItems(20)
    completer = QCompleter(combo.model(), combo)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    combo.setCompleter(completer)
    edit = combo.lineEdit()
    assert edit is not None  # (editable)
    edit.editingFinished.connect(lambda: _settle(combo))


def _settle(combo: QComboBox) -> None:
    """Typing done: text naming one country chooses it ("united kingdom", "+41"); any other
    text goes back to the country chosen before (the choice never went away)."""
    typed = combo.currentText().strip().casefold()
    found = [i for i in range(combo.count()) if typed and typed in combo.itemText(i).casefold()]
    exact = [i for i in found if combo.itemText(i).casefold() == typed]
    if exact or len(found) == 1:
        combo.setCurrentIndex((exact or found)[0])
    combo.setEditText(combo.itemText(combo.currentIndex()))
