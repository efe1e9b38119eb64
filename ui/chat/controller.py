"""The desktop's handles on chats. ``ChatsController``: the chat list (grouped by day, new,
rename, delete with undo, search), per-chat settings and saved presets; widgets call it and
react to its signals. ``ChatController``: the chat page's one way to the store for the
open chat (its thread, branches, messages, the library's models).

Presets and the rules for a chat's parameters live in ``app.chat.presets`` and
``app.chat.params``; this module only turns their results and errors into signals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from app.chat.history import ChatGroup, group_by_day, sibling_positions
from app.chat.params import chat_params
from app.chat.presets import Preset, Presets
from app.chat.runner import check_chat_context, load_options_for
from app.engine.events import LoadOptions
from app.errors import HearthError
from app.settings import SettingValue
from app.store import Chat, Message, ModelEntry, SearchHit, SourceRecord, Store

UNDO_SECONDS = 8.0


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
        self._presets = Presets(data_home)
        self._pending: Chat | None = None
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.setInterval(round(undo_seconds * 1000))
        self._undo_timer.timeout.connect(self.commit_pending_delete)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    @property
    def presets_path(self) -> Path:
        """The presets file this controller reads and writes."""
        return self._presets.path

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
            return self._presets.all()
        except HearthError as exc:
            self.failed.emit(str(exc))
            return []

    def save_preset(
        self, name: str, *, system_prompt: str, overrides: Mapping[str, object], stop: Sequence[str]
    ) -> bool:
        """Save (or replace) a preset under ``name``."""
        try:
            self._presets.add(name, system_prompt=system_prompt, overrides=overrides, stop=stop)
        except HearthError as exc:
            self.failed.emit(str(exc))
            return False
        self.presetsChanged.emit(self.presets())
        return True

    def delete_preset(self, name: str) -> bool:
        try:
            if not self._presets.remove(name):
                return False
        except HearthError as exc:
            self.failed.emit(str(exc))
            return False
        self.presetsChanged.emit(self.presets())
        return True


# ------------------------------------------------------------ the open chat
@dataclass(frozen=True)
class ChatThread:
    """What the page shows of a chat: its active branch (root → leaf), where each message
    with alternatives stands among them, and the passages answers from documents were given."""

    messages: list[Message]
    siblings: dict[int, tuple[int, int]]  # id → (1-based position, count)
    sources: dict[int, list[SourceRecord]]  # answer id → its sources


class ChatController:
    """The chat page's one owner of store calls for the chat it shows: reading the chat and
    its thread, starting a chat, switching branches, deleting messages, the library's models
    and how to load one for the chat.

    Each call is a quick SQLite read or write and runs on the caller's (the GUI) thread;
    answers are written by the EngineController on its own. Store errors (HearthError)
    reach the caller, which says them in words.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def chat(self, chat_id: int) -> Chat:
        return self._store.get_chat(chat_id)

    def new_chat(self, title: str | None = None, *, model: str | None = None) -> Chat:
        """A new chat, named by its first message unless ``title`` says otherwise."""
        return self._store.create_chat(title, auto_title=True, model=model)

    def thread(self, chat_id: int) -> ChatThread:
        messages = self._store.thread(chat_id)
        siblings = sibling_positions(self._store.all_messages(chat_id))
        # Only answers that used documents carry sources: one small read each.
        sources = {
            m.id: self._store.message_sources(m.id)
            for m in messages
            if m.role == "assistant" and "documents_mode" in m.meta
        }
        return ChatThread(messages, siblings, sources)

    def switch_branch(self, message_id: int, step: int) -> bool:
        """Show the version ``step`` (-1 or +1) away from ``message_id`` among its siblings;
        False when there is none that way."""
        ids = [m.id for m in self._store.siblings(message_id)]
        if message_id not in ids:
            return False
        target = ids.index(message_id) + step
        if not 0 <= target < len(ids):
            return False
        self._store.select_branch(ids[target])
        return True

    def delete_message(self, message_id: int) -> None:
        """Delete a message and what branches from it (the rest of the chat stays)."""
        self._store.delete_message(message_id)

    def models(self) -> list[ModelEntry]:
        """The library's models, for the model picker."""
        return self._store.list_models()

    def model(self, model_id: int) -> ModelEntry | None:
        return next((m for m in self._store.list_models() if m.id == model_id), None)

    def load_options(self, model: ModelEntry, chat: Chat | None) -> LoadOptions:
        """How to load ``model`` for ``chat``: settings, the model's and the chat's own."""
        return load_options_for(self._store, model=model, chat=chat)
