"""Starts the desktop app: the QApplication, theme and main window, fed from an opened Context."""

from __future__ import annotations

import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app import __version__
from app.context import Context
from resources import resource_path
from ui.main_window import MainWindow
from ui.theme import apply_theme


def create_application(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Hearth")
    app.setApplicationDisplayName("Hearth")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("hearth")
    app.setWindowIcon(QIcon(str(resource_path("icons/hearth.svg"))))
    return app


def build_window(ctx: Context, app: QApplication) -> MainWindow:
    theme = apply_theme(app, str(ctx.setting("theme")))
    window = MainWindow(ctx, app)
    window.chat_page.set_theme(theme)
    return window


def run_desktop(ctx: Context) -> int:
    # Answers left half-written by a crash stay, marked as stopped.
    ctx.store.recover_interrupted()
    app = create_application()
    window = build_window(ctx, app)
    window.show()
    return app.exec()
