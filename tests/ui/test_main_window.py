"""The desktop window, driven headless through pytest-qt."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.context import Context
from ui.application import build_window, create_application
from ui.theme import effective_theme


def test_first_launch_window_shows_an_empty_library(ctx: Context, qtbot: QtBot) -> None:
    window = build_window(ctx, create_application())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.windowTitle() == "Hearth"
    assert not window.windowIcon().isNull(), "the bundled icon was found"
    assert window.title_label.text() == "Welcome to Hearth"
    assert "no models" in window.body_label.text()
    assert str(ctx.models_dir) in window.hint_label.text()
    assert window.statusBar().currentMessage().startswith("llama.cpp 0.3.36 · CPU")


def test_window_counts_models_already_in_the_library(ctx: Context, qtbot: QtBot) -> None:
    ctx.store.add_model("/m/a.gguf", "a", 1)
    ctx.store.add_model("/m/b.gguf", "b", 1)
    window = build_window(ctx, create_application())
    qtbot.addWidget(window)
    assert window.body_label.text() == "2 model(s) in your library."


def test_theme_setting_picks_the_style_sheet(ctx: Context, qtbot: QtBot) -> None:
    app = create_application()
    ctx.store.set_setting("theme", "dark")
    qtbot.addWidget(build_window(ctx, app))
    assert app.property("hearthTheme") == "dark"
    assert "#1b1722" in app.styleSheet()
    ctx.store.set_setting("theme", "light")
    qtbot.addWidget(build_window(ctx, app))
    assert "#faf8f6" in app.styleSheet()
    assert effective_theme("system") in ("light", "dark")


def test_welcome_text_is_not_clipped(ctx: Context, qtbot: QtBot) -> None:
    window = build_window(ctx, create_application())
    qtbot.addWidget(window)
    window.resize(1100, 700)
    window.show()
    qtbot.waitExposed(window)
    for label in (window.title_label, window.body_label, window.hint_label):
        assert label.height() >= label.heightForWidth(label.width()), label.text()
