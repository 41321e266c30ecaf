"""Reading contacts for people and scripts: filters checked against what exists."""

from __future__ import annotations

from collections.abc import Iterator

from engage_desktop.actions.outcomes import ActionError
from engage_desktop.core.sources import source_label
from engage_desktop.storage.contact_table import ContactTable
from engage_desktop.storage.contacts import Contact, ContactRepo
from engage_desktop.storage.database import Database


def contact_batches(
    db: Database, list_name: str | None = None, source: str | None = None
) -> Iterator[list[Contact]]:
    """Contacts in the order they were added, a batch at a time; an unknown list or source
    is an error that names the ones there are."""
    table = ContactTable(db)
    if list_name is not None:
        names = [name for _, name in table.lists()]
        short = {n.split(": ", 1)[-1] for n in names}
        if list_name not in names and list_name not in short:
            raise ActionError(
                f"No list called '{list_name}'. Lists: {', '.join(sorted(names)) or 'none yet'}."
            )
    if source is not None:
        sources = table.sources()
        if source.upper() not in sources:
            shown = ", ".join(f"{s} ({source_label(s)})" for s in sources) or "none yet"
            raise ActionError(f"No contacts come from '{source}'. Sources: {shown}.")
    return ContactRepo(db).batches(list_name, source)
