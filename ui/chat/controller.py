"""The desktop's handle on the chat list: grouped by day, new, rename, delete with undo,
search, per-chat settings and saved presets. Widgets call it and react to its signals.

Presets live in ``<data home>/presets.json`` (there is no table for them): a small,
human-readable file of named system prompts and sampling overrides.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from app.chat.runner import SAMPLING_SETTINGS, check_chat_context
from app.errors import HearthError
from app.settings import SettingValue, declaration
from app.store import Chat, SearchHit, Store

UNDO_SECONDS = 8.0
PRESETS_FILE = "presets.json"

# The chat parameters the chat settings panel owns: sampling overrides, the context
# length and stop strings. Anything else a chat's params hold is kept as it is.
OVERRIDE_SETTINGS: tuple[str, ...] = (*SAMPLING_SETTINGS, "context_length")
STOP_KEY = "stop"


# ------------------------------------------------------------------ grouping
@dataclass(frozen=True)
class ChatGroup:
    """Chats under one day heading, newest first."""

    label: str  # "Today", "Yesterday", "Previous 7 days", "Older"
    chats: tuple[Chat, ...]


GROUP_LABELS = ("Today", "Yesterday", "Previous 7 days", "Older")


def day_label(timestamp: float, today: date) -> str:
    days = (today - datetime.fromtimestamp(timestamp).date()).days
    if days <= 0:
        return "Today"
    if days == 1:
        return "Yesterday"
    if days <= 7:
        return "Previous 7 days"
    return "Older"


def group_by_day(chats: Iterable[Chat], now: datetime) -> list[ChatGroup]:
    """Chats sorted newest first under Today / Yesterday / Previous 7 days / Older
    (empty groups left out)."""
    ordered = sorted(chats, key=lambda c: (c.updated_at, c.id), reverse=True)
    buckets: dict[str, list[Chat]] = {label: [] for label in GROUP_LABELS}
    for chat in ordered:
        buckets[day_label(chat.updated_at, now.date())].append(chat)
    return [ChatGroup(label, tuple(items)) for label, items in buckets.items() if items]


# ------------------------------------------------------------------- presets
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
        "version": 1,
        "presets": {
            name: {"system_prompt": p.system_prompt, "params": p.params}
            for name, p in sorted(presets.items(), key=lambda item: item[0].casefold())
        },
    }
    partial = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        raise HearthError(f"The presets could not be saved to {path} ({exc.strerror}).") from None


def chat_params(
    existing: Mapping[str, Any], overrides: Mapping[str, object], stop: Sequence[str]
) -> dict[str, Any]:
    """A chat's new params: the panel's overrides (each checked against its declaration)
    and stop strings replace the old ones; keys the panel does not own are kept."""
    params = {k: v for k, v in existing.items() if k not in (*OVERRIDE_SETTINGS, STOP_KEY)}
    for name, value in overrides.items():
        if name not in OVERRIDE_SETTINGS:
            raise HearthError(f"{name} cannot be set per chat")
        params[name] = declaration(name).parse(value)
    kept = [s for s in stop if s]
    if kept:
        params[STOP_KEY] = kept
    return params


# ---------------------------------------------------------------- controller
class ChatsController(QObject):
    """Chats for the sidebar and the chat settings panel, through the store.

    Deleting is deferred: the chat leaves the list at once, ``undoAvailable``
    offers an undo for ``undo_seconds``; then (or when another chat is deleted,
    or the app quits) it is really deleted.
    """

    chatsChanged = Signal(list)  # list[ChatGroup]
    chatCreated = Signal(int)
    searchResults = Signal(list)  # list[SearchHit]
    undoAvailable = Signal(str)  # what can be undone, in words
    undoClosed = Signal()  # the undo offer is over (undone or committed)
    chatSettingsChanged = Signal(int)
    chatTitleChanged = Signal(int, str)  # renamed by the user, or named by its first message
    chatRestored = Signal(int)  # a delete was undone: the chat is back
    presetsChanged = Signal(list)  # list[Preset]
    failed = Signal(str)

    def __init__(
        self,
        store: Store,
        data_home: Path,
        *,
        undo_seconds: float = UNDO_SECONDS,
        now: Callable[[], datetime] = datetime.now,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._now = now
        self.presets_path = data_home / PRESETS_FILE
        self._pending: Chat | None = None
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.setInterval(round(undo_seconds * 1000))
        self._undo_timer.timeout.connect(self.commit_pending_delete)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ list
    def groups(self) -> list[ChatGroup]:
        hidden = self.pending_delete_id
        return group_by_day((c for c in self._store.list_chats() if c.id != hidden), self._now())

    def refresh(self) -> None:
        self.chatsChanged.emit(self.groups())

    def chat(self, chat_id: int) -> Chat:
        return self._store.get_chat(chat_id)

    def new_chat(self, title: str | None = None) -> int | None:
        """A new chat; without a title, its first message names it."""
        try:
            chat = self._store.create_chat(title)
        except HearthError as exc:
            self.failed.emit(str(exc))
            return None
        self.refresh()
        self.chatCreated.emit(chat.id)
        return chat.id

    def rename(self, chat_id: int, title: str) -> bool:
        try:
            self._store.rename_chat(chat_id, title)
        except HearthError as exc:
            self.failed.emit(str(exc))
            self.refresh()  # the list shows the old title again
            return False
        self.refresh()
        self.chatTitleChanged.emit(chat_id, self._store.get_chat(chat_id).title)
        return True

    def chat_titled(self, chat_id: int, title: str) -> None:
        """The chat took its title from its first message (reported by the engine)."""
        self.refresh()
        self.chatTitleChanged.emit(chat_id, title)

    # ------------------------------------------------------- delete and undo
    @property
    def pending_delete_id(self) -> int | None:
        return self._pending.id if self._pending is not None else None

    def delete(self, chat_id: int) -> None:
        """Hide the chat now and offer an undo; it is deleted when the offer ends."""
        if self._pending is not None:
            self.commit_pending_delete()
        try:
            chat = self._store.get_chat(chat_id)
        except HearthError as exc:
            self.failed.emit(str(exc))
            return
        self._pending = chat
        self._undo_timer.start()
        self.refresh()
        self.undoAvailable.emit(f"Deleted “{chat.title}”")

    def undo_delete(self) -> None:
        """Bring back the chat deleted last, if its undo offer is still open."""
        if self._pending is None:
            return
        self._undo_timer.stop()
        chat, self._pending = self._pending, None
        self.refresh()
        self.undoClosed.emit()
        self.chatRestored.emit(chat.id)

    def commit_pending_delete(self) -> None:
        """Really delete the chat waiting for undo (the offer ends)."""
        self._undo_timer.stop()
        chat, self._pending = self._pending, None
        if chat is None:
            return
        try:
            self._store.delete_chat(chat.id)
        except HearthError as exc:
            self.failed.emit(str(exc))
            self.refresh()
        self.undoClosed.emit()

    def shutdown(self) -> None:
        """On quit: a delete waiting for undo happens now."""
        if self._pending is not None:
            self.commit_pending_delete()

    # ---------------------------------------------------------------- search
    def search(self, text: str) -> list[SearchHit]:
        """Messages matching ``text`` (empty text: no results), emitted as ``searchResults``."""
        hits: list[SearchHit] = []
        if text.strip():
            try:
                hits = self._store.search_messages(text)
            except HearthError as exc:
                self.failed.emit(str(exc))
        hidden = self.pending_delete_id
        hits = [hit for hit in hits if hit.chat_id != hidden]
        self.searchResults.emit(hits)
        return hits

    # --------------------------------------------------------- chat settings
    def global_settings(self) -> dict[str, SettingValue]:
        """The settings' effective values: what a chat without overrides uses."""
        return self._store.all_settings()

    def save_chat_settings(
        self,
        chat_id: int,
        *,
        system_prompt: str,
        overrides: Mapping[str, object],
        stop: Sequence[str] = (),
    ) -> bool:
        """Store the chat's system prompt, overrides and stop strings (all checked first)."""
        try:
            chat = self._store.get_chat(chat_id)
            params = chat_params(chat.params, overrides, stop)
            check_chat_context(self._store, chat, params)
            self._store.update_chat(chat_id, system_prompt=system_prompt, params=params)
        except HearthError as exc:
            self.failed.emit(str(exc))
            return False
        self.chatSettingsChanged.emit(chat_id)
        self.refresh()
        return True

    # --------------------------------------------------------------- presets
    def presets(self) -> list[Preset]:
        """Saved presets by name (a damaged file is reported and reads as none)."""
        try:
            found = load_presets(self.presets_path)
        except HearthError as exc:
            self.failed.emit(str(exc))
            return []
        return sorted(found.values(), key=lambda p: p.name.casefold())

    def save_preset(
        self, name: str, *, system_prompt: str, overrides: Mapping[str, object], stop: Sequence[str]
    ) -> bool:
        """Save (or replace) a preset under ``name``."""
        name = name.strip()
        if not name:
            self.failed.emit("Give the preset a name first.")
            return False
        try:
            params = chat_params({}, overrides, stop)
            found = load_presets(self.presets_path)
            found[name] = Preset(name, system_prompt, params)
            save_presets(self.presets_path, found)
        except HearthError as exc:
            self.failed.emit(str(exc))
            return False
        self.presetsChanged.emit(self.presets())
        return True

    def delete_preset(self, name: str) -> bool:
        try:
            found = load_presets(self.presets_path)
            if found.pop(name, None) is None:
                return False
            save_presets(self.presets_path, found)
        except HearthError as exc:
            self.failed.emit(str(exc))
            return False
        self.presetsChanged.emit(self.presets())
        return True


def stop_strings_to_text(stop: Iterable[str]) -> str:
    """Stop strings one per line, with newlines and tabs written as \\n and \\t."""
    escaped = (s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t") for s in stop)
    return "\n".join(escaped)


def stop_strings_from_text(text: str) -> list[str]:
    """The reverse of ``stop_strings_to_text``; blank lines are ignored."""
    out: list[str] = []
    for line in text.splitlines():
        if not line:
            continue
        decoded: list[str] = []
        chars = iter(line)
        for ch in chars:
            if ch != "\\":
                decoded.append(ch)
                continue
            nxt = next(chars, "")
            decoded.append({"n": "\n", "t": "\t", "\\": "\\"}.get(nxt, "\\" + nxt))
        out.append("".join(decoded))
    return out
