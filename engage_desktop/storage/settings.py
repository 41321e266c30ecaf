"""The app's settings in the database (JSON by key); the SMTP password in the keyring."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import Any

import peewee

from engage_desktop.core.settings import AppSettings, EmailSettings, SmtpSecurity

KEY = "app"


class SettingsRepo:
    """Loads and saves `AppSettings` (unknown or broken values fall back to defaults)."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db

    def load(self) -> AppSettings:
        row = self.db.execute_sql("SELECT value FROM app_settings WHERE key = ?", (KEY,)).fetchone()
        if row is None:
            return AppSettings()
        (value,) = row
        try:
            raw: dict[str, Any] = json.loads(value)
            email = dict(raw.pop("email", {}))
            email["security"] = SmtpSecurity(email.get("security", "starttls"))
            email["recipients"] = tuple(email.get("recipients", ()))
            known_email = {
                k: v for k, v in email.items() if k in EmailSettings.__dataclass_fields__
            }
            known = {k: v for k, v in raw.items() if k in AppSettings.__dataclass_fields__}
            return replace(AppSettings(**known), email=EmailSettings(**known_email))
        except (ValueError, TypeError):
            return AppSettings()

    def save(self, settings: AppSettings) -> None:
        value = asdict(settings)
        value["email"]["recipients"] = list(settings.email.recipients)
        self.db.execute_sql(
            "INSERT INTO app_settings (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (KEY, json.dumps(value)),
        )
