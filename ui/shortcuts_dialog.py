"""Help → Keyboard shortcuts: every key and what it does, in two aligned columns."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout, QLabel, QVBoxLayout, QWidget


class ShortcutsDialog(QDialog):
    """Rows of (keys, what they do), the keys in one column and the words in the next."""

    def __init__(self, rows: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcutsDialog")
        self._rows = list(rows)
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(6)
        self.key_labels: list[QLabel] = []
        self.what_labels: list[QLabel] = []
        for row, (keys, what) in enumerate(self._rows):
            key = QLabel(keys)
            key.setObjectName("shortcutKeys")
            text = QLabel(what)
            grid.addWidget(key, row, 0, Qt.AlignmentFlag.AlignLeft)
            grid.addWidget(text, row, 1, Qt.AlignmentFlag.AlignLeft)
            self.key_labels.append(key)
            self.what_labels.append(text)
        grid.setColumnStretch(1, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 14)
        layout.addLayout(grid)
        layout.addSpacing(8)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str]]:
        return list(self._rows)
