"""The chat page driven like a user would: real widgets, a real Store, the tiny generated
GGUF model loaded through the real EngineController."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication, QTextCursor, QTextTable
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.engine.events import LoadOptions
from app.store import Message, MessageStats, Store
from tests.conftest import GgufFiles
from ui.chat.composer import Composer
from ui.chat.controller import ChatController
from ui.chat.page import NO_LIBRARY_REASON, ChatPage
from ui.chat.view import PAGE_SIZE, ChatView, MessageWidget, RichText, stats_text
from ui.engine_controller import EngineController

TIMEOUT = 20_000

MARKDOWN_ANSWER = """Two options:

| Approach | Stable |
|:---------|-------:|
| `sorted` | yes |
| `list.sort` | yes |

```python
by_age = sorted(people, key=lambda p: p["age"])
```

```sh
ls -la | grep '<tmp>'
```
"""


@pytest.fixture
def controller(store: Store) -> Iterator[EngineController]:
    ctrl = EngineController(store)
    yield ctrl
    assert ctrl.shutdown_and_wait()


@pytest.fixture
def short_answers(store: Store) -> None:
    """Greedy, short answers: fast and repeatable."""
    store.set_setting("temperature", 0.0)
    store.set_setting("max_tokens", 24)


def make_page(store: Store, controller: EngineController, qtbot: QtBot) -> ChatPage:
    page = ChatPage(ChatController(store), controller)
    qtbot.addWidget(page)
    page.resize(960, 720)
    page.show()
    qtbot.waitExposed(page)
    return page


@pytest.fixture
def page(
    store: Store, controller: EngineController, tiny_model: Path, qtbot: QtBot, short_answers: None
) -> ChatPage:
    """The page with the tiny model already loaded."""
    controller.engine.load(tiny_model, LoadOptions(n_ctx=2048))
    return make_page(store, controller, qtbot)


def wait_idle(controller: EngineController, qtbot: QtBot) -> None:
    qtbot.waitUntil(lambda: not controller.busy, timeout=TIMEOUT)


def send_by_keyboard(page: ChatPage, qtbot: QtBot, text: str) -> None:
    """Type ``text`` (Shift+Enter between its lines), then Enter."""
    edit = page.composer.edit
    edit.setFocus()
    for i, line in enumerate(text.split("\n")):
        if i:
            QTest.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
        QTest.keyClicks(edit, line)
    QTest.keyClick(edit, Qt.Key.Key_Return)


def widget_for(page: ChatPage, message: Message) -> MessageWidget:
    widget = page.view.message_widget(message.id)
    assert widget is not None, f"message {message.id} has no widget"
    return widget


def add_exchange(store: Store, chat_id: int, question: str, answer: str, **kwargs: object) -> None:
    user = store.append_message(chat_id, "user", question)
    store.add_message(chat_id, "assistant", answer, parent_id=user.id, **kwargs)  # type: ignore[arg-type]


def click_anchor(text: RichText, qtbot: QtBot, href: str) -> None:
    """Click the link ``href`` where Qt laid it out."""
    qtbot.wait(20)  # let pending layouts settle first
    document = text.document()
    block = document.begin()
    while block.isValid():
        iterator = block.begin()
        while not iterator.atEnd():
            fragment = iterator.fragment()
            if fragment.charFormat().anchorHref() == href:
                cursor = QTextCursor(document)
                cursor.setPosition(fragment.position() + 1)
                point = text.cursorRect(cursor).center() - QPoint(3, 0)
                QTest.mouseClick(
                    text.viewport(),
                    Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier,
                    point,
                )
                return
            iterator += 1
        block = block.next()
    raise AssertionError(f"no link {href!r} in the message")


# ------------------------------------------------------------------- sending
def test_sending_streams_the_answer_into_the_view_and_stores_it(
    page: ChatPage, controller: EngineController, store: Store, qtbot: QtBot
) -> None:
    seen_streaming: list[bool] = []
    controller.textDelta.connect(
        lambda *_: seen_streaming.append(
            any(page.view.is_streaming(m.id) for m in page.view.messages())
        )
    )
    with qtbot.waitSignal(page.chatChanged, timeout=TIMEOUT) as created:
        send_by_keyboard(page, qtbot, "Hello there\nsecond line")
    wait_idle(controller, qtbot)

    chat_id = created.args[0]
    assert page.current_chat_id == chat_id
    assert store.get_chat(chat_id).title == "Hello there"
    user, answer = store.thread(chat_id)
    assert user.content == "Hello there\nsecond line"
    assert answer.role == "assistant" and answer.content
    assert seen_streaming and all(seen_streaming), "the answer's card streamed as tokens came"
    card = widget_for(page, answer)
    assert card.displayed_text() == answer.content
    assert not page.view.is_streaming(answer.id)
    assert "24 tokens" in card.stats_label.text()
    assert "tok/s" in card.stats_label.text()
    assert page.composer.text() == ""
    assert page.composer.send_button.text() == "Send"


@pytest.mark.parametrize("how", ["escape", "escape in the conversation", "stop button"])
def test_stopping_keeps_the_partial_answer(
    page: ChatPage, controller: EngineController, store: Store, qtbot: QtBot, how: str
) -> None:
    store.set_setting("max_tokens", 1800)

    def stop(*_: object) -> None:
        assert page.composer.send_button.text() == "Stop"
        if how == "escape":
            QTest.keyClick(page.composer.edit, Qt.Key.Key_Escape)
        elif how == "escape in the conversation":
            question = page.view.message_widget(page.view.messages()[0].id)
            assert question is not None
            question.content.setFocus()
            QTest.keyClick(question.content, Qt.Key.Key_Escape)
        else:
            QTest.mouseClick(page.composer.send_button, Qt.MouseButton.LeftButton)

    controller.textDelta.connect(stop)
    send_by_keyboard(page, qtbot, "Go on and on")
    wait_idle(controller, qtbot)
    controller.textDelta.disconnect(stop)

    assert page.current_chat_id is not None
    answer = store.thread(page.current_chat_id)[-1]
    assert answer.status == "stopped"
    assert (answer.stats.completion_tokens or 0) < 1800
    card = widget_for(page, answer)
    assert card.displayed_text() == answer.content
    assert card.stats_label.text().startswith("Stopped")
    assert page.composer.send_button.text() == "Send"


def test_regenerate_adds_a_branch_and_the_arrows_switch_between_answers(
    page: ChatPage, controller: EngineController, store: Store, qtbot: QtBot
) -> None:
    send_by_keyboard(page, qtbot, "Hi")
    wait_idle(controller, qtbot)
    assert page.current_chat_id is not None
    chat_id = page.current_chat_id
    first = store.thread(chat_id)[-1]
    card = widget_for(page, first)
    assert not card.nav.isVisibleTo(card), "one answer: no arrows"

    card.show_actions()
    assert card.regenerate_button is not None
    QTest.mouseClick(card.regenerate_button, Qt.MouseButton.LeftButton)
    wait_idle(controller, qtbot)

    second = store.thread(chat_id)[-1]
    assert second.id != first.id and second.parent_id == first.parent_id
    card = widget_for(page, second)
    assert card.nav.isVisibleTo(card)
    assert card.sibling_label.text() == "2/2"
    assert not card.next_button.isEnabled()

    QTest.mouseClick(card.prev_button, Qt.MouseButton.LeftButton)
    assert page.view.message_widget(second.id) is None
    card = widget_for(page, first)
    assert card.sibling_label.text() == "1/2"
    assert card.displayed_text() == first.content
    assert store.get_chat(chat_id).current_leaf_id == first.id

    QTest.mouseClick(card.next_button, Qt.MouseButton.LeftButton)
    assert widget_for(page, second).sibling_label.text() == "2/2"


def test_editing_a_message_resends_it_as_a_new_branch(
    page: ChatPage, controller: EngineController, store: Store, qtbot: QtBot
) -> None:
    send_by_keyboard(page, qtbot, "first question")
    wait_idle(controller, qtbot)
    assert page.current_chat_id is not None
    chat_id = page.current_chat_id
    original = store.thread(chat_id)[0]

    card = widget_for(page, original)
    card.show_actions()
    assert card.edit_button is not None
    QTest.mouseClick(card.edit_button, Qt.MouseButton.LeftButton)
    assert card.editor is not None
    assert card.editor.toPlainText() == "first question"
    card.editor.setPlainText("second question")
    with qtbot.waitSignal(page.view.editRequested, timeout=TIMEOUT) as edit:
        QTest.keyClick(card.editor, Qt.Key.Key_Return)
    assert edit.args == [original.id, "second question"]
    wait_idle(controller, qtbot)

    edited, answer = store.thread(chat_id)
    assert edited.id != original.id and edited.content == "second question"
    assert [m.id for m in store.siblings(edited.id)] == [original.id, edited.id]
    assert widget_for(page, edited).sibling_label.text() == "2/2"
    assert widget_for(page, answer).displayed_text() == answer.content


def test_up_arrow_in_an_empty_composer_edits_the_last_message(
    page: ChatPage, store: Store, qtbot: QtBot
) -> None:
    chat = store.create_chat("Two questions")
    add_exchange(store, chat.id, "one", "answer one")
    add_exchange(store, chat.id, "two", "answer two")
    page.open_chat(chat.id)
    last_user = store.thread(chat.id)[-2]

    page.composer.edit.setFocus()
    QTest.keyClick(page.composer.edit, Qt.Key.Key_Up)
    card = widget_for(page, last_user)
    assert card.editing and card.editor is not None
    assert card.editor.toPlainText() == "two"
    QTest.keyClick(card.editor, Qt.Key.Key_Escape)
    assert not card.editing


# ------------------------------------------------------------------ composer
def test_enter_sends_and_shift_enter_starts_a_new_line(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    sent: list[str] = []
    composer.sendRequested.connect(sent.append)
    QTest.keyClicks(composer.edit, "hello")
    QTest.keyClick(composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClicks(composer.edit, "world")
    assert composer.text() == "hello\nworld"
    assert sent == []
    QTest.keyClick(composer.edit, Qt.Key.Key_Return)
    assert sent == ["hello\nworld"]
    assert composer.text() == ""
    QTest.keyClick(composer.edit, Qt.Key.Key_Return)
    assert sent == ["hello\nworld"], "an empty box sends nothing"


def test_while_busy_the_button_stops_and_enter_keeps_the_text(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    sent: list[str] = []
    stops: list[bool] = []
    composer.sendRequested.connect(sent.append)
    composer.stopRequested.connect(lambda: stops.append(True))
    composer.set_busy(True)
    assert composer.send_button.text() == "Stop"
    QTest.keyClicks(composer.edit, "next question")
    QTest.keyClick(composer.edit, Qt.Key.Key_Return)
    assert sent == [] and composer.text() == "next question"
    QTest.keyClick(composer.edit, Qt.Key.Key_Escape)
    QTest.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    assert stops == [True, True]
    composer.set_busy(False)
    QTest.keyClick(composer.edit, Qt.Key.Key_Escape)
    assert stops == [True, True], "Esc with nothing running does nothing"


def test_context_meter_turns_amber_then_red(qtbot: QtBot) -> None:
    composer = Composer()
    qtbot.addWidget(composer)
    composer.set_context_usage(1234, 4096)
    assert composer.meter.text() == "1,234 / 4,096 tokens"
    assert composer.meter.property("level") == "ok"
    composer.set_context_usage(3100, 4096)
    assert composer.meter.property("level") == "warn"
    composer.set_context_usage(3900, 4096)
    assert composer.meter.property("level") == "full"


def test_without_a_model_in_the_library_the_composer_says_why(
    store: Store, controller: EngineController, qtbot: QtBot
) -> None:
    page = make_page(store, controller, qtbot)
    assert page.composer.enabled_reason == NO_LIBRARY_REASON
    assert page.composer.edit.placeholderText() == NO_LIBRARY_REASON
    assert not page.composer.edit.isEnabled()
    assert page.model_status.text() == "No model loaded"


def test_a_message_sent_with_no_model_loaded_loads_the_picked_one_and_is_answered(
    store: Store, controller: EngineController, tiny_model: Path, qtbot: QtBot, short_answers: None
) -> None:
    store.add_model(str(tiny_model), "Tiny chat", tiny_model.stat().st_size)
    page = make_page(store, controller, qtbot)
    assert page.model_status.text() == "No model loaded"
    assert page.composer.enabled_reason is None, "Send loads the model"
    with qtbot.waitSignal(controller.generationDone, timeout=TIMEOUT):
        send_by_keyboard(page, qtbot, "Hello")
    wait_idle(controller, qtbot)
    assert controller.loaded is not None
    chat_id = page.current_chat_id
    assert chat_id is not None
    assert [m.role for m in store.thread(chat_id)] == ["user", "assistant"]


# ------------------------------------------------------------------- loading
def test_loading_the_picked_model_enables_chatting(
    store: Store, controller: EngineController, tiny_model: Path, qtbot: QtBot
) -> None:
    store.add_model("/nowhere/other.gguf", "Another", 1)
    store.add_model(str(tiny_model), "Tiny chat", tiny_model.stat().st_size)
    page = make_page(store, controller, qtbot)
    index = page.model_picker.findText("Tiny chat")
    assert index >= 0 and page.model_picker.count() == 2
    page.model_picker.setCurrentIndex(index)
    progress: list[float] = []
    controller.loadProgress.connect(progress.append)
    with qtbot.waitSignal(controller.modelLoaded, timeout=TIMEOUT):
        QTest.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
        assert page.load_progress.isVisibleTo(page)
    assert progress
    assert not page.load_progress.isVisibleTo(page)
    assert page.composer.enabled_reason is None
    assert page.model_status.text() == "● Loaded"
    assert "tiny-llama" in page.model_status.toolTip()
    assert re.fullmatch(r"0 / 2,048 tokens", page.composer.meter.text())


def test_a_model_that_fails_to_load_is_explained_in_the_page(
    store: Store, controller: EngineController, gguf_files: GgufFiles, qtbot: QtBot
) -> None:
    broken = gguf_files.wrong_magic()
    store.add_model(str(broken), "Broken", broken.stat().st_size)
    page = make_page(store, controller, qtbot)
    with qtbot.waitSignal(controller.loadFailed, timeout=TIMEOUT):
        QTest.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
    error = page.error_text()
    assert error is not None and "is not a GGUF model file" in error
    assert page.load_button.text() == "Load"
    page.hide_error()
    with qtbot.waitSignal(controller.loadFailed, timeout=TIMEOUT):
        send_by_keyboard(page, qtbot, "Are you there?")
    assert page.composer.text() == "Are you there?", "nothing was sent: the message is kept"
    error = page.error_text()
    assert error is not None and "is not a GGUF model file" in error
    assert store.list_chats() == []


def test_a_chats_context_past_the_models_limit_is_lowered_and_said(
    store: Store, controller: EngineController, tiny_model: Path, qtbot: QtBot
) -> None:
    store.add_model(str(tiny_model), "Tiny", tiny_model.stat().st_size)
    page = make_page(store, controller, qtbot)
    chat = store.create_chat("Long one", params={"context_length": 16384})
    page.open_chat(chat.id)
    with qtbot.waitSignal(controller.modelLoaded, timeout=TIMEOUT):
        QTest.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
    notice = page.error_text()
    assert notice is not None
    assert "2,048 tokens, the most tiny-llama was trained for" in notice
    assert "this chat's settings asked for 16,384" in notice


def test_a_model_llama_cpp_refuses_shows_its_reason_in_the_page(
    store: Store, controller: EngineController, gguf_files: GgufFiles, qtbot: QtBot
) -> None:
    unknown = gguf_files.tiny("future-arch.gguf", architecture="llama9")
    store.add_model(str(unknown), "Future", unknown.stat().st_size)
    page = make_page(store, controller, qtbot)
    with qtbot.waitSignal(controller.loadFailed, timeout=TIMEOUT):
        QTest.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
    error = page.error_text()
    assert error is not None
    assert "does not support the architecture 'llama9'" in error and "update Hearth" in error
    assert "Failed to load model from file" not in error


def test_context_meter_counts_the_conversation_after_each_answer(
    page: ChatPage, controller: EngineController, qtbot: QtBot
) -> None:
    assert page.composer.meter.text() == "0 / 2,048 tokens"
    send_by_keyboard(page, qtbot, "Count me")
    wait_idle(controller, qtbot)
    match = re.fullmatch(r"([\d,]+) / 2,048 tokens", page.composer.meter.text())
    assert match is not None
    assert int(match.group(1).replace(",", "")) > 24
    assert page.composer.meter.property("level") == "ok"


# ------------------------------------------------------------------ the view
def test_a_markdown_answer_shows_a_table_and_highlighted_code(
    page: ChatPage, store: Store, qtbot: QtBot
) -> None:
    chat = store.create_chat("Markdown")
    add_exchange(store, chat.id, "Show me", MARKDOWN_ANSWER)
    page.open_chat(chat.id)
    answer = store.thread(chat.id)[-1]
    document = widget_for(page, answer).content.document()

    frames = document.rootFrame().childFrames()
    assert any(isinstance(frame, QTextTable) for frame in frames), "a real table"
    text = document.toPlainText()
    assert "Approach" in text and "list.sort" in text
    assert 'by_age = sorted(people, key=lambda p: p["age"])' in text.replace("\xa0", " ")
    assert "ls -la | grep '<tmp>'" in text.replace("\xa0", " "), "raw tags shown as text"
    assert "color:#" in document.toHtml().replace(" ", ""), "highlighted"


def test_the_copy_link_puts_the_raw_code_on_the_clipboard(
    page: ChatPage, store: Store, qtbot: QtBot
) -> None:
    chat = store.create_chat("Copying")
    add_exchange(store, chat.id, "Show me", MARKDOWN_ANSWER)
    page.open_chat(chat.id)
    answer = store.thread(chat.id)[-1]
    card = widget_for(page, answer)
    with qtbot.waitSignal(page.view.copied) as copied:
        click_anchor(card.content, qtbot, "copy:1")
    assert copied.args == ["ls -la | grep '<tmp>'"]
    assert QGuiApplication.clipboard().text() == "ls -la | grep '<tmp>'"

    card.show_actions()
    assert card.copy_button is not None
    with qtbot.waitSignal(page.statusMessage) as status:
        QTest.mouseClick(card.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == MARKDOWN_ANSWER
    assert status.args == ["Copied to the clipboard"]


def test_reasoning_is_folded_and_expands_on_click(
    page: ChatPage, store: Store, qtbot: QtBot
) -> None:
    chat = store.create_chat("Thinking")
    user = store.append_message(chat.id, "user", "Why?")
    answer = store.add_message(chat.id, "assistant", "Because.", parent_id=user.id)
    store.append_text(answer.id, reasoning="Let me think about *why*.")
    page.open_chat(chat.id)
    card = widget_for(page, store.get_message(answer.id))
    assert card.thinking_toggle is not None and card.thinking_box is not None
    assert card.thinking_toggle.isVisibleTo(card)
    assert not card.thinking_box.isVisibleTo(card)
    QTest.mouseClick(card.thinking_toggle, Qt.MouseButton.LeftButton)
    assert card.thinking_box.isVisibleTo(card)
    assert card.thinking_text is not None
    assert "Let me think about why." in card.thinking_text.toPlainText()


def test_stopped_and_failed_answers_say_so_plainly(
    page: ChatPage, store: Store, qtbot: QtBot
) -> None:
    chat = store.create_chat("Endings")
    add_exchange(store, chat.id, "q1", "partial")
    stopped = store.thread(chat.id)[-1]
    store.finish_message(
        stopped.id,
        status="stopped",
        stats=MessageStats(completion_tokens=3, tokens_per_second=12.5, stop_reason="user"),
    )
    add_exchange(store, chat.id, "q2", "")
    failed = store.thread(chat.id)[-1]
    store.finish_message(failed.id, status="error", error="The model ran out of memory.")
    page.open_chat(chat.id)

    stopped_card = widget_for(page, stopped)
    assert stopped_card.stats_label.text() == "Stopped · 3 tokens · 12.5 tok/s"
    failed_card = widget_for(page, failed)
    assert failed_card.stats_label.text().startswith("Failed")
    assert failed_card.error_label.isVisibleTo(failed_card)
    assert failed_card.error_label.text() == "The model ran out of memory."
    failed_card.show_actions()
    assert failed_card.continue_button is not None
    assert failed_card.continue_button.isVisibleTo(failed_card), "the last answer can go on"


def test_streamed_text_is_repainted_in_batches_not_per_token(store: Store, qtbot: QtBot) -> None:
    chat = store.create_chat("Batching")
    user = store.append_message(chat.id, "user", "Go")
    answer = store.add_message(chat.id, "assistant", "", parent_id=user.id, status="streaming")
    view = ChatView()
    qtbot.addWidget(view)
    view.show()
    view.show_thread([user, answer], {})
    view.begin_answer(answer.id)
    card = view.message_widget(answer.id)
    assert card is not None
    renders: list[str] = []
    original = card.show_stream

    def counting(text: str, reasoning: str) -> None:
        renders.append(text)
        original(text, reasoning)

    card.show_stream = counting  # type: ignore[method-assign]
    for i in range(200):
        view.append_delta("answer", f"w{i} ")
    assert renders == [], "nothing repainted per token"
    qtbot.waitUntil(lambda: len(renders) >= 1, timeout=2_000)
    qtbot.wait(80)
    assert len(renders) == 1
    assert card.displayed_text() == "".join(f"w{i} " for i in range(200))


def test_a_theme_switch_while_streaming_shows_all_the_text_streamed_so_far(
    store: Store, qtbot: QtBot
) -> None:
    chat = store.create_chat("Theme")
    user = store.append_message(chat.id, "user", "Go")
    answer = store.add_message(chat.id, "assistant", "Once", parent_id=user.id, status="streaming")
    view = ChatView(theme="light")
    qtbot.addWidget(view)
    view.show()
    view.show_thread([user, answer], {})
    view.begin_answer(answer.id)
    view.append_delta("answer", " upon a time")
    view.set_theme("dark")  # before the next repaint tick
    card = view.message_widget(answer.id)
    assert card is not None and card.theme == "dark"
    assert card.displayed_text() == "Once upon a time"


def test_a_message_card_reports_what_the_user_asks_through_its_own_signals(
    store: Store, qtbot: QtBot
) -> None:
    chat = store.create_chat("Signals")
    user = store.append_message(chat.id, "user", "Show me")
    answer = store.add_message(chat.id, "assistant", MARKDOWN_ANSWER, parent_id=user.id)
    card = MessageWidget(answer, (1, 2), is_last=True, allow_delete=True, source_count=1)
    qtbot.addWidget(card)
    card.resize(700, 500)
    card.show()
    with qtbot.waitSignal(card.copyRequested) as copied:
        click_anchor(card.content, qtbot, "copy:0")
    assert copied.args == ['by_age = sorted(people, key=lambda p: p["age"])']
    with qtbot.waitSignal(card.siblingRequested) as sibling:
        QTest.mouseClick(card.next_button, Qt.MouseButton.LeftButton)
    assert sibling.args == [answer.id, 1]
    card.show_actions()
    assert card.delete_button is not None and card.regenerate_button is not None
    with qtbot.waitSignal(card.deleteRequested) as deleted:
        QTest.mouseClick(card.delete_button, Qt.MouseButton.LeftButton)
    assert deleted.args == [answer.id]
    with qtbot.waitSignal(card.regenerateRequested) as regenerate:
        QTest.mouseClick(card.regenerate_button, Qt.MouseButton.LeftButton)
    assert regenerate.args == [answer.id]


def test_auto_scroll_follows_the_answer_unless_the_user_scrolled_up(
    store: Store, qtbot: QtBot
) -> None:
    chat = store.create_chat("Scrolling")
    for i in range(12):
        add_exchange(store, chat.id, f"question {i}", f"answer {i}\n\n" + "line\n\n" * 6)
    user = store.append_message(chat.id, "user", "last")
    answer = store.add_message(chat.id, "assistant", "", parent_id=user.id, status="streaming")
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    view.show_thread(store.thread(chat.id), {})
    bar = view.scroll_area.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())
    view.begin_answer(answer.id)
    for _ in range(5):
        view.append_delta("answer", "more text\n\n" * 5)
        qtbot.wait(70)
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())
    assert view.following

    bar.setValue(bar.maximum() // 2)  # the user scrolls up to read
    assert not view.following
    held = bar.value()
    view.append_delta("answer", "even more\n\n" * 10)
    qtbot.wait(120)
    assert bar.value() == held
    assert bar.maximum() > held


def test_scroll_to_message_builds_older_pages_and_highlights_it(
    page: ChatPage, store: Store, qtbot: QtBot
) -> None:
    chat = store.create_chat("Long")
    for i in range(60):
        add_exchange(store, chat.id, f"question {i}", f"answer {i}")
    page.open_chat(chat.id)
    assert page.view.built_count() == PAGE_SIZE
    assert page.view.load_older_button.isVisibleTo(page.view)
    first = store.thread(chat.id)[0]
    assert page.view.scroll_to_message(first.id)
    card = widget_for(page, first)
    assert card.bubble.property("highlighted") is True
    assert page.view.built_count() == 120
    assert not page.view.load_older_button.isVisibleTo(page.view)


def test_a_chat_of_2000_messages_opens_building_only_its_last_page(
    page: ChatPage, store: Store, qtbot: QtBot
) -> None:
    chat = store.create_chat("Very long")
    for i in range(1000):
        add_exchange(
            store,
            chat.id,
            f"Question {i}: how about **this**?",
            f"Answer {i} with a list:\n\n- one\n- two\n\n```python\nprint({i})\n```\n",
        )
    assert store.message_count(chat.id) == 2000

    # How long it takes is measured by bench/bench_gui.py; what keeps it fast is that
    # only the last page of messages is built.
    page.open_chat(chat.id)
    QApplication.processEvents()  # layout and first paint of what is built
    assert page.view.built_count() == PAGE_SIZE
    last = store.thread(chat.id)[-1]
    bar = page.view.scroll_area.verticalScrollBar()
    # Layout of the built pages can take seconds on a loaded machine: wait, don't time.
    qtbot.waitUntil(lambda: 0 < bar.maximum() == bar.value(), timeout=30_000)
    assert widget_for(page, last).isVisible()

    # Reaching the top builds the previous page above, and what was on screen stays put.
    oldest_built = widget_for(page, store.thread(chat.id)[-PAGE_SIZE])
    bar.setValue(0)
    on_screen = oldest_built.y()
    assert page.view.built_count() == 2 * PAGE_SIZE
    qtbot.waitUntil(lambda: bar.value() > 0, timeout=30_000)
    qtbot.waitUntil(lambda: abs(oldest_built.y() - bar.value() - on_screen) <= 2, timeout=30_000)


def test_a_new_chat_shows_the_empty_state(page: ChatPage) -> None:
    page.open_chat(None)
    assert page.current_chat_id is None
    assert page.view.empty_label.isVisibleTo(page.view)
    assert page.title_label.text() == "New chat"


def test_deleting_an_answer_removes_it_and_shows_the_other_version(
    page: ChatPage, store: Store, qtbot: QtBot
) -> None:
    chat = store.create_chat("Versions")
    user = store.append_message(chat.id, "user", "Question")
    kept = store.add_message(chat.id, "assistant", "First answer", parent_id=user.id)
    dropped = store.add_message(chat.id, "assistant", "Second answer", parent_id=user.id)
    page.open_chat(chat.id)
    card = widget_for(page, dropped)
    card.show_actions()
    assert card.delete_button is not None
    QTest.mouseClick(card.delete_button, Qt.MouseButton.LeftButton)
    assert [m.id for m in store.thread(chat.id)] == [user.id, kept.id]
    assert page.view.message_widget(dropped.id) is None
    assert widget_for(page, kept).displayed_text() == "First answer"


def test_a_blank_message_is_refused_in_words_and_nothing_is_sent(
    page: ChatPage, controller: EngineController, store: Store, qtbot: QtBot
) -> None:
    composer = page.composer
    assert not composer.send_button.isEnabled(), "nothing typed: nothing to send"
    send_by_keyboard(page, qtbot, "   \n  ")
    assert composer.hint_text() == "The message is empty: type something to send"
    assert not composer.send_button.isEnabled()
    assert not controller.busy
    assert store.list_chats() == [] and page.current_chat_id is None
    QTest.keyClicks(composer.edit, "now a question")
    assert composer.send_button.isEnabled()
    assert composer.hint_text() is None, "the hint goes once there is something to send"


def test_the_context_meter_moves_while_an_answer_streams(
    page: ChatPage, controller: EngineController, store: Store, qtbot: QtBot
) -> None:
    assert page.composer.meter.text() == "0 / 2,048 tokens"
    seen: list[str] = []
    controller.textDelta.connect(lambda *_: seen.append(page.composer.meter.text()))
    send_by_keyboard(page, qtbot, "Count while you write")
    wait_idle(controller, qtbot)
    assert seen and seen[0] != "0 / 2,048 tokens", "the question counts as soon as it is sent"
    answer = store.thread(page.current_chat_id or 0)[-1]
    used = (answer.stats.prompt_tokens or 0) + (answer.stats.completion_tokens or 0)
    assert page.composer.meter.text() == f"{used:,} / 2,048 tokens"


def test_token_counts_read_as_words_one_token_many_tokens() -> None:
    one = Message(1, 1, None, "assistant", "Hi", "", "done", None, None, 0.0,
                  MessageStats(5, 1, 10.0, 0.0, "eos"))  # fmt: skip
    assert "1 token" in stats_text(one) and "1 tokens" not in stats_text(one)
