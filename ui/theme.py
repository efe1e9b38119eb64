"""Light and dark style sheets from resources/, chosen by the theme setting or the system."""

from __future__ import annotations

from importlib.resources import files

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
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


# The style sheets colour Hearth's own widgets; the palette colours what they don't reach
# (file dialogs, message boxes, item views' bases), so nothing is left light-on-white.
_PALETTES: dict[str, dict[QPalette.ColorRole, str]] = {
    "dark": {
        QPalette.ColorRole.Window: "#1b1722",
        QPalette.ColorRole.WindowText: "#ece6f0",
        QPalette.ColorRole.Base: "#15121b",
        QPalette.ColorRole.AlternateBase: "#211b29",
        QPalette.ColorRole.Text: "#ece6f0",
        QPalette.ColorRole.Button: "#2c2536",
        QPalette.ColorRole.ButtonText: "#ece6f0",
        QPalette.ColorRole.Highlight: "#ff7a3d",
        QPalette.ColorRole.HighlightedText: "#1b1722",
        QPalette.ColorRole.ToolTipBase: "#241e2d",
        QPalette.ColorRole.ToolTipText: "#ece6f0",
        QPalette.ColorRole.PlaceholderText: "#8d8296",
        QPalette.ColorRole.Link: "#ff9460",
        QPalette.ColorRole.Mid: "#43384f",
    },
    "light": {
        QPalette.ColorRole.Window: "#faf8f6",
        QPalette.ColorRole.WindowText: "#1f1b24",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f6f2ee",
        QPalette.ColorRole.Text: "#1f1b24",
        QPalette.ColorRole.Button: "#ffffff",
        QPalette.ColorRole.ButtonText: "#1f1b24",
        QPalette.ColorRole.Highlight: "#ff7a3d",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#1f1b24",
        QPalette.ColorRole.PlaceholderText: "#857b8c",
        QPalette.ColorRole.Link: "#c2410c",
        QPalette.ColorRole.Mid: "#d9d1c9",
    },
}
_DISABLED_TEXT = {"dark": "#6c6274", "light": "#a79fae"}


def theme_palette(theme: str) -> QPalette:
    """The palette of the "light" or "dark" theme."""
    palette = QPalette()
    for role, color in _PALETTES[theme].items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):  # fmt: skip
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(_DISABLED_TEXT[theme]))
    return palette


def apply_theme(app: QApplication, setting: str) -> str:
    theme = effective_theme(setting)
    app.setPalette(theme_palette(theme))
    app.setStyleSheet(style_sheet(theme))
    app.setProperty("hearthTheme", theme)
    return theme


def repolish(widget: QWidget) -> None:
    """Apply style sheet rules that depend on a dynamic property just changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()
