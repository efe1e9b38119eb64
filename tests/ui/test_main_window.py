"""The whole window, headless: first launch, navigation, shortcuts, import, state, a real answer."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QAction, QDropEvent, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from app.context import Context
from app.engine.events import GenerationDone
from tests.app import conftest as hub_fixtures
from tests.conftest import GgufFiles
from tests.support.fake_hub import FakeHub
from ui.application import build_window, create_application
from ui.main_window import MainWindow
from ui.theme import effective_theme

fake_hub = hub_fixtures.fake_hub


@pytest.fixture
def window(ctx: Context, qtbot: QtBot) -> Iterator[MainWindow]:
    win = build_window(ctx, create_application())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


def test_first_launch_offers_a_model_and_explains(
    fake_hub: FakeHub, ctx: Context, qtbot: QtBot
) -> None:
    window = build_window(ctx, create_application())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    try:
        assert window.windowTitle() == "Hearth"
        assert not window.windowIcon().isNull(), "the bundled icon was found"
        assert window.pages.currentWidget() is window.welcome
        assert window.welcome.title_label.text() == "Welcome to Hearth"
        qtbot.waitUntil(lambda: window.welcome.find_button.isVisibleTo(window), timeout=10_000)
        assert str(window.ctx.models_dir) in window.welcome.hint_label.text()
    finally:
        window.shutdown()


def test_first_launch_without_a_network_makes_importing_the_main_action(
    window: MainWindow, qtbot: QtBot
) -> None:
    welcome = window.welcome
    assert window.pages.currentWidget() is welcome
    qtbot.waitUntil(lambda: welcome.title_label.text() == "You need a model file to start",
                    timeout=10_000)  # fmt: skip
    assert "can't reach the Hugging Face Hub" in welcome.body_label.text()
    assert not welcome.starter_button.isVisibleTo(window), "no download that cannot work"
    assert not welcome.find_button.isVisibleTo(window)
    assert welcome.import_button.isVisibleTo(window)
    assert welcome.import_button.objectName() == "primary"
    assert welcome.retry_button.isVisibleTo(window)
    assert str(window.ctx.models_dir) in window.welcome.hint_label.text()


def test_first_launch_offline_says_a_model_file_is_needed(ctx: Context, qtbot: QtBot) -> None:
    ctx.store.set_setting("offline", True)
    win = build_window(ctx, create_application())
    qtbot.addWidget(win)
    try:
        assert win.welcome.title_label.text() == "You need a model file to start"
        assert not win.welcome.find_button.isVisibleTo(win)
        assert not win.welcome.starter_button.isVisibleTo(win)
    finally:
        win.shutdown()


@pytest.mark.slow
def test_an_offline_first_launch_can_chat_at_once_with_the_starter(
    ctx: Context, gemma_model: Path, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HEARTH_NO_STARTER")
    monkeypatch.setenv("HEARTH_STARTER_FILE", str(gemma_model))  # as a bundle ships it
    ctx.store.set_setting("offline", True)
    ctx.store.set_setting("temperature", 0.0)
    ctx.store.set_setting("max_tokens", 12)
    win = build_window(ctx, create_application())
    qtbot.addWidget(win)
    win.show()
    try:
        welcome = win.welcome
        qtbot.waitUntil(lambda: welcome.chat_now_button.isVisibleTo(win), timeout=20_000)
        assert win.pages.currentWidget() is welcome, "the starter alone keeps the welcome page"
        assert welcome.title_label.text() == "Welcome to Hearth: you can chat now"
        assert "get a model that fits this computer" in welcome.body_label.text()
        assert welcome.chat_now_button.text() == "Chat now with Gemma 3 270M (starter)"
        assert welcome.chat_now_button.objectName() == "primary"
        assert welcome.import_button.isVisibleTo(win), "a real model can still be added"
        with qtbot.waitSignal(win.engine.modelLoaded, timeout=20_000):
            welcome.chat_now_button.click()
        assert win.pages.currentWidget() is win.chat_page
        with qtbot.waitSignal(win.engine.generationDone, timeout=30_000) as done:
            win.chat_page.send("What is the capital of France?")
        answer: GenerationDone = done.args[0]
        assert "Paris" in answer.answer
    finally:
        win.shutdown()


def test_welcome_text_is_not_clipped(window: MainWindow) -> None:
    window.resize(1100, 700)
    for label in (window.welcome.title_label, window.welcome.body_label,
                  window.welcome.hint_label):  # fmt: skip
        assert label.height() >= label.heightForWidth(label.width()), label.text()


def test_dropping_a_gguf_on_the_window_imports_it(
    window: MainWindow, tiny_model: Path, qtbot: QtBot
) -> None:
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(tiny_model))])
    event = QDropEvent(
        QPoint(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    window.dropEvent(event)
    qtbot.waitUntil(lambda: bool(window.ctx.store.list_models()), timeout=10_000)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.chat_page, timeout=5_000)


def test_new_chat_shortcut_and_search_focus(window: MainWindow, qtbot: QtBot) -> None:
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.chat_page.current_chat_id is not None, timeout=5_000)
    assert window.pages.currentWidget() is window.chat_page
    assert len(window.ctx.store.list_chats()) == 1
    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.sidebar.search_field.hasFocus(), timeout=2_000)


def test_window_state_and_last_chat_are_restored(ctx: Context, qtbot: QtBot) -> None:
    app = create_application()
    first = build_window(ctx, app)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    chat = ctx.store.create_chat("Keep me open")
    first.open_chat(chat.id)
    first.shutdown()
    assert (ctx.paths.home / "ui-state.ini").exists()
    second = build_window(ctx, app)
    qtbot.addWidget(second)
    try:
        assert second.chat_page.current_chat_id == chat.id
        assert second.pages.currentWidget() is second.chat_page
    finally:
        second.shutdown()


def test_theme_setting_picks_the_style_sheet(ctx: Context, qtbot: QtBot) -> None:
    app = create_application()
    ctx.store.set_setting("theme", "dark")
    win = build_window(ctx, app)
    qtbot.addWidget(win)
    try:
        assert app.property("hearthTheme") == "dark"
        assert "#1b1722" in app.styleSheet()
        win._settings_changed({"theme": "light"})
        assert "#faf8f6" in app.styleSheet()
        assert effective_theme("system") in ("light", "dark")
    finally:
        win.shutdown()


def test_load_a_library_model_and_get_a_streamed_answer(
    ctx: Context, tiny_model: Path, qtbot: QtBot
) -> None:
    target = ctx.models_dir / "acme" / "tiny.gguf"
    target.parent.mkdir(parents=True)
    shutil.copy(tiny_model, target)
    win = build_window(ctx, create_application())
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: bool(ctx.store.list_models()), timeout=10_000)
        entry = ctx.store.list_models()[0]
        with qtbot.waitSignal(win.engine.modelLoaded, timeout=10_000):
            win.load_model(entry)
        assert "tiny-llama" in win.model_label.text()
        with qtbot.waitSignal(win.engine.generationDone, timeout=20_000) as done:
            win.chat_page.send("Hello there")
        answer: GenerationDone = done.args[0]
        chat_id = win.chat_page.current_chat_id
        assert chat_id is not None
        qtbot.waitUntil(lambda: not win.engine.busy, timeout=5_000)
        assert ctx.store.thread(chat_id)[-1].content == answer.answer
        win.copy_last_answer()
        assert QGuiApplication.clipboard().text() == answer.answer
    finally:
        win.shutdown()


# ------------------------------------------------- the window follows what you do
def _window_with_model(ctx: Context, tiny_model: Path, qtbot: QtBot) -> MainWindow:
    """A shown window whose library holds the tiny model, loaded, answering short and fast."""
    ctx.store.set_setting("temperature", 0.0)
    ctx.store.set_setting("max_tokens", 8)
    target = ctx.models_dir / "acme" / "tiny.gguf"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(tiny_model, target)
    win = build_window(ctx, create_application())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: bool(ctx.store.list_models()), timeout=10_000)
    if win.engine.engine.loaded is None:
        with qtbot.waitSignal(win.engine.modelLoaded, timeout=10_000):
            win.load_model(ctx.store.list_models()[0])
    return win


@pytest.fixture
def loaded(ctx: Context, tiny_model: Path, qtbot: QtBot) -> Iterator[MainWindow]:
    win = _window_with_model(ctx, tiny_model, qtbot)
    yield win
    win.shutdown()


def _send_text(win: MainWindow, text: str) -> None:
    """Type ``text`` in the composer and press Enter."""
    edit = win.chat_page.composer.edit
    edit.setFocus()
    QTest.keyClicks(edit, text)
    QTest.keyClick(edit, Qt.Key.Key_Return)


def _send(win: MainWindow, qtbot: QtBot, text: str) -> None:
    """Send ``text`` from the composer and wait for the answer to end."""
    with qtbot.waitSignal(win.engine.busyChanged, timeout=20_000, check_params_cb=lambda b: not b):
        _send_text(win, text)


def _sidebar_current(win: MainWindow) -> int | None:
    item = win.sidebar.chat_list.currentItem()
    return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))


def _sidebar_title(win: MainWindow, chat_id: int) -> str:
    for row in range(win.sidebar.chat_list.count()):
        item = win.sidebar.chat_list.item(row)
        if item.data(Qt.ItemDataRole.UserRole) == chat_id:
            return item.text()
    raise AssertionError(f"chat {chat_id} is not in the sidebar")


def _follows(win: MainWindow, chat_id: int) -> None:
    """The header, the chat settings panel and the sidebar all show ``chat_id``."""
    title = win.ctx.store.get_chat(chat_id).title
    assert win.chat_page.current_chat_id == chat_id
    assert win.pages.currentWidget() is win.chat_page
    assert win.chat_page.title_label.text() == title
    assert win.chat_panel.chat_id == chat_id
    assert win.chat_panel.isEnabled()
    assert win.chat_panel.subtitle.text() == title
    assert _sidebar_current(win) == chat_id
    assert _sidebar_title(win, chat_id) == title


def _new_chat(win: MainWindow, qtbot: QtBot, how: str = "new chat button") -> int:
    before = win.chat_page.current_chat_id
    if how == "ctrl+n":
        QTest.keyClick(win, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    else:
        QTest.mouseClick(win.sidebar.new_chat_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.chat_page.current_chat_id not in (None, before), timeout=5_000)
    chat_id = win.chat_page.current_chat_id
    assert chat_id is not None
    return chat_id


@pytest.mark.parametrize("how", ["ctrl+n", "new chat button"])
def test_new_chat_takes_its_title_from_the_first_message(
    loaded: MainWindow, qtbot: QtBot, how: str
) -> None:
    chat_id = _new_chat(loaded, qtbot, how)
    _send(loaded, qtbot, "Plan a picnic for Saturday")
    assert loaded.ctx.store.get_chat(chat_id).title == "Plan a picnic for Saturday"
    _follows(loaded, chat_id)


def test_a_renamed_chat_keeps_its_name_and_the_header_follows_the_rename(
    loaded: MainWindow, qtbot: QtBot
) -> None:
    chat_id = _new_chat(loaded, qtbot)
    loaded.sidebar.rename_chat(chat_id)
    editor = loaded.sidebar.chat_list.findChild(QLineEdit)
    assert editor is not None
    editor.selectAll()
    QTest.keyClicks(editor, "Bread plans")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: loaded.ctx.store.get_chat(chat_id).title == "Bread plans")
    assert loaded.chat_page.title_label.text() == "Bread plans"
    assert loaded.chat_panel.subtitle.text() == "Bread plans"
    _send(loaded, qtbot, "How long does dough rise?")
    assert loaded.ctx.store.get_chat(chat_id).title == "Bread plans"
    _follows(loaded, chat_id)


def test_a_chat_started_from_the_welcome_page_is_followed_by_the_panel_and_sidebar(
    loaded: MainWindow, qtbot: QtBot
) -> None:
    assert loaded.chat_page.current_chat_id is None
    _send(loaded, qtbot, "What is a haiku?")
    chat_id = loaded.chat_page.current_chat_id
    assert chat_id is not None
    assert loaded.ctx.store.get_chat(chat_id).title == "What is a haiku?"
    _follows(loaded, chat_id)


def test_a_chat_opened_from_search_is_followed_by_the_panel_and_sidebar(
    loaded: MainWindow, qtbot: QtBot
) -> None:
    store = loaded.ctx.store
    other = store.create_chat("Other")
    wanted = store.create_chat("Wanted")
    store.append_message(wanted.id, "user", "the zebra question")
    loaded.chats.refresh()
    loaded.open_chat(other.id)
    QTest.keyClicks(loaded.sidebar.search_field, "zebra")
    loaded.sidebar.run_search()
    qtbot.waitUntil(lambda: loaded.sidebar.results_list.count() == 1)
    item = loaded.sidebar.results_list.item(0)
    rect = loaded.sidebar.results_list.visualItemRect(item)
    QTest.mouseClick(
        loaded.sidebar.results_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
    )
    qtbot.waitUntil(lambda: loaded.chat_page.current_chat_id == wanted.id)
    loaded.sidebar.search_field.clear()
    _follows(loaded, wanted.id)


def test_the_last_chat_reopened_at_launch_is_followed_by_the_panel_and_sidebar(
    ctx: Context, qtbot: QtBot
) -> None:
    app = create_application()
    chat = ctx.store.create_chat("Keep me open")
    ctx.store.create_chat("Another one")
    first = build_window(ctx, app)
    qtbot.addWidget(first)
    first.open_chat(chat.id)
    first.shutdown()
    second = build_window(ctx, app)
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    try:
        second.panel_action.trigger()
        _follows(second, chat.id)
    finally:
        second.shutdown()


def test_undo_after_deleting_the_open_chat_reopens_it(loaded: MainWindow, qtbot: QtBot) -> None:
    store = loaded.ctx.store
    keep = store.create_chat("Keep")
    doomed = store.create_chat("Doomed")
    store.append_message(doomed.id, "user", "hello there")
    loaded.chats.refresh()
    loaded.open_chat(doomed.id)
    loaded.sidebar.delete_chat(doomed.id)
    assert loaded.chat_page.current_chat_id is None
    assert loaded.chat_panel.chat_id is None
    QTest.mouseClick(loaded.sidebar.undo_button, Qt.MouseButton.LeftButton)
    _follows(loaded, doomed.id)
    assert [m.content for m in loaded.chat_page.view.messages()] == ["hello there"]
    assert keep.id in loaded.sidebar.chat_ids()


# ------------------------------------------------------------- which model is loaded
def _loaded_marks(win: MainWindow) -> list[str]:
    """The library's rows marked as loaded."""
    library = win.models_page.library
    marked = []
    for row in range(library.list.topLevelItemCount()):
        item = library.list.topLevelItem(row)
        holder = library.list.itemWidget(item, 6) if item is not None else None
        texts = [label.text() for label in holder.findChildren(QLabel)] if holder else []
        if item is not None and any("Loaded" in text for text in texts):
            marked.append(item.text(0))
    return marked


def _unload_action(win: MainWindow) -> QAction:
    found = [a for a in win.findChildren(QAction) if a.text() == "Unload the model"]
    assert len(found) == 1
    return found[0]


def test_header_library_and_menu_say_which_model_is_loaded(
    loaded: MainWindow, qtbot: QtBot
) -> None:
    page = loaded.chat_page
    assert page.load_button.text() == "Unload"
    assert page.load_button.isEnabled()
    assert _unload_action(loaded).isEnabled()
    assert _loaded_marks(loaded) == [loaded.ctx.store.list_models()[0].name]
    with qtbot.waitSignal(loaded.engine.modelUnloaded, timeout=10_000):
        QTest.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
    assert loaded.engine.engine.loaded is None
    assert page.load_button.text() == "Load"
    assert not _unload_action(loaded).isEnabled()
    assert _loaded_marks(loaded) == []
    assert loaded.model_label.text() == "No model loaded"


def test_nothing_to_unload_before_a_model_is_loaded(window: MainWindow) -> None:
    assert window.engine.engine.loaded is None
    assert not _unload_action(window).isEnabled()


def test_the_last_model_loads_again_at_launch(ctx: Context, tiny_model: Path, qtbot: QtBot) -> None:
    first = _window_with_model(ctx, tiny_model, qtbot)
    first.shutdown()
    second = build_window(ctx, create_application())
    qtbot.addWidget(second)
    try:
        qtbot.waitUntil(lambda: second.engine.engine.loaded is not None, timeout=10_000)
        qtbot.waitUntil(lambda: second.chat_page.composer.enabled_reason is None, timeout=5_000)
        assert second.chat_page.load_button.text() == "Unload"
        assert _unload_action(second).isEnabled()
    finally:
        second.shutdown()


def test_without_reloading_at_launch_the_first_send_loads_the_model(
    ctx: Context, tiny_model: Path, qtbot: QtBot
) -> None:
    first = _window_with_model(ctx, tiny_model, qtbot)
    first.shutdown()
    ctx.store.set_setting("reload_last_model", False)
    second = build_window(ctx, create_application())
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    try:
        assert second.engine.engine.loaded is None
        assert second.chat_page.load_button.text() == "Load"
        assert second.chat_page.composer.enabled_reason is None, "Send will load the model"
        with qtbot.waitSignal(second.engine.generationDone, timeout=20_000):
            _send_text(second, "Hello after a restart")
        assert second.engine.engine.loaded is not None
        chat_id = second.chat_page.current_chat_id
        assert chat_id is not None
        assert [m.role for m in ctx.store.thread(chat_id)] == ["user", "assistant"]
    finally:
        second.shutdown()


# ----------------------------------------------------------- errors where you act
def test_a_damaged_model_dropped_on_the_chats_page_is_explained_there(
    loaded: MainWindow, gguf_files: GgufFiles, qtbot: QtBot
) -> None:
    chat_id = _new_chat(loaded, qtbot)
    assert loaded.chat_page.drop_paths([gguf_files.truncated()])
    qtbot.waitUntil(lambda: loaded.chat_page.error_text() is not None, timeout=10_000)
    error = loaded.chat_page.error_text()
    assert error is not None and "truncated.gguf" in error and "truncated" in error
    assert loaded.pages.currentWidget() is loaded.chat_page
    assert loaded.chat_page.current_chat_id == chat_id
    assert loaded.models_page.banner.isHidden(), "not left waiting on the Models page"


def test_a_damaged_model_imported_from_the_welcome_page_is_explained_there(
    window: MainWindow, gguf_files: GgufFiles, qtbot: QtBot
) -> None:
    assert window.pages.currentWidget() is window.welcome
    window.import_model_files([gguf_files.wrong_magic()])
    qtbot.waitUntil(lambda: window.welcome.error_text() is not None, timeout=10_000)
    error = window.welcome.error_text()
    assert error is not None and "wrong-magic.gguf" in error
    assert window.models_page.banner.isHidden()


# ------------------------------------------------------------------------ keys
def test_del_on_a_chat_picked_in_the_sidebar_deletes_it_with_undo(
    loaded: MainWindow, qtbot: QtBot
) -> None:
    window = loaded
    store = window.ctx.store
    keep = store.create_chat("Keep")
    doomed = store.create_chat("Doomed")
    window.chats.refresh()
    view = window.sidebar.chat_list
    for row in range(view.count()):
        if view.item(row).data(Qt.ItemDataRole.UserRole) == doomed.id:
            rect = view.visualItemRect(view.item(row))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.chat_page.current_chat_id == doomed.id)
    focused = QApplication.focusWidget()
    assert focused is not None
    with qtbot.waitSignal(window.chats.undoAvailable, timeout=2_000):
        QTest.keyClick(focused, Qt.Key.Key_Delete)
    assert window.sidebar.chat_ids() == [keep.id]
    assert window.sidebar.snackbar.isVisibleTo(window)


def test_the_shortcuts_dialog_lists_every_shortcut_in_aligned_columns(
    window: MainWindow,
) -> None:
    dialog = window.shortcuts_dialog()
    rows = dialog.rows()
    keys = [keys for keys, _what in rows]
    for wanted in ("Ctrl+N", "Ctrl+F", "Ctrl+,", "Ctrl+L", "Ctrl+Shift+C", "Ctrl+Shift+O",
                   "Ctrl+Q", "Esc", "Del"):  # fmt: skip
        assert any(wanted == k or k.startswith(wanted + " ") for k in keys), wanted
    dialog.show()
    xs = {label.x() for label in dialog.what_labels}
    assert len(xs) == 1, "the descriptions start in one column"
    dialog.close()


# ------------------------------------------------------------------ room for text
def _clipped(root: QWidget) -> list[str]:
    """Visible texts under ``root`` that do not fit their widget (elided labels aside)."""
    found = []
    for label in root.findChildren(QLabel):
        if not label.isVisibleTo(root) or not label.text() or label.pixmap() is not None:
            continue
        if label.wordWrap():
            if label.height() < label.heightForWidth(label.width()):
                found.append(label.text())
        elif label.width() < label.sizeHint().width() and not label.toolTip():
            found.append(label.text())
    for edit in root.findChildren(QLineEdit):
        hint = edit.placeholderText()
        if edit.isVisibleTo(root) and hint and not edit.text():
            room = edit.width() - 16  # the frame and text margins
            if edit.fontMetrics().horizontalAdvance(hint) > room:
                found.append(hint)
    return found


def test_with_chat_settings_open_at_the_default_size_no_text_is_cut(
    loaded: MainWindow, qtbot: QtBot
) -> None:
    title = "Sorting a list of dicts in Python by a key"
    chat = loaded.ctx.store.create_chat(title)
    loaded.chats.refresh()
    loaded.open_chat(chat.id)
    loaded.resize(loaded.default_size())
    loaded.panel_action.trigger()
    qtbot.waitUntil(lambda: loaded.chat_panel.isVisible())
    qtbot.wait(50)  # let the layouts settle after the panel opened
    header = loaded.chat_page.title_label
    shown = header.fontMetrics().horizontalAdvance(title[:24] + "…")
    assert header.width() >= shown, "the title keeps room for its words"
    assert header.toolTip() == title
    assert _clipped(loaded.chat_panel) == []
    assert _clipped(loaded.chat_page.header) == []
    documents = loaded.chat_page.documents_panel
    assert documents is not None
    documents.set_last_mode("whole")
    documents.show()
    qtbot.wait(50)
    assert _clipped(documents) == []
