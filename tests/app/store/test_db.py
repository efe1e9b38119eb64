"""Opening hearth.db: WAL and foreign keys, a clear error for a file that is not a
database, one store shared between threads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from app.errors import StoreError
from app.store import SCHEMA_VERSION, Store


def test_new_database_is_wal_with_foreign_keys_at_latest_schema(tmp_path: Path) -> None:
    with Store.open(tmp_path / "hearth.db") as store:
        assert store.journal_mode == "wal"
        assert store.foreign_keys
        assert store.schema_version == SCHEMA_VERSION
        tables = set(store.db.table_names())
    expected = {"settings", "chats", "messages", "models", "downloads", "documents", "chunks"}
    assert expected <= tables
    raw = sqlite3.connect(tmp_path / "hearth.db")
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()


def test_a_file_that_is_not_a_database_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "hearth.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="Cannot open the database"):
        Store.open(path)


def test_store_can_be_used_from_a_worker_thread(store: Store) -> None:
    chat = store.create_chat()
    answer = store.append_message(chat.id, "assistant", status="streaming")
    errors: list[BaseException] = []

    def stream() -> None:
        try:
            for i in range(50):
                store.append_text(answer.id, f"{i} ")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=stream) for _ in range(2)]
    for w in workers:
        w.start()
    for _ in range(50):
        store.list_chats()
    for w in workers:
        w.join()
    assert errors == []
    assert len(store.get_message(answer.id).content.split()) == 100
