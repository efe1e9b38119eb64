"""Saved presets: named system prompts and chat parameters in ``<data home>/presets.json``,
a small, human-readable, versioned file (there is no table for them), written atomically.

The desktop's chat settings panel and the command line share them through ``Presets``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.chat.params import chat_params
from app.errors import HearthError
from app.paths import write_atomically

PRESETS_FILE = "presets.json"
PRESETS_VERSION = 1


@dataclass(frozen=True)
class Preset:
    """A reusable chat set-up: system prompt and parameters (overrides, stop strings)."""

    name: str
    system_prompt: str = ""
    params: dict[str, Any] = field(default_factory=dict)


def load_presets(path: Path) -> dict[str, Preset]:
    """Presets from ``path`` (none when the file does not exist yet)."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["presets"]
        return {
            str(name): Preset(
                str(name),
                str(entry.get("system_prompt", "")),
                dict(entry.get("params", {})),
            )
            for name, entry in entries.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise HearthError(f"The presets file {path} cannot be read ({exc}).") from None


def save_presets(path: Path, presets: Mapping[str, Preset]) -> None:
    """Write every preset to ``path`` at once (a crash leaves the old file whole)."""
    payload = {
        "version": PRESETS_VERSION,
        "presets": {
            name: {"system_prompt": p.system_prompt, "params": p.params}
            for name, p in sorted(presets.items(), key=lambda item: item[0].casefold())
        },
    }
    try:
        write_atomically(path, json.dumps(payload, indent=2, ensure_ascii=False))
    except OSError as exc:
        raise HearthError(f"The presets could not be saved to {path} ({exc.strerror}).") from None


class Presets:
    """The presets file under a data home. Every call reads the file afresh, so two
    processes (the desktop and the command line) see each other's changes."""

    def __init__(self, data_home: Path) -> None:
        self.path = data_home / PRESETS_FILE

    def all(self) -> list[Preset]:
        """Every preset, by name (HearthError when the file is damaged)."""
        return sorted(load_presets(self.path).values(), key=lambda p: p.name.casefold())

    def get(self, name: str) -> Preset | None:
        return load_presets(self.path).get(name)

    def add(
        self,
        name: str,
        *,
        system_prompt: str = "",
        overrides: Mapping[str, object] | None = None,
        stop: Sequence[str] = (),
    ) -> Preset:
        """Save (or replace) a preset under ``name`` (stripped); the overrides are checked
        like a chat's own."""
        name = name.strip()
        if not name:
            raise HearthError("Give the preset a name first.")
        preset = Preset(name, system_prompt, chat_params({}, overrides or {}, stop))
        found = load_presets(self.path)
        found[name] = preset
        save_presets(self.path, found)
        return preset

    def remove(self, name: str) -> bool:
        """Delete the preset ``name``; False when there is none by that name."""
        found = load_presets(self.path)
        if found.pop(name, None) is None:
            return False
        save_presets(self.path, found)
        return True
