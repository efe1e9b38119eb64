"""The first-launch page: what Hearth needs (a model) and the ways to get one."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.models.catalog import FirstLaunch
from app.units import format_bytes
from resources import resource_path
from ui.theme import repolish


def _label(text: str, object_name: str) -> QLabel:
    label = QLabel(text, wordWrap=True)
    label.setObjectName(object_name)
    return label


class WelcomePage(QWidget):
    findRequested = Signal()
    importRequested = Signal()
    retryRequested = Signal()  # check again whether the hub can be reached
    starterRequested = Signal(str, str)  # repo id, file name
    chatNowRequested = Signal(int)  # the library id of the starter model to chat with

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("welcomePage")
        card = QFrame()
        card.setObjectName("emptyCard")
        card.setFixedWidth(580)  # a fixed width lets the wrapped labels get their full height
        layout = QVBoxLayout(card)
        layout.setContentsMargins(36, 32, 36, 32)
        layout.setSpacing(10)
        icon = QLabel()
        icon.setPixmap(QIcon(str(resource_path("icons/hearth.svg"))).pixmap(QSize(64, 64)))
        layout.addWidget(icon)
        layout.addSpacing(6)
        self.title_label = _label("", "emptyTitle")
        self.body_label = _label("", "emptyBody")
        self.hint_label = _label("", "emptyHint")
        self.hint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label = _label("", "emptyHint")  # checking the network
        self.error_label = _label("", "welcomeError")  # an import that failed, in words
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        for widget in (self.title_label, self.body_label, self.status_label):
            layout.addWidget(widget)
        layout.addSpacing(8)

        self.chat_now_button = QPushButton()
        self.chat_now_button.setObjectName("primary")
        self.starter_button = QPushButton()
        self.starter_button.setObjectName("primary")
        self.find_button = QPushButton("Find a model on the Hugging Face Hub")
        self.import_button = QPushButton("Import a .gguf file…")
        self.retry_button = QPushButton("Check the connection again")
        for button in (self.chat_now_button, self.starter_button, self.import_button,
                       self.find_button, self.retry_button):  # fmt: skip
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            layout.addWidget(button)
        layout.addWidget(self.error_label)
        layout.addSpacing(6)
        layout.addWidget(self.hint_label)
        self.find_button.clicked.connect(self.findRequested.emit)
        self.import_button.clicked.connect(self.importRequested.emit)
        self.retry_button.clicked.connect(self.retryRequested.emit)
        self.starter_button.clicked.connect(self._starter_clicked)
        self.chat_now_button.clicked.connect(self._chat_now_clicked)
        self._starter: tuple[str, str] | None = None
        self._ready_model: int | None = None

        # Stretches rather than an alignment flag: an aligned widget loses height-for-width,
        # and wrapped text would be clipped.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

    def show_advice(
        self,
        advice: FirstLaunch,
        *,
        models_dir: str,
        data_home: str,
        ready_model: tuple[int, str] | None = None,
    ) -> None:
        """``ready_model``: (library id, name) of a model to chat with now (the starter)."""
        self._ready_model = ready_model[0] if ready_model else None
        self.chat_now_button.setVisible(ready_model is not None)
        if ready_model is not None:
            self.chat_now_button.setText(f"Chat now with {ready_model[1]}")
        self.title_label.setText(advice.title)
        self.body_label.setText(advice.body)
        self.status_label.setText(
            "Checking whether the Hugging Face Hub can be reached…" if advice.checking else ""
        )
        self.status_label.setVisible(advice.checking)
        self.retry_button.setVisible(advice.offer_retry)
        self.find_button.setVisible(advice.offer_hub)
        starter = advice.starter
        self._starter = (starter.repo_id, starter.filename) if starter else None
        self.starter_button.setVisible(starter is not None)
        if starter is not None:
            self.starter_button.setText(
                f"Get {starter.label} (about {format_bytes(starter.approx_bytes)}): "
                "fits this computer"
            )
        self.starter_button.setObjectName("" if ready_model else "primary")
        repolish(self.starter_button)
        self.import_button.setObjectName("" if starter or ready_model else "primary")
        repolish(self.import_button)
        self.hint_label.setText(f"Models folder: {models_dir}\nData folder: {data_home}")

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def hide_error(self) -> None:
        self.error_label.hide()

    def error_text(self) -> str | None:
        return self.error_label.text() if self.error_label.isVisibleTo(self) else None

    def _chat_now_clicked(self) -> None:
        if self._ready_model is not None:
            self.chatNowRequested.emit(self._ready_model)

    def _starter_clicked(self) -> None:
        if self._starter is not None:
            self.starterRequested.emit(*self._starter)
