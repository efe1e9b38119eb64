"""hearth.db's schema as forward-only migrations, applied in order on open: a copy of the
file is kept before an existing database changes shape, and one from a newer Hearth is
refused untouched."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

# sqlite3 as sqlite-utils chose it: pysqlite3 (extension loading) when installed.
from sqlite_utils.utils import sqlite3  # type: ignore[attr-defined]

from app.chat.titles import DEFAULT_TITLE, title_for
from app.errors import StoreError

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


@MIGRATIONS(name="0006_remote_endpoints")
def _m0006_remote_endpoints(db: Database) -> None:
    """OpenAI-compatible servers the user added (their keys are kept outside the
    database, see app/secrets.py)."""
    db.execute(
        """CREATE TABLE remote_endpoints (
            name TEXT PRIMARY KEY,
            base_url TEXT NOT NULL,
            added_at REAL NOT NULL
        )"""
    )


SCHEMA_NAMES: tuple[str, ...] = tuple(m.name for m in MIGRATIONS._migrations)
SCHEMA_VERSION = len(SCHEMA_NAMES)


def schema_version(db: Database) -> int:
    """How many of the known migrations this database has had (1 = first schema)."""
    return len(MIGRATIONS.applied(db))


def migrate(db: Database, path: Path, stop_before: str | None = None) -> None:
    """Bring the database at ``path`` up to date (or up to ``stop_before``, for tests)."""
    applied = [m.name for m in MIGRATIONS.applied(db)]
    unknown = [name for name in applied if name not in SCHEMA_NAMES]
    if unknown:
        raise StoreError(
            f"The database {path} was written by a newer version of Hearth "
            f"(it has schema changes this version does not know: {', '.join(unknown)}). "
            "Update Hearth, or use another data folder with --home."
        )
    pending = [m.name for m in MIGRATIONS.pending(db)]
    if stop_before in pending:
        pending = pending[: pending.index(stop_before)]
    if not pending:
        return
    if applied:
        # Keep a copy of the user's data before changing its shape.
        backup = path.with_name(f"{path.name}.before-{pending[0]}.bak")
        target = sqlite3.connect(str(backup))
        try:
            db.conn.backup(target)
        finally:
            target.close()
    MIGRATIONS.apply(db, stop_before=stop_before)
    db.execute(f"PRAGMA user_version = {schema_version(db)}")
