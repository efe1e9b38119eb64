"""The SQLite store: schema and migrations, settings, the message tree, search, the library."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from app.errors import NotFoundError, SettingError, StoreError
from app.store import SCHEMA_NAMES, SCHEMA_VERSION, MessageStats, Store

# ----------------------------------------------------------------- opening


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


def test_a_file_that_is_not_a_database_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "hearth.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="Cannot open the database"):
        Store.open(path)


# ---------------------------------------------------------------- settings


def test_settings_default_until_set_then_persist(tmp_path: Path) -> None:
    with Store.open(tmp_path / "hearth.db") as store:
        assert store.get_setting("context_length") == 4096
        assert store.set_setting("context_length", "8192") == 8192
    with Store.open(tmp_path / "hearth.db") as store:
        assert store.get_setting("context_length") == 8192
        assert store.stored_settings() == {"context_length": 8192}
        store.reset_setting("context_length")
        assert store.get_setting("context_length") == 4096


def test_a_refused_setting_is_never_stored(store: Store) -> None:
    store.set_setting("top_k", 20)
    with pytest.raises(SettingError):
        store.set_setting("top_k", -5)
    with pytest.raises(SettingError):
        store.set_setting("no_such_setting", 1)
    assert store.get_setting("top_k") == 20
    assert store.stored_settings() == {"top_k": 20}


# ------------------------------------------------------------ message tree


def test_a_conversation_is_a_path_from_root_to_current_leaf(store: Store) -> None:
    chat = store.create_chat("Cooking")
    store.append_message(chat.id, "system", "You are a chef.")
    store.append_message(chat.id, "user", "How long to boil an egg?")
    store.append_message(chat.id, "assistant", "About nine minutes.")
    thread = store.thread(chat.id)
    assert [m.role for m in thread] == ["system", "user", "assistant"]
    assert [m.parent_id for m in thread] == [None, thread[0].id, thread[1].id]


def test_editing_a_message_makes_a_branch_and_both_survive(store: Store) -> None:
    chat = store.create_chat()
    question = store.append_message(chat.id, "user", "Capital of Australia?")
    first = store.append_message(chat.id, "assistant", "Sydney.")
    # The user edits the question: a sibling of the original, with its own answer.
    edited = store.add_message(chat.id, "user", "Capital city of Australia?", parent_id=None)
    second = store.append_message(chat.id, "assistant", "Canberra.")

    assert [m.content for m in store.thread(chat.id)] == ["Capital city of Australia?", "Canberra."]
    assert [m.id for m in store.siblings(edited.id)] == [question.id, edited.id]

    # The arrows switch back to the first branch, down to its answer.
    shown = store.select_branch(question.id)
    assert [m.id for m in shown] == [question.id, first.id]
    assert store.get_chat(chat.id).current_leaf_id == first.id
    assert store.message_count(chat.id) == 4
    assert second.id in {m.id for m in store.children(edited.id)}


def test_regenerating_makes_sibling_answers_and_selection_follows_newest_child(
    store: Store,
) -> None:
    chat = store.create_chat()
    question = store.append_message(chat.id, "user", "Tell me a joke")
    answers = [
        store.add_message(chat.id, "assistant", f"Joke {i}", parent_id=question.id)
        for i in range(3)
    ]
    assert [m.content for m in store.siblings(answers[0].id)] == ["Joke 0", "Joke 1", "Joke 2"]
    store.select_branch(answers[0].id)
    assert store.thread(chat.id)[-1].content == "Joke 0"
    store.select_branch(question.id)  # descends to the newest answer
    assert store.thread(chat.id)[-1].content == "Joke 2"


def test_a_parent_from_another_chat_is_refused(store: Store) -> None:
    one, two = store.create_chat(), store.create_chat()
    message = store.append_message(one.id, "user", "hello")
    with pytest.raises(StoreError, match="belongs to another chat"):
        store.add_message(two.id, "assistant", "hi", parent_id=message.id)
    with pytest.raises(StoreError, match="Unknown message role"):
        store.append_message(one.id, "wizard", "hi")  # type: ignore[arg-type]


def test_streamed_text_is_saved_as_it_arrives(tmp_path: Path) -> None:
    path = tmp_path / "hearth.db"
    writer = Store.open(path)
    chat = writer.create_chat()
    writer.append_message(chat.id, "user", "Count to three")
    answer = writer.append_message(chat.id, "assistant", status="streaming")
    for piece in ("One", ", two", ", three"):
        writer.append_text(answer.id, piece)
    writer.append_text(answer.id, reasoning="counting...")
    # Another connection (say, the app after a crash) sees every piece already written.
    reader = Store.open(path)
    saved = reader.get_message(answer.id)
    assert (saved.content, saved.reasoning, saved.status) == (
        "One, two, three",
        "counting...",
        "streaming",
    )
    writer.finish_message(
        answer.id,
        status="stopped",
        stats=MessageStats(prompt_tokens=12, completion_tokens=3, ttft_ms=41.5,
                           tokens_per_second=55.0, stop_reason="user"),
        meta={"dropped_turns": [3, 4]},
    )  # fmt: skip
    final = reader.get_message(answer.id)
    assert final.status == "stopped"
    assert final.stats.completion_tokens == 3 and final.stats.stop_reason == "user"
    assert final.meta == {"dropped_turns": [3, 4]}
    writer.close()
    reader.close()


def test_deleting_a_chat_removes_all_its_branches(store: Store) -> None:
    keep, gone = store.create_chat("keep"), store.create_chat("gone")
    store.append_message(keep.id, "user", "stay")
    root = store.append_message(gone.id, "user", "a")
    store.add_message(gone.id, "assistant", "b1", parent_id=root.id)
    store.add_message(gone.id, "assistant", "b2", parent_id=root.id)
    store.delete_chat(gone.id)
    with pytest.raises(NotFoundError):
        store.get_chat(gone.id)
    assert store.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
    assert store.search_messages("b1") == []
    assert [c.title for c in store.list_chats()] == ["keep"]


def test_chats_are_listed_most_recently_active_first(store: Store) -> None:
    old, new = store.create_chat("old"), store.create_chat("new")
    store.append_message(old.id, "user", "bump")  # activity moves it to the top
    assert [c.title for c in store.list_chats()] == ["old", "new"]
    store.rename_chat(new.id, "  renamed  ")
    assert store.get_chat(new.id).title == "renamed"
    with pytest.raises(StoreError, match="cannot be empty"):
        store.rename_chat(new.id, "   ")


def test_search_finds_words_across_chats_and_survives_odd_input(store: Store) -> None:
    a, b = store.create_chat("Garden"), store.create_chat("Code")
    store.append_message(a.id, "user", "When should I plant tomatoes?")
    store.append_message(b.id, "user", 'Why does "SELECT *" return duplicates?')
    hits = store.search_messages("tomato")  # porter stemming matches the plural
    assert [(h.chat_title, h.role) for h in hits] == [("Garden", "user")]
    assert "[tomatoes]" in hits[0].snippet
    assert [h.chat_id for h in store.search_messages('"SELECT')] == [b.id]
    assert store.search_messages("AND OR NOT (") == []
    assert store.search_messages("   ") == []


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


# ------------------------------------------------------------------ models


def test_models_library_add_refresh_find_remove(store: Store) -> None:
    assert store.list_models() == []
    entry = store.add_model(
        "/m/qwen.gguf", "qwen", 1000, quantization="Q4_K_M", metadata={"arch": "qwen2"}
    )
    assert store.find_model("qwen") == entry
    refreshed = store.add_model("/m/qwen.gguf", "qwen", 2000)
    assert refreshed.id == entry.id and refreshed.size_bytes == 2000
    assert refreshed.added_at == entry.added_at
    assert len(store.list_models()) == 1
    store.remove_model(entry.id)
    with pytest.raises(NotFoundError, match="no model called 'qwen'"):
        store.find_model("qwen")
    with pytest.raises(StoreError, match="Unknown model fields"):
        store.add_model("/m/x.gguf", "x", 1, colour="red")


# --------------------------------------------------------- folders, cache, downloads


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


def test_hub_cache_keeps_the_last_answer_with_its_time(store: Store) -> None:
    assert store.cache_get("search:qwen") is None
    store.cache_put("search:qwen", [{"id": "Qwen/Qwen3-0.6B-GGUF"}])
    payload, fetched_at = store.cache_get("search:qwen") or (None, 0.0)
    assert payload == [{"id": "Qwen/Qwen3-0.6B-GGUF"}] and fetched_at > 0


def test_a_download_is_one_row_per_file_and_revision(store: Store) -> None:
    first = store.upsert_download(
        "org/repo", "m.gguf", "main", "/models/m.gguf", "/models/m.gguf.part",
        total_bytes=100, sha256="ab" * 32, status="queued",
    )  # fmt: skip
    store.update_download(first.id, downloaded_bytes=40, status="paused")
    again = store.upsert_download(
        "org/repo", "m.gguf", "main", "/models/m.gguf", "/models/m.gguf.part", status="queued"
    )
    assert again.id == first.id and again.downloaded_bytes == 40
    assert store.find_download("org/repo", "m.gguf") == again
    assert [d.id for d in store.list_downloads("queued", "paused")] == [first.id]
    with pytest.raises(StoreError):
        store.update_download(first.id, colour="red")
    store.delete_download(first.id)
    assert store.list_downloads() == []


def test_deleting_a_message_removes_its_branch_and_shows_the_nearest_one(store: Store) -> None:
    chat = store.create_chat()
    question = store.append_message(chat.id, "user", "q")
    first = store.add_message(chat.id, "assistant", "a1", parent_id=question.id)
    second = store.add_message(chat.id, "assistant", "a2", parent_id=question.id)
    store.append_message(chat.id, "user", "follow-up")  # after a2
    store.delete_message(second.id)
    assert [m.content for m in store.thread(chat.id)] == ["q", "a1"]
    assert store.message_count(chat.id) == 2
    store.delete_message(first.id)
    assert [m.id for m in store.thread(chat.id)] == [question.id]
    store.delete_message(question.id)
    assert store.thread(chat.id) == [] and store.message_count(chat.id) == 0


# ---------------------------------------------------------------- documents


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


def test_a_document_belongs_to_one_chat_or_one_collection(store: Store) -> None:
    chat = store.create_chat()
    collection = store.create_collection("Taxes")
    with pytest.raises(StoreError):
        store.add_document("/a", "a", "text")
    with pytest.raises(StoreError):
        store.add_document("/a", "a", "text", chat_id=chat.id, collection_id=collection.id)
    assert store.create_collection(" Taxes ") == collection  # same name, same collection
    store.add_document("/a", "a", "text", collection_id=collection.id)
    store.delete_collection(collection.id)
    assert store.list_documents() == []  # its documents go with it
