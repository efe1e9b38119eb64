"""The main window. For now it shows the library's state; chat and browser views come next."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMainWindow, QVBoxLayout, QWidget

from resources import resource_path


@dataclass(frozen=True)
class WindowInfo:
    """Plain data the window shows, gathered by the controller from app/."""

    model_count: int
    models_dir: str
    data_home: str
    engine: str  # e.g. "llama.cpp 0.3.36 · CPU · 2 threads"


class MainWindow(QMainWindow):
    def __init__(self, info: WindowInfo) -> None:
        super().__init__()
        self.setWindowTitle("Hearth")
        self.setWindowIcon(QIcon(str(resource_path("icons/hearth.svg"))))
        self.resize(1100, 720)
        self.setMinimumSize(640, 420)

        card = QFrame()
        card.setObjectName("emptyCard")
        card.setFixedWidth(560)  # a fixed width lets the wrapped labels get their full height
        layout = QVBoxLayout(card)
        layout.setContentsMargins(36, 32, 36, 32)
        layout.setSpacing(10)
        if info.model_count:
            title = "Your models are ready"
            body = f"{info.model_count} model(s) in your library."
        else:
            title = "Welcome to Hearth"
            body = "There are no models in your library yet."
        self.title_label = _label(title, "emptyTitle")
        self.body_label = _label(body, "emptyBody")
        self.hint_label = _label(
            f"Models folder: {info.models_dir}\nData folder: {info.data_home}", "emptyHint"
        )
        self.hint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        icon = QLabel()
        icon.setPixmap(QIcon(str(resource_path("icons/hearth.svg"))).pixmap(QSize(64, 64)))
        layout.addWidget(icon)
        layout.addSpacing(6)
        for widget in (self.title_label, self.body_label, self.hint_label):
            layout.addWidget(widget)

        # Stretches rather than an alignment flag: an aligned widget loses height-for-width,
        # and wrapped text would be clipped.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.setCentralWidget(central)
        self.statusBar().showMessage(info.engine)


def _label(text: str, object_name: str) -> QLabel:
    label = QLabel(text, wordWrap=True)
    label.setObjectName(object_name)
    return label
