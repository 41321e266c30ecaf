"""Platform fields (name, type) and their mappings from Klaviyo fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import peewee

from engage_desktop.core.fields import FieldType
from engage_desktop.core.mapping import MappingSpec


class PlatformField(NamedTuple):
    """A platform field: its name and the type of its values."""

    name: str
    type: FieldType


class _MappingColumns(NamedTuple):
    """A mapping as `mappings` reads it, the type not yet checked."""

    name: str
    type: str
    path: str


class FieldRepo:
    """Platform fields and mappings; mapping a new name creates the field."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def mappings(self) -> list[MappingSpec]:
        cursor = self.db.execute_sql(
            "SELECT f.name, f.type, m.klaviyo_path AS path FROM field_mappings m"
            " JOIN platform_fields f ON f.id = m.field_id ORDER BY f.id"
        )
        return [
            MappingSpec(name=m.name, path=m.path, type=FieldType(m.type))
            for m in map(_MappingColumns._make, cursor)
        ]

    def fields(self) -> list[PlatformField]:
        """Every platform field, oldest first (`dict(fields())` maps names to types)."""
        cursor = self.db.execute_sql("SELECT name, type FROM platform_fields ORDER BY id")
        return [PlatformField(name=name, type=FieldType(kind)) for name, kind in cursor]

    def replace_mappings(self, mappings: Sequence[MappingSpec]) -> None:
        """Make these the only mappings, creating fields that do not exist yet."""
        with self.db.atomic():
            self.db.execute_sql("DELETE FROM field_mappings")
            for m in mappings:
                self.db.execute_sql(
                    "INSERT INTO platform_fields (name, type) VALUES (?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET type = excluded.type",
                    (m.name, m.type.value),
                )
                self.db.execute_sql(
                    "INSERT INTO field_mappings (field_id, klaviyo_path)"
                    " SELECT id, ? FROM platform_fields WHERE name = ?",
                    (m.path, m.name),
                )
