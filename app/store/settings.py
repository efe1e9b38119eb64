"""The settings table: the values the user changed, validated against their declarations."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

from app import settings as settings_decl
from app.errors import SettingError
from app.store.db import StoreBase, locked


class SettingStore(StoreBase):
    """Settings: stored values, falling back to each setting's declared default."""

    @locked
    def get_setting(self, name: str) -> settings_decl.SettingValue:
        """The stored value of a setting, or its declared default."""
        decl = settings_decl.declaration(name)
        row = self.db.execute("SELECT value FROM settings WHERE name = ?", [name]).fetchone()
        if row is None:
            return decl.default
        try:
            return decl.parse(json.loads(row[0]))
        except (ValueError, SettingError):
            # A value that no longer validates (bounds changed) falls back to the default.
            return decl.default

    @locked
    def stored_settings(self) -> dict[str, settings_decl.SettingValue]:
        """Only the settings the user changed."""
        rows = self.db.execute("SELECT name FROM settings").fetchall()
        return {r[0]: self.get_setting(r[0]) for r in rows if r[0] in settings_decl.BY_NAME}

    def all_settings(self) -> dict[str, settings_decl.SettingValue]:
        """Every declared setting with its effective value, in declaration order."""
        return {s.name: self.get_setting(s.name) for s in settings_decl.SETTINGS}

    @locked
    def set_setting(self, name: str, value: object) -> settings_decl.SettingValue:
        """Validate and store; a refused value raises SettingError and nothing is written."""
        parsed = settings_decl.validate(name, value)
        self.db.execute(
            """INSERT INTO settings(name, value, updated_at) VALUES (?, ?, ?)
               ON CONFLICT(name) DO UPDATE SET value = excluded.value,
                                               updated_at = excluded.updated_at""",
            [name, json.dumps(parsed), time.time()],
        )
        return parsed

    def save_settings(self, values: Mapping[str, object]) -> dict[str, settings_decl.SettingValue]:
        """Store several settings at once, as the settings dialog saves them.

        Every value is validated first, then all are written in one transaction, so a
        refused value, or the app dying midway, stores none of them. A value equal to
        its declared default removes the stored one.
        """
        parsed = {name: settings_decl.validate(name, value) for name, value in values.items()}
        with self._atomic():
            for name, value in parsed.items():
                if value == settings_decl.declaration(name).default:
                    self.db.execute("DELETE FROM settings WHERE name = ?", [name])
                else:
                    self.db.execute(
                        """INSERT INTO settings(name, value, updated_at) VALUES (?, ?, ?)
                           ON CONFLICT(name) DO UPDATE SET value = excluded.value,
                                                           updated_at = excluded.updated_at""",
                        [name, json.dumps(value), time.time()],
                    )
        return parsed

    @locked
    def reset_setting(self, name: str) -> settings_decl.SettingValue:
        decl = settings_decl.declaration(name)
        self.db.execute("DELETE FROM settings WHERE name = ?", [name])
        return decl.default
