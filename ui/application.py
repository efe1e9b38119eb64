"""Starts the desktop app: the QApplication, theme and main window, fed from an opened Context."""

from __future__ import annotations

import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app import __version__
from app.context import Context
from app.locks import DESKTOP_WORK, AlreadyOpenError
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


def open_desktop(ctx: Context, app: QApplication) -> MainWindow:
    """The desktop's window on this data home, unless another window already has it
    (``AlreadyOpenError``). Answers a crash left half-written stay, marked as stopped;
    answers the command line is still writing are left to it."""
    if not ctx.store.hold(DESKTOP_WORK):
        raise AlreadyOpenError(ctx.paths.home)
    ctx.store.recover_interrupted()
    return build_window(ctx, app)


def run_desktop(ctx: Context) -> int:
    app = create_application()
    try:
        window = open_desktop(ctx, app)
    except AlreadyOpenError as already:
        print(f"hearth: {already}", file=sys.stderr)
        QMessageBox.information(None, "Hearth is already open", str(already))
        return 1
    window.show()
    try:
        return app.exec()
    finally:
        ctx.store.let_go(DESKTOP_WORK)
