"""The chat sidebar and its controller: grouping by day, new chat, rename, delete with
undo, and search, on a real store through pytest-qt."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QListWidgetItem
from pytestqt.qtbot import QtBot

from app.chat.history import group_by_day
from app.errors import NotFoundError
from app.store import Store
from ui.chat.controller import ChatsController
from ui.chat.sidebar import Sidebar, snippet_html

NOW = datetime(2025, 6, 15, 12, 0)


def _age(store: Store, chat_id: int, when: datetime) -> None:
    """Tests only: pretend a chat was last active at ``when``."""
    store.db.execute("UPDATE chats SET updated_at = ? WHERE id = ?", [when.timestamp(), chat_id])


@pytest.fixture
def make_sidebar(
    store: Store, tmp_path: Path, qtbot: QtBot
) -> Iterator[Callable[..., tuple[Sidebar, ChatsController]]]:
    controllers: list[ChatsController] = []

    def make(undo_seconds: float = 60.0) -> tuple[Sidebar, ChatsController]:
        controller = ChatsController(store, tmp_path, undo_seconds=undo_seconds, now=lambda: NOW)
        controllers.append(controller)
        sidebar = Sidebar(controller)
        qtbot.addWidget(sidebar)
        sidebar.resize(300, 700)
        sidebar.show()
        qtbot.waitExposed(sidebar)
        return sidebar, controller

    yield make
    for controller in controllers:
        controller.shutdown()


def _item(sidebar: Sidebar, chat_id: int) -> QListWidgetItem:
    for row in range(sidebar.chat_list.count()):
        item = sidebar.chat_list.item(row)
        if item.data(Qt.ItemDataRole.UserRole) == chat_id:
            return item
    raise AssertionError(f"chat {chat_id} is not listed")


def _click(qtbot: QtBot, sidebar: Sidebar, item: QListWidgetItem) -> None:
    view = item.listWidget()
    assert view is not None
    rect = view.visualItemRect(item)
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_chats_are_grouped_by_day_newest_first(
    store: Store, make_sidebar: Callable[..., tuple[Sidebar, ChatsController]]
) -> None:
    ages = {
        "this morning": NOW.replace(hour=8),
        "just now": NOW - timedelta(minutes=5),
        "last night": (NOW - timedelta(days=1)).replace(hour=23),
        "two days ago": NOW - timedelta(days=2),
        "a week ago": NOW - timedelta(days=7),
        "eight days ago": NOW - timedelta(days=8),
        "last year": NOW - timedelta(days=365),
    }
    ids = {}
    for title, when in ages.items():
        ids[title] = store.create_chat(title).id
        _age(store, ids[title], when)

    sidebar, _ = make_sidebar()
    assert sidebar.headers() == ["Today", "Yesterday", "Previous 7 days", "Older"]
    order = ["just now", "this morning", "last night", "two days ago", "a week ago"]
    order += ["eight days ago", "last year"]
    assert sidebar.chat_ids() == [ids[t] for t in order]
    # The list reads top to bottom: each heading, then its chats.
    texts = [sidebar.chat_list.item(r).text() for r in range(sidebar.chat_list.count())]
    assert texts == [
        "Today", "just now", "this morning",
        "Yesterday", "last night",
        "Previous 7 days", "two days ago", "a week ago",
        "Older", "eight days ago", "last year",
    ]  # fmt: skip


def test_empty_groups_are_left_out(store: Store) -> None:
    chat = store.create_chat("only today")
    groups = group_by_day([store.get_chat(chat.id)], datetime.now())
    assert [(g.label, [c.id for c in g.chats]) for g in groups] == [("Today", [chat.id])]


def test_no_chats_shows_a_hint(
    make_sidebar: Callable[..., tuple[Sidebar, ChatsController]],
) -> None:
    sidebar, _ = make_sidebar()
    assert sidebar.stack.currentWidget() is sidebar.empty_label
    assert "New chat" in sidebar.empty_label.text()


def test_clicking_a_chat_selects_it(
    store: Store, make_sidebar: Callable[..., tuple[Sidebar, ChatsController]], qtbot: QtBot
) -> None:
    first = store.create_chat("first")
    second = store.create_chat("second")
    sidebar, controller = make_sidebar()
    with qtbot.waitSignal(sidebar.chatSelected) as selected:
        _click(qtbot, sidebar, _item(sidebar, first.id))
    assert selected.args == [first.id]
    # The selection survives the list being redrawn.
    controller.refresh()
    current = sidebar.chat_list.currentItem()
    assert current is not None and current.data(Qt.ItemDataRole.UserRole) == first.id
    with qtbot.waitSignal(sidebar.chatSelected) as selected:
        _click(qtbot, sidebar, _item(sidebar, second.id))
    assert selected.args == [second.id]


def test_new_chat_button_creates_and_selects_a_chat(
    store: Store, make_sidebar: Callable[..., tuple[Sidebar, ChatsController]], qtbot: QtBot
) -> None:
    sidebar, _ = make_sidebar()
    with qtbot.waitSignal(sidebar.chatSelected) as selected:
        QTest.mouseClick(sidebar.new_chat_button, Qt.MouseButton.LeftButton)
    chats = store.list_chats()
    assert [c.id for c in chats] == selected.args
    assert sidebar.chat_ids() == selected.args
    assert sidebar.headers() == ["Today"]
    assert sidebar.stack.currentWidget() is sidebar.chat_list


def test_rename_in_place(
    store: Store, make_sidebar: Callable[..., tuple[Sidebar, ChatsController]], qtbot: QtBot
) -> None:
    chat = store.create_chat("Untitled")
    sidebar, _ = make_sidebar()
    sidebar.chat_menu(chat.id).actions()[0].trigger()  # "Rename"
    editor = sidebar.chat_list.findChild(QLineEdit)
    assert editor is not None and editor.text() == "Untitled"
    editor.selectAll()
    QTest.keyClicks(editor, "Bread plans")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: store.get_chat(chat.id).title == "Bread plans")
    assert _item(sidebar, chat.id).text() == "Bread plans"


def test_an_empty_title_is_refused_and_the_old_one_stays(
    store: Store, make_sidebar: Callable[..., tuple[Sidebar, ChatsController]], qtbot: QtBot
) -> None:
    chat = store.create_chat("Keep me")
    sidebar, _ = make_sidebar()
    _item(sidebar, chat.id).setText("   ")  # what the inline editor commits
    assert store.get_chat(chat.id).title == "Keep me"
    assert _item(sidebar, chat.id).text() == "Keep me"
    assert sidebar.error_label.isVisibleTo(sidebar)
    assert "title cannot be empty" in sidebar.error_label.text()


def test_delete_hides_the_chat_at_once_and_undo_brings_it_back(
    store: Store, make_sidebar: Callable[..., tuple[Sidebar, ChatsController]], qtbot: QtBot
) -> None:
    keep = store.create_chat("keep")
    doomed = store.create_chat("Doomed chat")
    store.append_message(doomed.id, "user", "hello there")
    sidebar, controller = make_sidebar(undo_seconds=60)
    sidebar.chat_list.setCurrentItem(_item(sidebar, doomed.id))
    with qtbot.waitSignal(controller.undoAvailable) as offered:
        QTest.keyClick(sidebar.chat_list, Qt.Key.Key_Delete)
    assert offered.args == ["Deleted “Doomed chat”"]
    assert sidebar.chat_ids() == [keep.id]
    assert sidebar.snackbar.isVisibleTo(sidebar)
    assert sidebar.snackbar_label.text() == "Deleted “Doomed chat”"
    assert store.get_chat(doomed.id).title == "Doomed chat", "not deleted yet"

    QTest.mouseClick(sidebar.undo_button, Qt.MouseButton.LeftButton)
    assert sidebar.chat_ids() == [doomed.id, keep.id]
    assert not sidebar.snackbar.isVisibleTo(sidebar)
    assert controller.pending_delete_id is None
    assert [m.content for m in store.thread(doomed.id)] == ["hello there"]


def test_delete_without_undo_really_deletes_when_the_offer_ends(
    store: Store, make_sidebar: Callable[..., tuple[Sidebar, ChatsController]], qtbot: QtBot
) -> None:
    chat = store.create_chat("Short-lived")
    store.append_message(chat.id, "user", "ephemeral words")
    sidebar, controller = make_sidebar(undo_seconds=0.05)
    sidebar.chat_menu(chat.id).actions()[1].trigger()  # "Delete"
    assert sidebar.chat_ids() == []
    with qtbot.waitSignal(controller.undoClosed, timeout=2000):
        pass
    with pytest.raises(NotFoundError):
        store.get_chat(chat.id)
    assert store.search_messages("ephemeral") == []
    assert not sidebar.snackbar.isVisibleTo(sidebar)
    controller.undo_delete()  # too late: nothing comes back
    assert sidebar.chat_ids() == []


def test_quitting_or_deleting_another_chat_ends_the_undo_offer(
    store: Store, make_sidebar: Callable[..., tuple[Sidebar, ChatsController]]
) -> None:
    first = store.create_chat("first")
    second = store.create_chat("second")
    third = store.create_chat("third")
    sidebar, controller = make_sidebar(undo_seconds=60)
    sidebar.delete_chat(first.id)
    sidebar.delete_chat(second.id)  # the first is deleted for good; the second can be undone
    assert [c.id for c in store.list_chats()] == [third.id, second.id]
    assert controller.pending_delete_id == second.id
    controller.shutdown()  # what the app's aboutToQuit does
    assert [c.id for c in store.list_chats()] == [third.id]


def test_search_finds_a_message_and_selecting_the_hit_names_it(
    store: Store, make_sidebar: Callable[..., tuple[Sidebar, ChatsController]], qtbot: QtBot
) -> None:
    other = store.create_chat("Weather")
    store.append_message(other.id, "user", "Will it rain tomorrow?")
    chat = store.create_chat("Bread")
    store.append_message(chat.id, "user", "How often do I feed a sourdough starter?")
    answer = store.append_message(chat.id, "assistant", "Feed the <starter> twice a day.")
    sidebar, controller = make_sidebar()

    with qtbot.waitSignal(controller.searchResults) as found:
        QTest.keyClicks(sidebar.search_field, "twice")
    assert [(h.chat_id, h.message_id) for h in found.args[0]] == [(chat.id, answer.id)]
    assert sidebar.stack.currentWidget() is sidebar.results_list
    assert sidebar.results_list.count() == 1
    item = sidebar.results_list.item(0)
    widget = sidebar.results_list.itemWidget(item)
    labels = {label.objectName(): label.text() for label in widget.findChildren(QLabel)}
    assert labels["searchResultTitle"] == "Bread"
    snippet = labels["searchResultSnippet"]
    assert "Assistant:" in snippet and "&lt;starter&gt;" in snippet
    assert 'font-weight:600">twice</span>' in snippet, "the match is highlighted"

    with qtbot.waitSignal(sidebar.messageSelected) as selected:
        _click(qtbot, sidebar, item)
    assert selected.args == [chat.id, answer.id]

    sidebar.search_field.clear()
    assert sidebar.stack.currentWidget() is sidebar.chat_list


def test_search_without_hits_says_so(
    store: Store, make_sidebar: Callable[..., tuple[Sidebar, ChatsController]], qtbot: QtBot
) -> None:
    store.append_message(store.create_chat().id, "user", "hello")
    sidebar, controller = make_sidebar()
    sidebar.search_field.setText("zebra")
    with qtbot.waitSignal(controller.searchResults):
        sidebar.run_search()
    assert sidebar.stack.currentWidget() is sidebar.no_hits_label
    assert "zebra" in sidebar.no_hits_label.text()


def test_a_chat_waiting_for_undo_is_left_out_of_search(
    store: Store, make_sidebar: Callable[..., tuple[Sidebar, ChatsController]]
) -> None:
    chat = store.create_chat()
    store.append_message(chat.id, "user", "marmalade")
    _, controller = make_sidebar()
    assert len(controller.search("marmalade")) == 1
    controller.delete(chat.id)
    assert controller.search("marmalade") == []


def test_focus_search_puts_the_cursor_in_the_search_field(
    make_sidebar: Callable[..., tuple[Sidebar, ChatsController]], qtbot: QtBot
) -> None:
    sidebar, _ = make_sidebar()
    sidebar.search_field.setText("old query")
    sidebar.activateWindow()
    sidebar.focus_search()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is sidebar.search_field)
    assert sidebar.search_field.selectedText() == "old query"


def test_snippet_marks_become_highlights_and_text_is_escaped() -> None:
    assert snippet_html("a <b> [match] & [more]", "#f00") == (
        'a &lt;b&gt; <span style="color:#f00; font-weight:600">match</span> &amp; '
        '<span style="color:#f00; font-weight:600">more</span>'
    )
