"""The chat page's controller on a real store: the thread with its branches and sources,
switching versions, deleting messages, new chats and the library's models."""

from __future__ import annotations

from app.chat.history import sibling_positions
from app.store import Store
from ui.chat.controller import ChatController


def test_the_thread_says_where_each_version_stands_among_its_siblings(store: Store) -> None:
    chat = store.create_chat("Versions")
    user = store.append_message(chat.id, "user", "Question")
    first = store.add_message(chat.id, "assistant", "First", parent_id=user.id)
    second = store.add_message(chat.id, "assistant", "Second", parent_id=user.id)
    thread = ChatController(store).thread(chat.id)
    assert [m.id for m in thread.messages] == [user.id, second.id]
    assert thread.siblings == {first.id: (1, 2), second.id: (2, 2)}
    assert thread.sources == {}
    assert sibling_positions(store.all_messages(chat.id)) == thread.siblings


def test_switching_versions_moves_one_step_and_stops_at_the_ends(store: Store) -> None:
    chat = store.create_chat()
    user = store.append_message(chat.id, "user", "Question")
    first = store.add_message(chat.id, "assistant", "First", parent_id=user.id)
    second = store.add_message(chat.id, "assistant", "Second", parent_id=user.id)
    chats = ChatController(store)
    assert chats.switch_branch(second.id, 1) is False
    assert chats.switch_branch(second.id, -1) is True
    assert chats.chat(chat.id).current_leaf_id == first.id
    assert chats.switch_branch(first.id, -1) is False
    assert chats.switch_branch(first.id, 1) is True
    assert chats.chat(chat.id).current_leaf_id == second.id


def test_deleting_a_message_leaves_the_rest_of_the_chat(store: Store) -> None:
    chat = store.create_chat()
    user = store.append_message(chat.id, "user", "Question")
    answer = store.add_message(chat.id, "assistant", "Answer", parent_id=user.id)
    chats = ChatController(store)
    chats.delete_message(answer.id)
    assert [m.id for m in chats.thread(chat.id).messages] == [user.id]


def test_a_new_chat_is_named_by_its_first_message_even_when_titled(store: Store) -> None:
    chats = ChatController(store)
    untitled = chats.new_chat(model="tiny")
    assert (untitled.title, untitled.model, untitled.auto_title) == ("New chat", "tiny", True)
    from_files = chats.new_chat("notes.txt")  # a chat started by dropping files
    assert (from_files.title, from_files.auto_title) == ("notes.txt", True)
    store.title_from_message(from_files.id, "How do sourdough starters work?")
    assert chats.chat(from_files.id).title == "How do sourdough starters work?"


def test_models_come_from_the_library_and_load_with_the_chats_context(store: Store) -> None:
    entry = store.add_model("/models/tiny.gguf", "tiny-llama", 1000, context_length=4096)
    chats = ChatController(store)
    assert [m.id for m in chats.models()] == [entry.id]
    assert chats.model(entry.id) == entry
    assert chats.model(entry.id + 1) is None
    chat = store.create_chat(params={"context_length": 1024})
    assert chats.load_options(entry, chats.chat(chat.id)).n_ctx == 1024
