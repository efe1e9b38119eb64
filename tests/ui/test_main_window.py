"""The whole window, headless: first launch, navigation, shortcuts, import, state, a real answer."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.context import Context
from app.engine import GenerationDone
from ui.application import build_window, create_application
from ui.main_window import MainWindow
from ui.theme import effective_theme


@pytest.fixture
def window(ctx: Context, qtbot: QtBot) -> Iterator[MainWindow]:
    win = build_window(ctx, create_application())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


def test_first_launch_offers_a_model_and_explains(window: MainWindow) -> None:
    assert window.windowTitle() == "Hearth"
    assert not window.windowIcon().isNull(), "the bundled icon was found"
    assert window.pages.currentWidget() is window.welcome
    assert window.welcome.title_label.text() == "Welcome to Hearth"
    assert window.welcome.find_button.isVisibleTo(window)
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
