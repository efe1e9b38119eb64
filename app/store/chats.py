"""The chats and messages tables: conversations as trees of messages, streamed text
saved as it arrives, and full-text search over every chat."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, cast

from sqlite_utils import Database

from app.chat.titles import DEFAULT_TITLE, title_for
from app.errors import NotFoundError, StoreError
from app.store.db import StoreBase, fts_query, locked
from app.store.records import ROLES, Chat, Message, MessageStats, MessageStatus, Role, SearchHit

_STAT_FIELDS = ("prompt_tokens", "completion_tokens", "ttft_ms", "tokens_per_second", "stop_reason")


class ChatStore(StoreBase):
    """Chats, their message trees (edits and regenerations are branches) and chat search."""

    def __init__(self, db: Database, path: Path) -> None:
        super().__init__(db, path)
        self._auto_title_column: bool | None = None

    @locked
    def create_chat(
        self,
        title: str | None = None,
        *,
        auto_title: bool | None = None,
        model: str | None = None,
        system_prompt: str = "",
        params: dict[str, Any] | None = None,
    ) -> Chat:
        now = time.time()
        chat_id = (
            self.db.table("chats")
            .insert(
                {
                    "title": (title or "").strip() or DEFAULT_TITLE,
                    "created_at": now,
                    "updated_at": now,
                    "model": model,
                    "system_prompt": system_prompt,
                    "params": json.dumps(params or {}),
                }
            )
            .last_pk
        )
        if self._has_auto_title():  # not in a database kept at an older schema (tests)
            # Without a title of its own, the chat is named by its first message.
            auto = not title if auto_title is None else auto_title
            self.db.execute("UPDATE chats SET auto_title = ? WHERE id = ?", [int(auto), chat_id])
        return self.get_chat(cast(int, chat_id))

    def _has_auto_title(self) -> bool:
        if self._auto_title_column is None:
            self._auto_title_column = "auto_title" in self.db.table("chats").columns_dict
        return self._auto_title_column

    @locked
    def get_chat(self, chat_id: int) -> Chat:
        row = self._one("SELECT * FROM chats WHERE id = ?", [chat_id])
        if row is None:
            raise NotFoundError(f"There is no chat with id {chat_id}")
        return self._chat(row)

    @locked
    def list_chats(self, limit: int | None = None) -> list[Chat]:
        """Chats, most recently active first."""
        sql = "SELECT * FROM chats ORDER BY updated_at DESC, id DESC"
        params: list[Any] = []
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [self._chat(r) for r in self._all(sql, params)]

    @locked
    def update_chat(
        self,
        chat_id: int,
        *,
        title: str | None = None,
        model: str | None = None,
        system_prompt: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Chat:
        self.get_chat(chat_id)
        changes: dict[str, Any] = {"updated_at": time.time()}
        if title is not None:
            if not title.strip():
                raise StoreError("A chat's title cannot be empty")
            changes["title"] = title.strip()
            if self._has_auto_title():
                changes["auto_title"] = 0  # the user's own title is never replaced
        if model is not None:
            changes["model"] = model
        if system_prompt is not None:
            changes["system_prompt"] = system_prompt
        if params is not None:
            changes["params"] = json.dumps(params)
        self.db.table("chats").update(chat_id, changes)
        return self.get_chat(chat_id)

    def rename_chat(self, chat_id: int, title: str) -> Chat:
        return self.update_chat(chat_id, title=title)

    @locked
    def title_from_message(self, chat_id: int, text: str) -> Chat | None:
        """Name a chat whose title is still automatic after ``text`` (its first message);
        the updated chat, or None when its title is the user's (or already set)."""
        title = title_for(text)
        if title == DEFAULT_TITLE:
            return None
        cursor = self.db.execute(
            "UPDATE chats SET title = ?, auto_title = 0 WHERE id = ? AND auto_title = 1",
            [title, chat_id],
        )
        return self.get_chat(chat_id) if cursor.rowcount else None

    @locked
    def delete_chat(self, chat_id: int) -> None:
        self.get_chat(chat_id)
        with self._atomic():
            self.db.execute("UPDATE chats SET current_leaf_id = NULL WHERE id = ?", [chat_id])
            self.db.execute("DELETE FROM chats WHERE id = ?", [chat_id])

    def _chat(self, row: dict[str, Any]) -> Chat:
        params = json.loads(row["params"])
        return Chat(**{**row, "params": params, "auto_title": bool(row.get("auto_title", 0))})

    # --------------------------------------------------------------- messages
    @locked
    def add_message(
        self,
        chat_id: int,
        role: Role,
        content: str = "",
        *,
        parent_id: int | None,
        status: MessageStatus = "done",
        model: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Message:
        """Add a message under ``parent_id`` (None: a new root) and make it the chat's current leaf.

        A second child of the same parent is a new branch (an edit or a regeneration).
        """
        if role not in ROLES:
            raise StoreError(f"Unknown message role {role!r}")
        self.get_chat(chat_id)
        if parent_id is not None and self.get_message(parent_id).chat_id != chat_id:
            raise StoreError(f"Message {parent_id} belongs to another chat")
        now = time.time()
        with self._atomic():
            message_id = (
                self.db.table("messages")
                .insert(
                    {
                        "chat_id": chat_id,
                        "parent_id": parent_id,
                        "role": role,
                        "content": content,
                        "status": status,
                        "model": model,
                        "created_at": now,
                        "meta": json.dumps(meta or {}),
                    }
                )
                .last_pk
            )
            self.db.execute(
                "UPDATE chats SET current_leaf_id = ?, updated_at = ? WHERE id = ?",
                [message_id, now, chat_id],
            )
        if status == "streaming":  # a live answer: another Hearth must not call it a crash's
            self.hold(f"answer-{message_id}")
        return self.get_message(cast(int, message_id))

    def append_message(self, chat_id: int, role: Role, content: str = "", **kwargs: Any) -> Message:
        """Add a message after the chat's current leaf (the visible end of the conversation)."""
        return self.add_message(
            chat_id, role, content, parent_id=self.get_chat(chat_id).current_leaf_id, **kwargs
        )

    @locked
    def append_text(self, message_id: int, text: str = "", reasoning: str = "") -> None:
        """Append streamed text to a message: one small transaction per call."""
        cursor = self.db.execute(
            "UPDATE messages SET content = content || ?, reasoning = reasoning || ? WHERE id = ?",
            [text, reasoning, message_id],
        )
        if cursor.rowcount == 0:
            raise NotFoundError(f"There is no message with id {message_id}")

    @locked
    def finish_message(
        self,
        message_id: int,
        *,
        status: MessageStatus = "done",
        stats: MessageStats | None = None,
        error: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Message:
        """Record how a message ended (done, stopped, error) with the engine's numbers."""
        current = self.get_message(message_id)
        stats = stats or current.stats
        merged_meta = {**current.meta, **(meta or {})}
        self.db.table("messages").update(
            message_id,
            {
                "status": status,
                "error": error,
                "prompt_tokens": stats.prompt_tokens,
                "completion_tokens": stats.completion_tokens,
                "ttft_ms": stats.ttft_ms,
                "tokens_per_second": stats.tokens_per_second,
                "stop_reason": stats.stop_reason,
                "meta": json.dumps(merged_meta),
            },
        )
        self.let_go(f"answer-{message_id}")
        return self.get_message(message_id)

    @locked
    def get_message(self, message_id: int) -> Message:
        row = self._one("SELECT * FROM messages WHERE id = ?", [message_id])
        if row is None:
            raise NotFoundError(f"There is no message with id {message_id}")
        return self._message(row)

    @locked
    def thread(self, chat_id: int, leaf_id: int | None = None) -> list[Message]:
        """The conversation from the root down to ``leaf_id`` (default: the current leaf)."""
        if leaf_id is None:
            leaf_id = self.get_chat(chat_id).current_leaf_id
            if leaf_id is None:
                return []
        rows = self._all(
            """WITH RECURSIVE path(id, depth) AS (
                   SELECT id, 0 FROM messages WHERE id = ? AND chat_id = ?
                   UNION ALL
                   SELECT m.parent_id, p.depth + 1 FROM messages m JOIN path p ON m.id = p.id
                   WHERE m.parent_id IS NOT NULL
               )
               SELECT m.* FROM path JOIN messages m ON m.id = path.id ORDER BY path.depth DESC""",
            [leaf_id, chat_id],
        )
        if not rows:
            raise NotFoundError(f"Chat {chat_id} has no message with id {leaf_id}")
        return [self._message(r) for r in rows]

    @locked
    def children(self, message_id: int) -> list[Message]:
        rows = self._all("SELECT * FROM messages WHERE parent_id = ? ORDER BY id", [message_id])
        return [self._message(r) for r in rows]

    @locked
    def siblings(self, message_id: int) -> list[Message]:
        """The alternatives at this point of the tree (itself included), oldest first."""
        message = self.get_message(message_id)
        if message.parent_id is None:
            rows = self._all(
                "SELECT * FROM messages WHERE chat_id = ? AND parent_id IS NULL ORDER BY id",
                [message.chat_id],
            )
        else:
            rows = self._all(
                "SELECT * FROM messages WHERE parent_id = ? ORDER BY id", [message.parent_id]
            )
        return [self._message(r) for r in rows]

    @locked
    def select_branch(self, message_id: int) -> list[Message]:
        """Show the branch through ``message_id``: follow its newest children to a leaf.

        Returns the new visible thread.
        """
        message = self.get_message(message_id)
        leaf = message
        while True:
            kids = self.children(leaf.id)
            if not kids:
                break
            leaf = kids[-1]
        self.db.execute(
            "UPDATE chats SET current_leaf_id = ? WHERE id = ?", [leaf.id, message.chat_id]
        )
        return self.thread(message.chat_id, leaf.id)

    @locked
    def all_messages(self, chat_id: int) -> list[Message]:
        """Every message of every branch, oldest first."""
        rows = self._all("SELECT * FROM messages WHERE chat_id = ? ORDER BY id", [chat_id])
        return [self._message(r) for r in rows]

    @locked
    def recover_interrupted(self) -> int:
        """Answers left 'streaming' by a crash become 'stopped' (their text is kept).

        An answer another Hearth is still writing (the command line, or another window on
        this data home) holds its lock and is left alone.
        """
        rows = self.db.execute("SELECT id FROM messages WHERE status = 'streaming'").fetchall()
        recovered = 0
        for (message_id,) in rows:
            name = f"answer-{message_id}"
            if name in self._held or self.in_progress_elsewhere(name):
                continue
            cursor = self.db.execute(
                "UPDATE messages SET status = 'stopped', stop_reason = 'interrupted' "
                "WHERE id = ? AND status = 'streaming'",
                [message_id],
            )
            recovered += cursor.rowcount
            (self.locks_dir / f"{name}.lock").unlink(missing_ok=True)
        return recovered

    @locked
    def delete_message(self, message_id: int) -> None:
        """Delete a message and everything that branches from it; the chat then shows the
        nearest remaining branch."""
        message = self.get_message(message_id)
        with self._atomic():
            self.db.execute("DELETE FROM messages WHERE id = ?", [message_id])
        if self.get_chat(message.chat_id).current_leaf_id is not None:
            return
        if message.parent_id is not None:
            self.select_branch(message.parent_id)
            return
        roots = self._all(
            "SELECT id FROM messages WHERE chat_id = ? AND parent_id IS NULL ORDER BY id DESC",
            [message.chat_id],
        )
        if roots:
            self.select_branch(int(roots[0]["id"]))

    @locked
    def message_count(self, chat_id: int) -> int:
        row = self.db.execute("SELECT count(*) FROM messages WHERE chat_id = ?", [chat_id])
        return int(row.fetchone()[0])

    @locked
    def search_messages(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Full-text search over every chat's messages, best matches first."""
        match = fts_query(query)
        if not match:
            return []
        rows = self.db.execute(
            """SELECT m.chat_id, c.title, m.id, m.role,
                      snippet(messages_fts, 0, '[', ']', '…', 12)
               FROM messages_fts
               JOIN messages m ON m.id = messages_fts.rowid
               JOIN chats c ON c.id = m.chat_id
               WHERE messages_fts MATCH ?
               ORDER BY bm25(messages_fts) LIMIT ?""",
            [match, limit],
        ).fetchall()
        return [SearchHit(*row) for row in rows]

    def _message(self, row: dict[str, Any]) -> Message:
        stats = MessageStats(**{k: row.pop(k) for k in _STAT_FIELDS})
        return Message(**{**row, "stats": stats, "meta": json.loads(row["meta"])})
