"""The one place Hearth talks SQL: schema, migrations and every read and write of hearth.db.

Everything else calls these methods and gets dataclasses back. The database is
opened in WAL mode with foreign keys on; a ``Store`` may be shared between
threads (calls are serialised by a lock).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar, cast

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

# sqlite3 as sqlite-utils chose it: pysqlite3 (extension loading) when installed.
from sqlite_utils.utils import sqlite3  # type: ignore[attr-defined]

from app import settings as settings_decl
from app.chat.titles import DEFAULT_TITLE, title_for
from app.errors import NotFoundError, SettingError, StoreError

Role = Literal["system", "user", "assistant", "tool"]
MessageStatus = Literal["done", "streaming", "stopped", "error"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant", "tool")

_STAT_FIELDS = ("prompt_tokens", "completion_tokens", "ttft_ms", "tokens_per_second", "stop_reason")

P = ParamSpec("P")
R = TypeVar("R")

# --------------------------------------------------------------------------
# Schema: forward-only migrations, applied in order on open.
# --------------------------------------------------------------------------
MIGRATIONS = Migrations("hearth")


def _run(db: Database, *statements: str) -> None:
    for statement in statements:
        db.execute(statement)


@MIGRATIONS(name="0001_initial")
def _m0001_initial(db: Database) -> None:
    _run(
        db,
        """CREATE TABLE settings (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL,              -- JSON
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE chats (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            model TEXT,
            system_prompt TEXT NOT NULL DEFAULT '',
            params TEXT NOT NULL DEFAULT '{}',  -- JSON: per-chat sampling overrides
            current_leaf_id INTEGER REFERENCES messages(id) ON DELETE SET NULL
        )""",
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
            content TEXT NOT NULL DEFAULT '',
            reasoning TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'done'
                CHECK (status IN ('done', 'streaming', 'stopped', 'error')),
            error TEXT,
            model TEXT,
            created_at REAL NOT NULL,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            ttft_ms REAL,
            tokens_per_second REAL,
            stop_reason TEXT,
            meta TEXT NOT NULL DEFAULT '{}'     -- JSON: dropped turns, sources, ...
        )""",
        "CREATE INDEX messages_chat ON messages(chat_id)",
        "CREATE INDEX messages_parent ON messages(parent_id)",
        """CREATE TABLE models (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            size_bytes INTEGER NOT NULL,
            sha256 TEXT,
            repo_id TEXT,
            filename TEXT,
            architecture TEXT,
            parameters INTEGER,
            quantization TEXT,
            context_length INTEGER,
            chat_format TEXT,                   -- user's choice when the file has no template
            overrides TEXT NOT NULL DEFAULT '{}', -- JSON: per-model threads, gpu_layers, ...
            read_only INTEGER NOT NULL DEFAULT 0,
            added_at REAL NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}'
        )""",
        """CREATE TABLE downloads (
            id INTEGER PRIMARY KEY,
            repo_id TEXT NOT NULL,
            filename TEXT NOT NULL,
            revision TEXT NOT NULL DEFAULT 'main',
            url TEXT,
            dest_path TEXT NOT NULL,
            part_path TEXT NOT NULL,
            total_bytes INTEGER,
            downloaded_bytes INTEGER NOT NULL DEFAULT 0,
            sha256 TEXT,
            etag TEXT,
            status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN
                ('queued', 'running', 'paused', 'verifying', 'done', 'failed', 'cancelled')),
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (repo_id, revision, filename)
        )""",
        """CREATE TABLE collections (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at REAL NOT NULL
        )""",
        """CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER REFERENCES chats(id) ON DELETE CASCADE,
            collection_id INTEGER REFERENCES collections(id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            size_bytes INTEGER,
            sha256 TEXT,
            pages INTEGER,
            status TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'indexing', 'ready', 'failed')),
            error TEXT,
            progress INTEGER NOT NULL DEFAULT 0,  -- chunks stored so far (resume point)
            added_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            CHECK (chat_id IS NOT NULL OR collection_id IS NOT NULL)
        )""",
        """CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            text TEXT NOT NULL,
            page INTEGER,
            heading TEXT,
            start_char INTEGER,
            end_char INTEGER,
            embedding BLOB,
            UNIQUE (document_id, ordinal)
        )""",
    )


@MIGRATIONS(name="0002_full_text_search")
def _m0002_full_text_search(db: Database) -> None:
    """FTS5 indexes over message text (chat search) and document chunks (keyword retrieval)."""
    for table, column in (("messages", "content"), ("chunks", "text")):
        fts = f"{table}_fts"
        _run(
            db,
            f"""CREATE VIRTUAL TABLE {fts} USING fts5(
                {column}, content='{table}', content_rowid='id',
                tokenize='porter unicode61 remove_diacritics 2')""",
            f"""CREATE TRIGGER {table}_fts_insert AFTER INSERT ON {table} BEGIN
                INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});
            END""",
            f"""CREATE TRIGGER {table}_fts_delete AFTER DELETE ON {table} BEGIN
                INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});
            END""",
            f"""CREATE TRIGGER {table}_fts_update AFTER UPDATE OF {column} ON {table} BEGIN
                INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});
                INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});
            END""",
            # Index whatever rows an older database already holds.
            f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
        )


@MIGRATIONS(name="0003_library_folders_and_hub_cache")
def _m0003_library_folders_and_hub_cache(db: Database) -> None:
    """Extra read-only model folders, and hub answers kept for offline browsing."""
    _run(
        db,
        """CREATE TABLE model_folders (
            path TEXT PRIMARY KEY,
            added_at REAL NOT NULL
        )""",
        """CREATE TABLE hub_cache (
            key TEXT PRIMARY KEY,
            payload TEXT NOT NULL,            -- JSON
            fetched_at REAL NOT NULL
        )""",
    )


@MIGRATIONS(name="0004_document_sources_and_collections")
def _m0004_document_sources_and_collections(db: Database) -> None:
    """Collections attached to chats, the passages each answer was given, and which
    embedding model a document's vectors came from."""
    _run(
        db,
        """CREATE TABLE chat_collections (
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
            PRIMARY KEY (chat_id, collection_id)
        )""",
        """CREATE TABLE message_sources (
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,          -- the [n] the prompt and the answer use
            chunk_id INTEGER REFERENCES chunks(id) ON DELETE SET NULL,
            document_id INTEGER REFERENCES documents(id) ON DELETE SET NULL,
            name TEXT NOT NULL,
            path TEXT NOT NULL,
            page INTEGER,
            heading TEXT,
            text TEXT NOT NULL,               -- a copy: the answer keeps its sources
            score REAL,
            PRIMARY KEY (message_id, number)
        )""",
        "ALTER TABLE documents ADD COLUMN embedding_model TEXT",
        "CREATE INDEX documents_chat ON documents(chat_id)",
        "CREATE INDEX documents_collection ON documents(collection_id)",
        # Keyword search also sees where a passage sits (file name, heading path): a
        # question says "my dishwasher" where the passage only says "the filter".
        "ALTER TABLE chunks ADD COLUMN context TEXT",
        "DROP TRIGGER chunks_fts_insert",
        "DROP TRIGGER chunks_fts_delete",
        "DROP TRIGGER chunks_fts_update",
        "DROP TABLE chunks_fts",
        """CREATE VIRTUAL TABLE chunks_fts USING fts5(
            text, context, content='chunks', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2')""",
        """CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
            INSERT INTO chunks_fts(rowid, text, context) VALUES (new.id, new.text, new.context);
        END""",
        """CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
            INSERT INTO chunks_fts(chunks_fts, rowid, text, context)
            VALUES ('delete', old.id, old.text, old.context);
        END""",
        """CREATE TRIGGER chunks_fts_update AFTER UPDATE OF text, context ON chunks BEGIN
            INSERT INTO chunks_fts(chunks_fts, rowid, text, context)
            VALUES ('delete', old.id, old.text, old.context);
            INSERT INTO chunks_fts(rowid, text, context) VALUES (new.id, new.text, new.context);
        END""",
        "INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')",
    )


@MIGRATIONS(name="0005_chat_auto_titles")
def _m0005_chat_auto_titles(db: Database) -> None:
    """Chats remember whether their title is still the automatic one (retitled from the
    first message) or the user's own; untitled chats that already have messages are
    titled now."""
    db.execute("ALTER TABLE chats ADD COLUMN auto_title INTEGER NOT NULL DEFAULT 0")
    untitled = db.execute("SELECT id FROM chats WHERE title = ?", [DEFAULT_TITLE]).fetchall()
    for (chat_id,) in untitled:
        first = db.execute(
            "SELECT content FROM messages"
            " WHERE chat_id = ? AND role = 'user' AND trim(content) != '' ORDER BY id LIMIT 1",
            [chat_id],
        ).fetchone()
        if first is None:
            db.execute("UPDATE chats SET auto_title = 1 WHERE id = ?", [chat_id])
        else:
            db.execute("UPDATE chats SET title = ? WHERE id = ?", [title_for(first[0]), chat_id])


SCHEMA_NAMES: tuple[str, ...] = tuple(m.name for m in MIGRATIONS._migrations)
SCHEMA_VERSION = len(SCHEMA_NAMES)


# --------------------------------------------------------------------------
# Records handed to the rest of the app
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Chat:
    id: int
    title: str
    created_at: float
    updated_at: float
    model: str | None
    system_prompt: str
    params: dict[str, Any]
    current_leaf_id: int | None
    auto_title: bool = False  # the title is still automatic: the first message sets it


@dataclass(frozen=True)
class MessageStats:
    """What the engine measured for one answer."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_ms: float | None = None
    tokens_per_second: float | None = None
    stop_reason: str | None = None


@dataclass(frozen=True)
class Message:
    id: int
    chat_id: int
    parent_id: int | None
    role: Role
    content: str
    reasoning: str
    status: MessageStatus
    error: str | None
    model: str | None
    created_at: float
    stats: MessageStats
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchHit:
    chat_id: int
    chat_title: str
    message_id: int
    role: Role
    snippet: str


@dataclass(frozen=True)
class ModelEntry:
    id: int
    path: str
    name: str
    size_bytes: int
    sha256: str | None = None
    repo_id: str | None = None
    filename: str | None = None
    architecture: str | None = None
    parameters: int | None = None
    quantization: str | None = None
    context_length: int | None = None
    chat_format: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    read_only: bool = False
    added_at: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)


DownloadStatus = Literal["queued", "running", "paused", "verifying", "done", "failed", "cancelled"]


@dataclass(frozen=True)
class Download:
    """A file being fetched from the hub: everything needed to resume it after a restart."""

    id: int
    repo_id: str
    filename: str
    revision: str
    url: str | None
    dest_path: str
    part_path: str
    total_bytes: int | None
    downloaded_bytes: int
    sha256: str | None
    etag: str | None
    status: DownloadStatus
    error: str | None
    attempts: int
    created_at: float
    updated_at: float


DocumentStatus = Literal["queued", "indexing", "ready", "failed"]


@dataclass(frozen=True)
class Document:
    """A file added to a chat or a collection, and how far its indexing got."""

    id: int
    chat_id: int | None
    collection_id: int | None
    path: str
    name: str
    kind: str
    size_bytes: int | None
    sha256: str | None
    pages: int | None
    status: DocumentStatus
    error: str | None
    progress: int  # chunks stored so far: where an interrupted indexing run resumes
    added_at: float
    updated_at: float
    embedding_model: str | None = None


@dataclass(frozen=True)
class Chunk:
    """One passage of a document, with where it came from."""

    id: int
    document_id: int
    ordinal: int
    text: str
    page: int | None
    heading: str | None
    start_char: int | None
    end_char: int | None


@dataclass(frozen=True)
class Collection:
    id: int
    name: str
    created_at: float


@dataclass(frozen=True)
class SourceRecord:
    """A passage an answer was given, numbered as the prompt numbered it."""

    number: int
    name: str
    path: str
    text: str
    page: int | None = None
    heading: str | None = None
    chunk_id: int | None = None
    document_id: int | None = None
    score: float | None = None


# Best keyword matches looked at before a chat's scope is applied (see keyword_chunks).
_KEYWORD_POOL = 2000


def _locked(method: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        store = cast("Store", args[0])
        with store._lock:
            return method(*args, **kwargs)

    return wrapper


def _fts_query(text: str) -> str:
    """Quote each word so user input is never parsed as FTS5 syntax."""
    words = [w for w in text.split() if w.strip('"')]
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


class Store:
    """An open hearth.db. Use ``Store.open(path)``; close it when done."""

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path
        self._lock = threading.RLock()
        self._auto_title_column: bool | None = None

    # ---------------------------------------------------------------- opening
    @classmethod
    def open(cls, path: Path, *, stop_before: str | None = None) -> Store:
        """Open (creating if needed) and migrate the database at ``path``.

        ``stop_before`` leaves the schema at an older version (for tests of migrations).
        """
        try:
            conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
            db = Database(conn)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA synchronous=NORMAL")
            store = cls(db, path)
            store._migrate(stop_before)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"Cannot open the database {path}: {exc}") from exc
        return store

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self, stop_before: str | None) -> None:
        applied = [m.name for m in MIGRATIONS.applied(self.db)]
        unknown = [name for name in applied if name not in SCHEMA_NAMES]
        if unknown:
            raise StoreError(
                f"The database {self.path} was written by a newer version of Hearth "
                f"(it has schema changes this version does not know: {', '.join(unknown)}). "
                "Update Hearth, or use another data folder with --home."
            )
        pending = [m.name for m in MIGRATIONS.pending(self.db)]
        if stop_before in pending:
            pending = pending[: pending.index(stop_before)]
        if not pending:
            return
        if applied:
            # Keep a copy of the user's data before changing its shape.
            backup = self.path.with_name(f"{self.path.name}.before-{pending[0]}.bak")
            target = sqlite3.connect(str(backup))
            try:
                self.db.conn.backup(target)
            finally:
                target.close()
        MIGRATIONS.apply(self.db, stop_before=stop_before)
        self.db.execute(f"PRAGMA user_version = {self.schema_version}")

    @property
    def schema_version(self) -> int:
        """How many of the known migrations this database has had (1 = first schema)."""
        return len(MIGRATIONS.applied(self.db))

    @property
    def journal_mode(self) -> str:
        return str(self.db.execute("PRAGMA journal_mode").fetchone()[0])

    @property
    def foreign_keys(self) -> bool:
        return bool(self.db.execute("PRAGMA foreign_keys").fetchone()[0])

    def _all(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params or []))

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        rows = self._all(sql, params)
        return rows[0] if rows else None

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        with self._lock, self.db.atomic():
            yield

    # --------------------------------------------------------------- settings
    @_locked
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

    @_locked
    def stored_settings(self) -> dict[str, settings_decl.SettingValue]:
        """Only the settings the user changed."""
        rows = self.db.execute("SELECT name FROM settings").fetchall()
        return {r[0]: self.get_setting(r[0]) for r in rows if r[0] in settings_decl.BY_NAME}

    def all_settings(self) -> dict[str, settings_decl.SettingValue]:
        """Every declared setting with its effective value, in declaration order."""
        return {s.name: self.get_setting(s.name) for s in settings_decl.SETTINGS}

    @_locked
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

    @_locked
    def reset_setting(self, name: str) -> settings_decl.SettingValue:
        decl = settings_decl.declaration(name)
        self.db.execute("DELETE FROM settings WHERE name = ?", [name])
        return decl.default

    # ------------------------------------------------------------------ chats
    @_locked
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

    @_locked
    def get_chat(self, chat_id: int) -> Chat:
        row = self._one("SELECT * FROM chats WHERE id = ?", [chat_id])
        if row is None:
            raise NotFoundError(f"There is no chat with id {chat_id}")
        return self._chat(row)

    @_locked
    def list_chats(self, limit: int | None = None) -> list[Chat]:
        """Chats, most recently active first."""
        sql = "SELECT * FROM chats ORDER BY updated_at DESC, id DESC"
        params: list[Any] = []
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [self._chat(r) for r in self._all(sql, params)]

    @_locked
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

    @_locked
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

    @_locked
    def delete_chat(self, chat_id: int) -> None:
        self.get_chat(chat_id)
        with self._atomic():
            self.db.execute("UPDATE chats SET current_leaf_id = NULL WHERE id = ?", [chat_id])
            self.db.execute("DELETE FROM chats WHERE id = ?", [chat_id])

    def _chat(self, row: dict[str, Any]) -> Chat:
        params = json.loads(row["params"])
        return Chat(**{**row, "params": params, "auto_title": bool(row.get("auto_title", 0))})

    # --------------------------------------------------------------- messages
    @_locked
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
        return self.get_message(cast(int, message_id))

    def append_message(self, chat_id: int, role: Role, content: str = "", **kwargs: Any) -> Message:
        """Add a message after the chat's current leaf (the visible end of the conversation)."""
        return self.add_message(
            chat_id, role, content, parent_id=self.get_chat(chat_id).current_leaf_id, **kwargs
        )

    @_locked
    def append_text(self, message_id: int, text: str = "", reasoning: str = "") -> None:
        """Append streamed text to a message: one small transaction per call."""
        cursor = self.db.execute(
            "UPDATE messages SET content = content || ?, reasoning = reasoning || ? WHERE id = ?",
            [text, reasoning, message_id],
        )
        if cursor.rowcount == 0:
            raise NotFoundError(f"There is no message with id {message_id}")

    @_locked
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
        return self.get_message(message_id)

    @_locked
    def get_message(self, message_id: int) -> Message:
        row = self._one("SELECT * FROM messages WHERE id = ?", [message_id])
        if row is None:
            raise NotFoundError(f"There is no message with id {message_id}")
        return self._message(row)

    @_locked
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

    @_locked
    def children(self, message_id: int) -> list[Message]:
        rows = self._all("SELECT * FROM messages WHERE parent_id = ? ORDER BY id", [message_id])
        return [self._message(r) for r in rows]

    @_locked
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

    @_locked
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

    @_locked
    def all_messages(self, chat_id: int) -> list[Message]:
        """Every message of every branch, oldest first."""
        rows = self._all("SELECT * FROM messages WHERE chat_id = ? ORDER BY id", [chat_id])
        return [self._message(r) for r in rows]

    @_locked
    def recover_interrupted(self) -> int:
        """Answers left 'streaming' by a crash become 'stopped' (their text is kept)."""
        cursor = self.db.execute(
            "UPDATE messages SET status = 'stopped', stop_reason = 'interrupted' "
            "WHERE status = 'streaming'"
        )
        return int(cursor.rowcount)

    @_locked
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

    @_locked
    def message_count(self, chat_id: int) -> int:
        row = self.db.execute("SELECT count(*) FROM messages WHERE chat_id = ?", [chat_id])
        return int(row.fetchone()[0])

    @_locked
    def search_messages(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Full-text search over every chat's messages, best matches first."""
        match = _fts_query(query)
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

    # ----------------------------------------------------------------- models
    @_locked
    def add_model(self, path: str, name: str, size_bytes: int, **fields: Any) -> ModelEntry:
        """Add a model file to the library, or refresh the entry for the same path."""
        allowed = set(ModelEntry.__dataclass_fields__) - {"id", "path", "name", "size_bytes"}
        unknown = set(fields) - allowed
        if unknown:
            raise StoreError(f"Unknown model fields: {', '.join(sorted(unknown))}")
        record: dict[str, Any] = {"path": path, "name": name, "size_bytes": size_bytes}
        record.update(fields)
        for key in ("overrides", "metadata"):
            record[key] = json.dumps(record.get(key) or {})
        record["read_only"] = int(bool(record.get("read_only", False)))
        record.setdefault("added_at", time.time())
        columns = list(record)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "added_at")
        self.db.execute(
            f"INSERT INTO models({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT(path) DO UPDATE SET {updates}",
            [record[c] for c in columns],
        )
        row = self._one("SELECT * FROM models WHERE path = ?", [path])
        assert row is not None
        return self._model(row)

    @_locked
    def list_models(self) -> list[ModelEntry]:
        rows = self._all("SELECT * FROM models ORDER BY name COLLATE NOCASE")
        return [self._model(r) for r in rows]

    @_locked
    def find_model(self, name_or_path: str) -> ModelEntry:
        """A library model by its name or path."""
        row = self._one(
            "SELECT * FROM models WHERE name = ? OR path = ? ORDER BY id LIMIT 1",
            [name_or_path, name_or_path],
        )
        if row is None:
            raise NotFoundError(f"There is no model called {name_or_path!r} in the library")
        return self._model(row)

    @_locked
    def configure_model(
        self, model_id: int, *, overrides: dict[str, Any], chat_format: str | None
    ) -> ModelEntry:
        """Set a model's own load settings (threads, gpu_layers, context_length) and chat format."""
        self.db.table("models").update(
            model_id, {"overrides": json.dumps(overrides), "chat_format": chat_format}
        )
        row = self._one("SELECT * FROM models WHERE id = ?", [model_id])
        if row is None:
            raise NotFoundError(f"There is no model with id {model_id}")
        return self._model(row)

    @_locked
    def remove_model(self, model_id: int) -> None:
        if self.db.execute("DELETE FROM models WHERE id = ?", [model_id]).rowcount == 0:
            raise NotFoundError(f"There is no model with id {model_id}")

    def _model(self, row: dict[str, Any]) -> ModelEntry:
        return ModelEntry(
            **{
                **row,
                "overrides": json.loads(row["overrides"]),
                "metadata": json.loads(row["metadata"]),
                "read_only": bool(row["read_only"]),
            }
        )

    # --------------------------------------------------------- model folders
    @_locked
    def add_model_folder(self, path: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO model_folders(path, added_at) VALUES (?, ?)", [path, time.time()]
        )

    @_locked
    def list_model_folders(self) -> list[str]:
        return [r["path"] for r in self._all("SELECT path FROM model_folders ORDER BY added_at")]

    @_locked
    def remove_model_folder(self, path: str) -> None:
        if self.db.execute("DELETE FROM model_folders WHERE path = ?", [path]).rowcount == 0:
            raise NotFoundError(f"{path} is not one of the library's extra folders")

    # -------------------------------------------------------------- hub cache
    @_locked
    def cache_put(self, key: str, payload: Any) -> None:
        self.db.execute(
            """INSERT INTO hub_cache(key, payload, fetched_at) VALUES (?, ?, ?)
               ON CONFLICT(key) DO UPDATE SET payload = excluded.payload,
                                              fetched_at = excluded.fetched_at""",
            [key, json.dumps(payload), time.time()],
        )

    @_locked
    def cache_get(self, key: str) -> tuple[Any, float] | None:
        """The cached payload and when it was fetched (epoch seconds), or None."""
        row = self._one("SELECT payload, fetched_at FROM hub_cache WHERE key = ?", [key])
        return (json.loads(row["payload"]), float(row["fetched_at"])) if row else None

    # -------------------------------------------------------------- downloads
    @_locked
    def upsert_download(
        self,
        repo_id: str,
        filename: str,
        revision: str,
        dest_path: str,
        part_path: str,
        **fields: Any,
    ) -> Download:
        """The download of this file at this revision: created if new, else its fields updated."""
        existing = self._one(
            "SELECT id FROM downloads WHERE repo_id = ? AND revision = ? AND filename = ?",
            [repo_id, revision, filename],
        )
        now = time.time()
        if existing is None:
            record = {
                "repo_id": repo_id, "filename": filename, "revision": revision,
                "dest_path": dest_path, "part_path": part_path, "created_at": now,
                "updated_at": now, **fields,
            }  # fmt: skip
            download_id = cast(int, self.db.table("downloads").insert(record).last_pk)
        else:
            download_id = int(existing["id"])
            self.update_download(download_id, dest_path=dest_path, part_path=part_path, **fields)
        return self.get_download(download_id)

    @_locked
    def update_download(self, download_id: int, **fields: Any) -> Download:
        unknown = set(fields) - set(Download.__dataclass_fields__)
        if unknown or "id" in fields:
            raise StoreError(f"Unknown download fields: {', '.join(sorted(unknown))}")
        self.get_download(download_id)
        self.db.table("downloads").update(download_id, {**fields, "updated_at": time.time()})
        return self.get_download(download_id)

    @_locked
    def get_download(self, download_id: int) -> Download:
        row = self._one("SELECT * FROM downloads WHERE id = ?", [download_id])
        if row is None:
            raise NotFoundError(f"There is no download with id {download_id}")
        return Download(**row)

    @_locked
    def find_download(self, repo_id: str, filename: str, revision: str = "main") -> Download | None:
        row = self._one(
            "SELECT * FROM downloads WHERE repo_id = ? AND revision = ? AND filename = ?",
            [repo_id, revision, filename],
        )
        return Download(**row) if row else None

    @_locked
    def list_downloads(self, *statuses: DownloadStatus) -> list[Download]:
        sql = "SELECT * FROM downloads"
        params: list[Any] = list(statuses)
        if statuses:
            sql += f" WHERE status IN ({', '.join('?' * len(statuses))})"
        return [Download(**r) for r in self._all(sql + " ORDER BY id", params)]

    @_locked
    def delete_download(self, download_id: int) -> None:
        self.db.execute("DELETE FROM downloads WHERE id = ?", [download_id])

    # -------------------------------------------------------------- documents
    @_locked
    def add_document(
        self,
        path: str,
        name: str,
        kind: str,
        *,
        chat_id: int | None = None,
        collection_id: int | None = None,
        **fields: Any,
    ) -> Document:
        if (chat_id is None) == (collection_id is None):
            raise StoreError("A document belongs to exactly one chat or one collection")
        now = time.time()
        record = {
            "path": path, "name": name, "kind": kind, "chat_id": chat_id,
            "collection_id": collection_id, "added_at": now, "updated_at": now, **fields,
        }  # fmt: skip
        document_id = cast(int, self.db.table("documents").insert(record).last_pk)
        return self.get_document(document_id)

    @_locked
    def get_document(self, document_id: int) -> Document:
        row = self._one("SELECT * FROM documents WHERE id = ?", [document_id])
        if row is None:
            raise NotFoundError(f"There is no document with id {document_id}")
        return Document(**row)

    @_locked
    def find_document(
        self, path: str, *, chat_id: int | None = None, collection_id: int | None = None
    ) -> Document | None:
        row = self._one(
            "SELECT * FROM documents WHERE path = ? AND chat_id IS ? AND collection_id IS ?",
            [path, chat_id, collection_id],
        )
        return Document(**row) if row else None

    @_locked
    def list_documents(
        self,
        *,
        chat_id: int | None = None,
        collection_id: int | None = None,
        statuses: tuple[DocumentStatus, ...] = (),
    ) -> list[Document]:
        """Documents of one chat (its own only), of one collection, or all of them."""
        clauses: list[str] = []
        params: list[Any] = []
        if chat_id is not None:
            clauses.append("chat_id = ?")
            params.append(chat_id)
        if collection_id is not None:
            clauses.append("collection_id = ?")
            params.append(collection_id)
        if statuses:
            clauses.append(f"status IN ({', '.join('?' * len(statuses))})")
            params += statuses
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._all(f"SELECT * FROM documents{where} ORDER BY id", params)
        return [Document(**r) for r in rows]

    @_locked
    def chat_documents(self, chat_id: int) -> list[Document]:
        """What a chat can draw on: its own documents and those of attached collections."""
        rows = self._all(
            """SELECT * FROM documents WHERE chat_id = ?
               OR collection_id IN (SELECT collection_id FROM chat_collections WHERE chat_id = ?)
               ORDER BY id""",
            [chat_id, chat_id],
        )
        return [Document(**r) for r in rows]

    @_locked
    def update_document(self, document_id: int, **fields: Any) -> Document:
        unknown = set(fields) - set(Document.__dataclass_fields__)
        if unknown or "id" in fields:
            raise StoreError(f"Unknown document fields: {', '.join(sorted(unknown))}")
        self.get_document(document_id)
        self.db.table("documents").update(document_id, {**fields, "updated_at": time.time()})
        return self.get_document(document_id)

    @_locked
    def restart_document(self, document_id: int, **fields: Any) -> Document:
        """Forget a document's passages so it is indexed again from the start."""
        with self._atomic():
            self.db.execute("DELETE FROM chunks WHERE document_id = ?", [document_id])
            return self.update_document(
                document_id, status="queued", error=None, progress=0, embedding_model=None,
                **fields,
            )  # fmt: skip

    @_locked
    def delete_document(self, document_id: int) -> None:
        with self._atomic():
            self.db.execute("DELETE FROM documents WHERE id = ?", [document_id])

    @_locked
    def add_chunks(self, document_id: int, chunks: list[dict[str, Any]], *, progress: int) -> None:
        """Store passages and the new resume point in one transaction (an interrupted run
        never leaves passages stored beyond its recorded progress)."""
        with self._atomic():
            self.db.table("chunks").insert_all(
                [{"document_id": document_id, **c} for c in chunks], replace=True
            )
            self.db.execute(
                "UPDATE documents SET progress = ?, updated_at = ? WHERE id = ?",
                [progress, time.time(), document_id],
            )

    @_locked
    def drop_chunks_from(self, document_id: int, ordinal: int) -> None:
        """Remove passages at or after ``ordinal`` (left over past the recorded progress)."""
        self.db.execute(
            "DELETE FROM chunks WHERE document_id = ? AND ordinal >= ?", [document_id, ordinal]
        )

    @_locked
    def document_chunks(self, document_id: int) -> list[Chunk]:
        rows = self._all(
            "SELECT id, document_id, ordinal, text, page, heading, start_char, end_char "
            "FROM chunks WHERE document_id = ? ORDER BY ordinal",
            [document_id],
        )
        return [Chunk(**r) for r in rows]

    @_locked
    def chunk_count(self, document_ids: list[int]) -> int:
        if not document_ids:
            return 0
        marks = ", ".join("?" * len(document_ids))
        row = self.db.execute(
            f"SELECT count(*) FROM chunks WHERE document_id IN ({marks})", document_ids
        ).fetchone()
        return int(row[0])

    @_locked
    def chunk_chars(self, document_ids: list[int]) -> int:
        """Characters in all passages of these documents (overlaps counted twice)."""
        if not document_ids:
            return 0
        marks = ", ".join("?" * len(document_ids))
        row = self.db.execute(
            f"SELECT coalesce(sum(length(text)), 0) FROM chunks WHERE document_id IN ({marks})",
            document_ids,
        ).fetchone()
        return int(row[0])

    @_locked
    def get_chunks(self, chunk_ids: list[int]) -> list[Chunk]:
        """Passages by id, in the order asked for (missing ones left out)."""
        if not chunk_ids:
            return []
        marks = ", ".join("?" * len(chunk_ids))
        rows = self._all(
            "SELECT id, document_id, ordinal, text, page, heading, start_char, end_char "
            f"FROM chunks WHERE id IN ({marks})",
            list(chunk_ids),
        )
        by_id = {int(r["id"]): Chunk(**r) for r in rows}
        return [by_id[i] for i in chunk_ids if i in by_id]

    @_locked
    def keyword_chunks(
        self, match: str, document_ids: list[int] | None, limit: int, context_weight: float = 1.0
    ) -> list[tuple[int, float]]:
        """(chunk id, BM25 score: lower is better) for an FTS5 ``match`` expression; words in a
        passage's context (file name, headings) count ``context_weight`` as much as its text."""
        if not match or document_ids == []:
            return []
        if context_weight <= 0:  # the passage text alone
            match = f"text : ({match})"
        ranked = (
            "SELECT rowid, bm25(chunks_fts, 1.0, ?) AS score FROM chunks_fts "
            "WHERE chunks_fts MATCH ? ORDER BY score"
        )
        if document_ids is None:
            found = self.db.execute(ranked + " LIMIT ?", [context_weight, match, limit])
            return [(int(r[0]), float(r[1])) for r in found.fetchall()]
        # Rank first, then keep the passages in scope: looking up the document of every
        # match costs more than the ranking on a large index. A small scope in a large
        # index may keep too few of the best ones; then every match is looked up.
        marks = ", ".join("?" * len(document_ids))
        rows: list[Any] = []
        for pool in (_KEYWORD_POOL, None):
            inner = ranked + (f" LIMIT {pool}" if pool else "")
            rows = self.db.execute(
                f"SELECT r.rowid, r.score FROM ({inner}) r JOIN chunks c ON c.id = r.rowid "
                f"WHERE c.document_id IN ({marks}) ORDER BY r.score LIMIT ?",
                [context_weight, match, *document_ids, limit],
            ).fetchall()
            if len(rows) >= limit or pool is None:
                break
        return [(int(r[0]), float(r[1])) for r in rows]

    @_locked
    def passage_frequencies(self, terms: list[str]) -> tuple[int, list[int]]:
        """(passages in all, passages matching each FTS5 term) over every document."""
        total = int(self.db.execute("SELECT count(*) FROM chunks").fetchone()[0])
        counts = [
            int(
                self.db.execute(
                    "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", [term]
                ).fetchone()[0]
            )
            for term in terms
        ]
        return total, counts

    @_locked
    def chunks_without_embedding(self, document_id: int, limit: int) -> list[Chunk]:
        rows = self._all(
            "SELECT id, document_id, ordinal, text, page, heading, start_char, end_char "
            "FROM chunks WHERE document_id = ? AND embedding IS NULL ORDER BY ordinal LIMIT ?",
            [document_id, limit],
        )
        return [Chunk(**r) for r in rows]

    @_locked
    def set_embeddings(self, vectors: list[tuple[int, bytes]]) -> None:
        with self._atomic():
            self.db.conn.executemany(
                "UPDATE chunks SET embedding = ? WHERE id = ?", [(v, i) for i, v in vectors]
            )

    @_locked
    def clear_embeddings(self, document_id: int) -> None:
        with self._atomic():
            self.db.execute(
                "UPDATE chunks SET embedding = NULL WHERE document_id = ?", [document_id]
            )
            self.update_document(document_id, embedding_model=None)

    @_locked
    def chunk_embeddings(self, document_ids: list[int]) -> list[tuple[int, bytes]]:
        """(chunk id, vector bytes) for every embedded passage of these documents."""
        if not document_ids:
            return []
        marks = ", ".join("?" * len(document_ids))
        rows = self.db.execute(
            f"SELECT id, embedding FROM chunks WHERE document_id IN ({marks}) "
            "AND embedding IS NOT NULL ORDER BY id",
            document_ids,
        ).fetchall()
        return [(int(r[0]), bytes(r[1])) for r in rows]

    # ------------------------------------------------------------ collections
    @_locked
    def create_collection(self, name: str) -> Collection:
        name = name.strip()
        if not name:
            raise StoreError("A collection needs a name")
        existing = self.find_collection(name)
        if existing is not None:
            return existing
        pk = self.db.table("collections").insert({"name": name, "created_at": time.time()}).last_pk
        return self.get_collection(cast(int, pk))

    @_locked
    def get_collection(self, collection_id: int) -> Collection:
        row = self._one("SELECT * FROM collections WHERE id = ?", [collection_id])
        if row is None:
            raise NotFoundError(f"There is no collection with id {collection_id}")
        return Collection(**row)

    @_locked
    def find_collection(self, name: str) -> Collection | None:
        row = self._one("SELECT * FROM collections WHERE name = ?", [name.strip()])
        return Collection(**row) if row else None

    @_locked
    def list_collections(self) -> list[Collection]:
        return [Collection(**r) for r in self._all("SELECT * FROM collections ORDER BY name")]

    @_locked
    def delete_collection(self, collection_id: int) -> None:
        with self._atomic():
            self.db.execute("DELETE FROM collections WHERE id = ?", [collection_id])

    @_locked
    def attach_collection(self, chat_id: int, collection_id: int) -> None:
        self.get_chat(chat_id)
        self.get_collection(collection_id)
        self.db.execute(
            "INSERT OR IGNORE INTO chat_collections(chat_id, collection_id) VALUES (?, ?)",
            [chat_id, collection_id],
        )

    @_locked
    def detach_collection(self, chat_id: int, collection_id: int) -> None:
        self.db.execute(
            "DELETE FROM chat_collections WHERE chat_id = ? AND collection_id = ?",
            [chat_id, collection_id],
        )

    @_locked
    def chat_collections(self, chat_id: int) -> list[Collection]:
        rows = self._all(
            "SELECT c.* FROM collections c JOIN chat_collections cc ON cc.collection_id = c.id "
            "WHERE cc.chat_id = ? ORDER BY c.name",
            [chat_id],
        )
        return [Collection(**r) for r in rows]

    # -------------------------------------------------------- answer sources
    @_locked
    def save_sources(self, message_id: int, sources: list[SourceRecord]) -> None:
        """The passages an answer was given (replacing any saved before)."""
        with self._atomic():
            self.db.execute("DELETE FROM message_sources WHERE message_id = ?", [message_id])
            self.db.table("message_sources").insert_all(
                [{"message_id": message_id, **dataclasses.asdict(s)} for s in sources]
            )

    @_locked
    def message_sources(self, message_id: int) -> list[SourceRecord]:
        rows = self._all(
            "SELECT number, name, path, text, page, heading, chunk_id, document_id, score "
            "FROM message_sources WHERE message_id = ? ORDER BY number",
            [message_id],
        )
        return [SourceRecord(**r) for r in rows]
