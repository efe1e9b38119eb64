"""Dialogs Qt draws itself (file dialogs where there is no platform one, as under X11
without a desktop) follow the theme: readable text in the dark theme as in the light."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractItemView, QFileDialog, QHeaderView, QLabel, QWidget
from pytestqt.qtbot import QtBot

from ui.application import create_application
from ui.theme import apply_theme


def contrast(a: QColor, b: QColor) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""

    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return (
            0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())
        )

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.fixture(params=["dark", "light"])
def theme(request: pytest.FixtureRequest) -> Iterator[str]:
    app = create_application()
    apply_theme(app, str(request.param))
    yield str(request.param)
    apply_theme(app, "light")


def _readable(widget: QWidget, text: QPalette.ColorRole, ground: QPalette.ColorRole) -> float:
    palette = widget.palette()
    return contrast(palette.color(text), palette.color(ground))


def test_file_dialog_text_is_readable_in_the_theme(theme: str, qtbot: QtBot) -> None:
    dialog = QFileDialog(None, "Import GGUF models", "", "GGUF models (*.gguf)")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    labels = [label for label in dialog.findChildren(QLabel) if label.isVisible()]
    assert any("Look in" in label.text() for label in labels)
    for label in labels:
        ratio = _readable(label, QPalette.ColorRole.WindowText, QPalette.ColorRole.Window)
        assert ratio >= 4.5, f"{label.text()!r} in the {theme} theme: contrast {ratio:.1f}"
    views = [v for v in dialog.findChildren(QAbstractItemView) if v.isVisible()]
    assert views
    for view in views:
        ratio = _readable(view, QPalette.ColorRole.Text, QPalette.ColorRole.Base)
        assert ratio >= 4.5, f"{view.objectName()} in the {theme} theme: contrast {ratio:.1f}"
    for header in dialog.findChildren(QHeaderView):
        if header.isVisible():
            ratio = _readable(header, QPalette.ColorRole.ButtonText, QPalette.ColorRole.Button)
            assert ratio >= 4.5, f"column headers in the {theme} theme: contrast {ratio:.1f}"
    dialog.close()
