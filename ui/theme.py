"""Light and dark style sheets from resources/, chosen by the theme setting or the system."""

from __future__ import annotations

from importlib.resources import files

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from resources import resource_text


def effective_theme(setting: str) -> str:
    """'light' or 'dark': the setting, or the system's colour scheme when it says 'system'."""
    if setting in ("light", "dark"):
        return setting
    scheme = QGuiApplication.styleHints().colorScheme()
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def style_sheet(theme: str) -> str:
    """The theme's base sheet followed by each component's (``styles/<theme>-*.qss``)."""
    names = sorted(
        entry.name
        for entry in files("resources").joinpath("styles").iterdir()
        if entry.name.startswith(f"{theme}-") and entry.name.endswith(".qss")
    )
    return "\n".join(resource_text(f"styles/{name}") for name in [f"{theme}.qss", *names])


def apply_theme(app: QApplication, setting: str) -> str:
    theme = effective_theme(setting)
    app.setStyleSheet(style_sheet(theme))
    app.setProperty("hearthTheme", theme)
    return theme


def repolish(widget: QWidget) -> None:
    """Apply style sheet rules that depend on a dynamic property just changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()
