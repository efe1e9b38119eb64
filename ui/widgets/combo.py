"""The drop-down used across Hearth: it draws its own chevron, so a styled box keeps a
visible arrow (a style sheet that styles a QComboBox hides the platform's)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QComboBox, QWidget


class ChevronCombo(QComboBox):
    """A combo box with a chevron in the text colour, ``inset`` pixels from its right edge."""

    def __init__(self, parent: QWidget | None = None, *, inset: float = 16.0) -> None:
        super().__init__(parent)
        self._inset = inset

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = QColor(self.palette().color(QPalette.ColorRole.Text))
        color.setAlphaF(0.55 if self.isEnabled() else 0.3)
        pen = QPen(color, 1.6)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        x = self.width() - self._inset
        y = self.height() / 2.0
        painter.drawPolyline([QPointF(x - 4, y - 2), QPointF(x, y + 2), QPointF(x + 4, y - 2)])
        painter.end()
