"""API keys for remote servers, kept out of the database, the log and exports.

They go to the operating system's keyring (the ``keyring`` package: macOS Keychain,
Windows Credential Locker, the Secret Service on Linux desktops) when one is usable,
else to ``secrets.json`` in the data home, which only the user can read (mode 0600).
``HEARTH_SECRETS=file`` chooses the file even when a keyring exists.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from app.errors import HearthError
from app.paths import write_atomically

log = logging.getLogger(__name__)


def _usable_keyring() -> Any | None:
    if os.environ.get("HEARTH_SECRETS", "").lower() == "file":
        return None
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring setup: the file it is
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return keyring


class Secrets:
    """Secrets of one data home, by name."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.file = home / "secrets.json"
        self._keyring = _usable_keyring()
        self._service = f"hearth:{home.resolve()}"

    @property
    def where(self) -> str:
        """Where secrets are kept, in words."""
        if self._keyring is not None:
            return "the system keyring"
        return f"{self.file} (readable only by you)"

    def get(self, name: str) -> str | None:
        if self._keyring is not None:
            try:
                value = self._keyring.get_password(self._service, name)
            except Exception as exc:
                raise HearthError(f"The system keyring could not be read: {exc}") from None
            return str(value) if value else None
        value = self._read().get(name)
        return str(value) if value else None

    def set(self, name: str, value: str) -> None:
        if self._keyring is not None:
            try:
                self._keyring.set_password(self._service, name, value)
            except Exception as exc:
                raise HearthError(f"The system keyring could not save the key: {exc}") from None
            return
        data = self._read()
        data[name] = value
        self._write(data)

    def delete(self, name: str) -> None:
        if self._keyring is not None:
            with contextlib.suppress(Exception):  # not there: nothing to delete
                self._keyring.delete_password(self._service, name)
            return
        data = self._read()
        if data.pop(name, None) is not None:
            self._write(data)

    def _read(self) -> dict[str, Any]:
        try:
            text = self.file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise HearthError(f"{self.file} could not be read: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            log.warning("%s is not valid JSON; its keys are ignored", self.file)
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        try:
            write_atomically(self.file, json.dumps(data), private=True)
        except OSError as exc:
            raise HearthError(f"{self.file} could not be written: {exc.strerror or exc}") from None
