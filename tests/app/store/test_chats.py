"""Chats and the message tree: branches, streaming, deletion, listing and search."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import NotFoundError, StoreError
from app.store import MessageStats, Store


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
