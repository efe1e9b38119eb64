"""Schema migrations: each from the version before, keeping data and a backup; a newer
database refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.errors import StoreError
from app.store import SCHEMA_NAMES, SCHEMA_VERSION, Store


def test_database_at_previous_version_is_migrated_keeping_data(tmp_path: Path) -> None:
    path = tmp_path / "hearth.db"
    # A database as the previous release left it: schema 1, with a chat in it.
    old = Store.open(path, stop_before=SCHEMA_NAMES[1])
    assert old.schema_version == 1
    assert "messages_fts" not in old.db.table_names()
    chat = old.create_chat("Trip planning")
    old.append_message(chat.id, "user", "Which trains go to Kyoto?")
    old.set_setting("temperature", 0.3)
    old.close()

    store = Store.open(path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.thread(chat.id)[0].content == "Which trains go to Kyoto?"
    assert store.get_setting("temperature") == 0.3
    # The new full-text index covers messages written before it existed.
    assert [hit.chat_id for hit in store.search_messages("kyoto")] == [chat.id]
    store.close()
    backup = tmp_path / f"hearth.db.before-{SCHEMA_NAMES[1]}.bak"
    assert backup.exists(), "a copy is kept before the schema changes"
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT title FROM chats").fetchall() == [("Trip planning",)]


def test_reopening_an_up_to_date_database_changes_nothing(tmp_path: Path) -> None:
    Store.open(tmp_path / "hearth.db").close()
    Store.open(tmp_path / "hearth.db").close()
    assert not list(tmp_path.glob("*.bak"))


def test_database_from_a_newer_hearth_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "hearth.db"
    with Store.open(path) as store:
        store.db.table("_sqlite_migrations").insert(
            {"migration_set": "hearth", "name": "0099_future", "applied_at": "2030-01-01"}
        )
    with pytest.raises(StoreError, match=r"newer version of Hearth.*0099_future"):
        Store.open(path)


def test_database_at_version_two_gains_folders_and_hub_cache(tmp_path: Path) -> None:
    path = tmp_path / "hearth.db"
    old = Store.open(path, stop_before=SCHEMA_NAMES[2])
    assert old.schema_version == 2
    old.add_model("/m/a.gguf", "a", 10)
    old.close()
    with Store.open(path) as store:
        assert [m.name for m in store.list_models()] == ["a"]
        store.add_model_folder("/mnt/lmstudio")
        assert store.list_model_folders() == ["/mnt/lmstudio"]


def test_database_at_version_three_keeps_its_documents(tmp_path: Path) -> None:
    path = tmp_path / "hearth.db"
    old = Store.open(path, stop_before=SCHEMA_NAMES[3])
    assert old.schema_version == 3
    chat = old.create_chat("with docs")
    old.db.execute(
        "INSERT INTO documents(chat_id, path, name, kind, status, added_at, updated_at) "
        "VALUES (?, '/d/a.md', 'a.md', 'markdown', 'ready', 0, 0)",
        [chat.id],
    )
    old.db.execute(
        "INSERT INTO chunks(document_id, ordinal, text) VALUES (1, 0, 'the boiler pressure')"
    )
    old.close()
    with Store.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        (document,) = store.chat_documents(chat.id)
        assert document.name == "a.md" and document.embedding_model is None
        assert store.keyword_chunks('"boiler"', [document.id], 5)[0][0] == 1
        shared = store.create_collection("Manuals")
        store.attach_collection(chat.id, shared.id)
        assert store.chat_collections(chat.id) == [shared]
