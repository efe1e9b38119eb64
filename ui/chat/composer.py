"""Where the user writes: a growing text box (Enter sends, Shift+Enter breaks the line,
Esc stops), a Send button that turns into Stop, and the context meter."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QFontMetricsF,
    QKeyEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.chat.titles import BlankMessageError, is_blank, require_text
from ui.theme import repolish

DEFAULT_PLACEHOLDER = "Message Hearth…  (Enter to send, Shift+Enter for a new line)"


class PromptEdit(QPlainTextEdit):
    """Plain text input that grows with its text (up to ``max_lines``) and reports keys:
    Enter → ``submitted``, Esc → ``escapePressed``, Up in an empty box → ``upWhenEmpty``."""

    submitted = Signal()
    escapePressed = Signal()
    upWhenEmpty = Signal()

    def __init__(self, parent: QWidget | None = None, *, min_lines: int = 1, max_lines: int = 8):
        super().__init__(parent)
        self._min_lines = min_lines
        self._max_lines = max_lines
        self.setTabChangesFocus(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self._fit()

    def event(self, event: QEvent) -> bool:
        # Claim Enter and Esc before any window shortcut does: they are this box's keys.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        modifiers = event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if modifiers & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")  # a real line break, not Qt's U+2028 separator
            else:
                self.submitted.emit()
            event.accept()
            return
        if key == Qt.Key.Key_Escape:
            self.escapePressed.emit()
            event.accept()
            return
        if key == Qt.Key.Key_Up and not self.toPlainText():
            self.upWhenEmpty.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def text(self) -> str:
        return self.toPlainText()

    def _fit(self, *_: object) -> None:
        # QPlainTextEdit's document height is counted in lines.
        lines = max(
            self._min_lines, min(self._max_lines, math.ceil(self.document().size().height()))
        )
        line_height = QFontMetricsF(self.font()).lineSpacing()
        margins = self.contentsMargins()
        height = (
            lines * line_height
            + 2 * self.document().documentMargin()
            + margins.top()
            + margins.bottom()
        )
        self.setFixedHeight(math.ceil(height))
        self.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAsNeeded
            if self.document().size().height() > self._max_lines
            else Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        )

    # Dropped files are not text to type: leave them to the page (it adds documents).
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.ignore()
            return
        super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasUrls():
            event.ignore()
            return
        super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if event.mimeData().hasUrls():
            event.ignore()
            return
        super().dropEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()


class Composer(QWidget):
    """The message box under the conversation."""

    sendRequested = Signal(str)
    stopRequested = Signal()
    editLastRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self._busy = False
        self._reason: str | None = None

        self.box = QFrame()
        self.box.setObjectName("composerBox")
        self.edit = PromptEdit()
        self.edit.setObjectName("composerInput")
        self.edit.setPlaceholderText(DEFAULT_PLACEHOLDER)
        self.edit.submitted.connect(self._submit)
        self.edit.escapePressed.connect(self._escape)
        self.edit.upWhenEmpty.connect(self.editLastRequested.emit)
        self.edit.installEventFilter(self)
        self.edit.textChanged.connect(self._text_changed)

        # Why nothing was sent (a blank message), under the box until there is text.
        self.hint = QLabel()
        self.hint.setObjectName("composerHint")
        self.hint.hide()

        self.meter = QLabel()
        self.meter.setObjectName("contextMeter")
        self.meter.setProperty("level", "ok")
        self.meter.setToolTip("How much of the model's context this conversation uses")
        self.meter.hide()

        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.setProperty("busy", False)
        self.send_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.send_button.clicked.connect(self._button_clicked)
        self.send_button.setMinimumWidth(84)

        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.meter)
        bottom.addWidget(self.hint)
        bottom.addStretch(1)
        bottom.addWidget(self.send_button)

        inner = QVBoxLayout(self.box)
        inner.setContentsMargins(14, 10, 10, 10)
        inner.setSpacing(6)
        inner.addWidget(self.edit)
        inner.addLayout(bottom)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.box)

    # ----------------------------------------------------------------- state
    @property
    def busy(self) -> bool:
        return self._busy

    def text(self) -> str:
        return self.edit.toPlainText()

    def set_text(self, text: str) -> None:
        self.edit.setPlainText(text)
        self.edit.moveCursor(self.edit.textCursor().MoveOperation.End)

    def set_busy(self, busy: bool) -> None:
        """While the model answers the button stops it; Enter waits (the text is kept)."""
        self._busy = busy
        self.send_button.setText("Stop" if busy else "Send")
        self.send_button.setToolTip("Stop the answer (Esc)" if busy else "Send (Enter)")
        self.send_button.setProperty("busy", busy)
        repolish(self.send_button)
        self._apply_enabled()

    def set_enabled_reason(self, reason: str | None) -> None:
        """None: the user can write. Otherwise the box is disabled and says why."""
        self._reason = reason
        self.edit.setPlaceholderText(reason or DEFAULT_PLACEHOLDER)
        self._apply_enabled()

    @property
    def enabled_reason(self) -> str | None:
        return self._reason

    def set_context_usage(self, used: int, total: int) -> None:
        """Show ``used`` of ``total`` context tokens; amber past 75 %, red past 90 %."""
        if total <= 0:
            self.meter.hide()
            return
        fraction = used / total
        level = "full" if fraction > 0.9 else "warn" if fraction > 0.75 else "ok"
        self.meter.setText(f"{used:,} / {total:,} tokens")
        self.meter.setProperty("level", level)
        repolish(self.meter)
        self.meter.show()

    def clear_context_usage(self) -> None:
        self.meter.hide()

    def focus_input(self) -> None:
        self.edit.setFocus(Qt.FocusReason.OtherFocusReason)

    # ---------------------------------------------------------------- intent
    def hint_text(self) -> str | None:
        """Why the last Enter sent nothing, while it is shown."""
        return self.hint.text() if self.hint.isVisibleTo(self) else None

    def _apply_enabled(self) -> None:
        can_write = self._reason is None
        self.edit.setEnabled(can_write)
        has_text = not is_blank(self.edit.toPlainText())
        self.send_button.setEnabled(self._busy or (can_write and has_text))

    def _text_changed(self) -> None:
        if not is_blank(self.edit.toPlainText()):
            self.hint.hide()
        self._apply_enabled()

    def _submit(self) -> None:
        text = self.edit.toPlainText()
        if self._busy or self._reason is not None:
            return
        try:
            require_text(text)
        except BlankMessageError as exc:
            self.hint.setText(str(exc))
            self.hint.show()
            return
        self.hint.hide()
        self.edit.clear()
        self.sendRequested.emit(text)

    def _escape(self) -> None:
        if self._busy:
            self.stopRequested.emit()

    def _button_clicked(self) -> None:
        if self._busy:
            self.stopRequested.emit()
        else:
            self._submit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The rounded box shows focus for the borderless input inside it.
        if watched is self.edit and isinstance(event, QFocusEvent):
            self.box.setProperty("focused", event.type() == QEvent.Type.FocusIn)
            repolish(self.box)
        return False
