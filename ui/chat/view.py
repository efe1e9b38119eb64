"""One conversation shown as message cards: Markdown answers, folded reasoning, stats,
hover actions, branch arrows, and answers that grow while they stream.

Only the newest messages get widgets when a chat opens (older ones are built when the
user scrolls to the top), so a chat of thousands of messages opens at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QEnterEvent,
    QFontMetrics,
    QGuiApplication,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.chat.rendering import (
    COPY_SCHEME,
    SOURCE_SCHEME,
    code_blocks,
    render_markdown,
    render_uncached,
)
from app.store import Message, SourceRecord
from app.units import plural
from ui.chat.composer import PromptEdit
from ui.documents.panel import SourceChips, SourcePassageDialog
from ui.theme import repolish
from ui.widgets.scroll import vertical_scroll

PAGE_SIZE = 40  # messages given widgets at a time
# Streamed text is re-rendered at most this often. Each render rebuilds the answer's
# HTML on the GUI thread, which on 2 cores takes CPU from llama.cpp: 50 ms cost ~2%
# of generation speed (bench/results/gui.md), 100 ms still reads as smooth.
STREAM_INTERVAL_MS = 100
FOLLOW_SLACK_PX = 32  # "at the bottom" tolerance for auto-scroll
COLUMN_MAX_WIDTH = 860
HIGHLIGHT_MS = 1600

_STOP_WORDS = {
    "eos": "finished",
    "stop_string": "stop sequence",
    "max_tokens": "length limit reached",
    "context_full": "context full",
    "interrupted": "interrupted",
}
_OPENABLE_SCHEMES = ("http", "https", "mailto")


def stats_text(message: Message) -> str:
    """The small print under an answer: status, tokens, speed, first-token time, why it ended."""
    stats = message.stats
    parts: list[str] = []
    if message.status == "stopped":
        parts.append("Stopped")
    elif message.status == "error":
        parts.append("Failed")
    if message.model:
        parts.append(message.model)
    if stats.completion_tokens is not None:
        parts.append(plural(stats.completion_tokens, "token"))
    if stats.tokens_per_second:
        parts.append(f"{stats.tokens_per_second:.1f} tok/s")
    if stats.ttft_ms is not None:
        ttft = stats.ttft_ms
        parts.append(
            f"{ttft:.0f} ms to first token"
            if ttft < 1000
            else f"{ttft / 1000:.1f} s to first token"
        )
    reason = stats.stop_reason
    if (
        reason
        and reason not in ("user", "error")
        and not (reason == "interrupted" and message.status == "stopped")
    ):
        parts.append(_STOP_WORDS.get(reason, reason.replace("_", " ")))
    return " · ".join(parts)


def _can_continue(message: Message) -> bool:
    return message.role == "assistant" and (
        message.status in ("stopped", "error")
        or message.stats.stop_reason in ("max_tokens", "context_full")
    )


class RichText(QTextBrowser):
    """Read-only rich text exactly as tall as its content: no scroll bars, wheel passes on."""

    linkClicked = Signal(str)

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.viewport().setAutoFillBackground(False)
        self._plain: str | None = None
        self._natural_width: int | None = None
        self.document().setDocumentMargin(0)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self.anchorClicked.connect(self._anchor_clicked)
        self.setFixedHeight(0)

    def set_html(self, html: str) -> None:
        self._plain = None
        self.setHtml(html)
        self.document().setDocumentMargin(0)
        self._fit()

    def set_plain(self, text: str) -> None:
        """Plain text (the user's own words, shown as typed); sized to its longest line."""
        self._plain = text
        self._natural_width = None
        self.setPlainText(text)
        self.document().setDocumentMargin(0)
        self.updateGeometry()
        self._fit()

    def _anchor_clicked(self, url: QUrl) -> None:
        self.linkClicked.emit(url.toString())

    def _fit(self, *_: object) -> None:
        height = math.ceil(self.document().size().height())
        if height != self.maximumHeight():
            self.setFixedHeight(height)

    def natural_width(self) -> int:
        if self._plain is None:
            return 480
        if self._natural_width is None:
            self.ensurePolished()
            metrics = QFontMetrics(self.font())
            widest = max(
                (metrics.horizontalAdvance(line) for line in self._plain.split("\n")), default=0
            )
            self._natural_width = widest + 4
        return self._natural_width

    def sizeHint(self) -> QSize:
        return QSize(self.natural_width(), self.maximumHeight())

    def minimumSizeHint(self) -> QSize:
        return QSize(24, self.maximumHeight())

    def wheelEvent(self, event: QWheelEvent) -> None:
        event.ignore()  # the conversation scrolls, never a single message (nor Ctrl+wheel zoom)


@dataclass
class _Stream:
    message_id: int
    base_text: str
    base_reasoning: str
    answer: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)

    def text(self) -> str:
        return self.base_text + "".join(self.answer)

    def reasoning_text(self) -> str:
        return self.base_reasoning + "".join(self.reasoning)


class MessageWidget(QFrame):
    """One message: a bubble (user) or card (assistant) with its footer of stats and actions.

    It knows nothing of the view that holds it: what the user asks for leaves as signals
    (the ChatView forwards them as its own), and what it needs to draw (theme, whether
    Delete is offered, the reasoning's fold, the answer's sources) comes in as arguments.
    """

    editRequested = Signal(int, str)  # user message id, new text
    regenerateRequested = Signal(int)  # answer id
    continueRequested = Signal(int)  # answer id
    deleteRequested = Signal(int)  # message id
    siblingRequested = Signal(int, int)  # message id, -1 | +1
    copyRequested = Signal(str)  # text for the clipboard: the message or one code block
    sourceRequested = Signal(int, int)  # answer id, source number (a chip or citation)
    reasoningToggled = Signal(int, bool)  # message id, unfolded

    def __init__(
        self,
        message: Message,
        sibling: tuple[int, int] | None,
        *,
        is_last: bool,
        theme: str = "light",
        allow_delete: bool = False,
        reasoning_expanded: bool = False,
        source_count: int = 0,
    ) -> None:
        super().__init__()
        self.message = message
        self.sibling = sibling
        self.is_last = is_last
        self.theme = theme
        self.allow_delete = allow_delete
        self.streaming = False
        self._stream: _Stream | None = None  # the growing answer, while streaming
        self._reasoning_expanded = reasoning_expanded
        self._source_count = source_count  # citations [n] up to this become links
        self.editing = False
        self._shown_text: str | None = None
        self._shown_reasoning: str | None = None
        self._actions_built = False
        self.setObjectName("messageRow")
        self.setProperty("role", message.role)
        is_user = message.role == "user"

        self.bubble = QFrame()
        self.bubble.setObjectName("userBubble" if is_user else "assistantCard")
        self.bubble.setProperty("highlighted", False)
        self._body = QVBoxLayout(self.bubble)
        if is_user:
            self._body.setContentsMargins(14, 9, 14, 9)
        else:
            self._body.setContentsMargins(18, 12, 18, 10)
        self._body.setSpacing(6)

        self.thinking_toggle: QToolButton | None = None
        self.thinking_text: RichText | None = None
        self.thinking_box: QFrame | None = None
        self.content = RichText("messageText")
        self.content.linkClicked.connect(lambda href: self._link_clicked("content", href))
        if is_user:
            self.content.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._body.addWidget(self.content)
        self.error_label = QLabel()
        self.error_label.setObjectName("messageError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self._body.addWidget(self.error_label)
        self.sources_box: SourceChips | None = None
        self._editor_box: QWidget | None = None
        self.editor: PromptEdit | None = None

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        if is_user:
            row.addStretch(1)
        row.addWidget(self.bubble)

        # Footer: branch arrows and small print stay; the action buttons show on hover.
        self.footer = QWidget()
        self.footer.setObjectName("messageFooter")
        self.footer.setFixedHeight(24)
        foot = QHBoxLayout(self.footer)
        foot.setContentsMargins(4, 0, 4, 0)
        foot.setSpacing(2)
        self.nav = QWidget()
        self.nav.setObjectName("siblingNav")
        nav = QHBoxLayout(self.nav)
        nav.setContentsMargins(0, 0, 0, 0)
        nav.setSpacing(0)
        self.prev_button = self._tool_button("‹", "Previous version", "siblingButton")
        self.sibling_label = QLabel()
        self.sibling_label.setObjectName("siblingLabel")
        self.next_button = self._tool_button("›", "Next version", "siblingButton")
        self.prev_button.clicked.connect(lambda: self.siblingRequested.emit(self.message.id, -1))
        self.next_button.clicked.connect(lambda: self.siblingRequested.emit(self.message.id, 1))
        for widget in (self.prev_button, self.sibling_label, self.next_button):
            nav.addWidget(widget)
        self.stats_label = QLabel()
        self.stats_label.setObjectName("messageStats")
        self.stats_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.action_bar = QWidget()
        self.action_bar.setObjectName("messageActions")
        policy = self.action_bar.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.action_bar.setSizePolicy(policy)
        self._actions_layout = QHBoxLayout(self.action_bar)
        self._actions_layout.setContentsMargins(0, 0, 0, 0)
        self._actions_layout.setSpacing(2)
        self.action_bar.hide()
        self.copy_button: QToolButton | None = None
        self.edit_button: QToolButton | None = None
        self.regenerate_button: QToolButton | None = None
        self.continue_button: QToolButton | None = None
        self.delete_button: QToolButton | None = None
        if is_user:
            foot.addStretch(1)
            foot.addWidget(self.action_bar)
            foot.addWidget(self.nav)
        else:
            foot.addWidget(self.nav)
            foot.addWidget(self.stats_label, 1)
            foot.addWidget(self.action_bar)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addLayout(row)
        outer.addWidget(self.footer)
        self.set_message(message, sibling, is_last=is_last)

    def _tool_button(self, text: str, tip: str, name: str = "messageAction") -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return button

    # ----------------------------------------------------------------- state
    def set_message(
        self, message: Message, sibling: tuple[int, int] | None, *, is_last: bool
    ) -> None:
        """Show ``message`` (re-rendering only what changed)."""
        self.message = message
        self.sibling = sibling
        self.is_last = is_last
        if not self.streaming:
            self._show_text(message.content, message.reasoning, final=True)
        if message.status == "error" and message.error:
            self.error_label.setText(message.error)
            self.error_label.show()
        else:
            self.error_label.hide()
        if message.role != "user":
            self.stats_label.setText("Writing…" if self.streaming else stats_text(message))
            self.stats_label.setToolTip(self.stats_label.text())
        self.nav.setVisible(sibling is not None and sibling[1] > 1)
        if sibling is not None:
            index, count = sibling
            self.sibling_label.setText(f"{index}/{count}")
            self.prev_button.setEnabled(index > 1)
            self.next_button.setEnabled(index < count)
        self._update_actions()

    def set_sources(self, mode: str, sources: list[SourceRecord]) -> None:
        """Show the documents' passages this answer was given, as clickable chips."""
        if self.sources_box is None:
            self.sources_box = SourceChips()
            self.sources_box.sourceClicked.connect(
                lambda number: self.sourceRequested.emit(self.message.id, number)
            )
            self._body.addWidget(self.sources_box)
        self._source_count = len(sources)
        self.sources_box.set_sources(mode, sources)
        self.sources_box.show()
        if self._shown_text:  # citations already shown become links to their sources
            self.rerender()

    def set_theme(self, theme: str) -> None:
        """Draw the message for the "light" or "dark" theme."""
        if theme != self.theme:
            self.theme = theme
            self.rerender()

    def rerender(self) -> None:
        self._shown_text = self._shown_reasoning = None
        if self.streaming and self._stream is not None:
            self.show_stream(self._stream.text(), self._stream.reasoning_text())
        else:
            self._show_text(self.message.content, self.message.reasoning, final=True)

    def _show_text(self, text: str, reasoning: str, *, final: bool) -> None:
        theme = self.theme
        if text != self._shown_text:
            self._shown_text = text
            if self.message.role == "user":
                self.content.set_plain(text)
            else:
                render = render_markdown if final else render_uncached
                self.content.set_html(render(text, theme, self._source_count))
            self.content.setVisible(bool(text) or self.message.role == "user")
        if reasoning != self._shown_reasoning:
            self._shown_reasoning = reasoning
            self._show_reasoning(reasoning, final=final)

    def _show_reasoning(self, reasoning: str, *, final: bool) -> None:
        if not reasoning.strip():
            if self.thinking_toggle is not None:
                self.thinking_toggle.hide()
                self._show_thinking_box(False)
            return
        if self.thinking_toggle is None or self.thinking_text is None:
            self.thinking_toggle = self._tool_button(
                "", "Show or hide the model's reasoning", "thinkingToggle"
            )
            self.thinking_toggle.setCheckable(True)
            self.thinking_toggle.setChecked(self._reasoning_expanded)
            self.thinking_toggle.toggled.connect(self._thinking_toggled)
            self.thinking_text = RichText("thinkingText")
            self.thinking_text.linkClicked.connect(
                lambda href: self._link_clicked("reasoning", href)
            )
            self.thinking_box = QFrame()
            self.thinking_box.setObjectName("thinkingBox")
            box = QVBoxLayout(self.thinking_box)
            box.setContentsMargins(12, 8, 10, 8)
            box.addWidget(self.thinking_text)
            self._body.insertWidget(0, self.thinking_toggle, 0, Qt.AlignmentFlag.AlignLeft)
            self._body.insertWidget(1, self.thinking_box)
            self._body.insertSpacing(2, 4)
        render = render_markdown if final else render_uncached
        self.thinking_text.set_html(render(reasoning, self.theme))
        self.thinking_toggle.show()
        self._show_thinking_box(self.thinking_toggle.isChecked())
        self._label_thinking()

    def _show_thinking_box(self, expanded: bool) -> None:
        if self.thinking_box is not None:
            self.thinking_box.setVisible(expanded)

    def _label_thinking(self) -> None:
        if self.thinking_toggle is None:
            return
        arrow = "▾" if self.thinking_toggle.isChecked() else "▸"
        thinking_now = self.streaming and not (self._shown_text or "")
        self.thinking_toggle.setText(f"{arrow}  {'Thinking…' if thinking_now else 'Thinking'}")

    def _thinking_toggled(self, expanded: bool) -> None:
        self._reasoning_expanded = expanded
        self.reasoningToggled.emit(self.message.id, expanded)
        self._show_thinking_box(expanded)
        self._label_thinking()

    def set_streaming(self, streaming: bool, stream: _Stream | None = None) -> None:
        """Start (with the ``stream`` the view fills) or end showing a growing answer."""
        self.streaming = streaming
        self._stream = stream if streaming else None
        if streaming:
            self.stats_label.setText("Writing…")
            self.error_label.hide()
        self._label_thinking()
        self._update_actions()

    def show_stream(self, text: str, reasoning: str) -> None:
        self._show_text(text, reasoning, final=False)
        self._label_thinking()

    def displayed_text(self) -> str:
        """The raw text this card currently shows (streamed or stored)."""
        return self._shown_text or ""

    # --------------------------------------------------------------- actions
    def _build_actions(self) -> None:
        if self._actions_built:
            return
        self._actions_built = True
        self.copy_button = self._tool_button("Copy", "Copy this message as Markdown")
        self.copy_button.clicked.connect(lambda: self.copyRequested.emit(self.message.content))
        buttons = [self.copy_button]
        if self.message.role == "user":
            self.edit_button = self._tool_button("Edit", "Edit and resend (a new branch)")
            self.edit_button.clicked.connect(self.start_editing)
            buttons.append(self.edit_button)
        elif self.message.role == "assistant":
            self.regenerate_button = self._tool_button("Regenerate", "Write another answer")
            self.regenerate_button.clicked.connect(
                lambda: self.regenerateRequested.emit(self.message.id)
            )
            self.continue_button = self._tool_button("Continue", "Continue this answer")
            self.continue_button.clicked.connect(
                lambda: self.continueRequested.emit(self.message.id)
            )
            buttons += [self.regenerate_button, self.continue_button]
        if self.allow_delete:
            self.delete_button = self._tool_button("Delete", "Delete this message and its replies")
            self.delete_button.clicked.connect(lambda: self.deleteRequested.emit(self.message.id))
            buttons.append(self.delete_button)
        for button in buttons:
            self._actions_layout.addWidget(button)
        self._update_actions()

    def _update_actions(self) -> None:
        if self.continue_button is not None:
            self.continue_button.setVisible(self.is_last and _can_continue(self.message))
        if self.streaming or self.editing:
            self.action_bar.hide()

    def show_actions(self) -> None:
        if self.streaming or self.editing:
            return
        self._build_actions()
        self.action_bar.show()

    def enterEvent(self, event: QEnterEvent) -> None:
        self.show_actions()
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self.action_bar.hide()
        super().leaveEvent(event)

    # --------------------------------------------------------------- editing
    def start_editing(self) -> None:
        """Replace the bubble's text with an editor (user messages)."""
        if self.message.role != "user" or self.editing:
            return
        self.editing = True
        self.action_bar.hide()
        editor = PromptEdit(min_lines=2, max_lines=14)
        editor.setObjectName("inlineEditor")
        editor.setPlainText(self.message.content)
        editor.submitted.connect(self._save_edit)
        editor.escapePressed.connect(self.stop_editing)
        cancel = QPushButton("Cancel")
        cancel.setObjectName("editCancel")
        cancel.clicked.connect(self.stop_editing)
        save = QPushButton("Save && send")
        save.setObjectName("primary")
        save.clicked.connect(self._save_edit)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(save)
        box = QWidget()
        box_layout = QVBoxLayout(box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.setSpacing(8)
        box_layout.addWidget(editor)
        box_layout.addLayout(buttons)
        self._editor_box = box
        self.editor = editor
        self.content.hide()
        self._body.addWidget(box)
        self.bubble.setMinimumWidth(max(360, int(self.width() * 0.8)))
        editor.setFocus(Qt.FocusReason.OtherFocusReason)
        editor.moveCursor(editor.textCursor().MoveOperation.End)

    def stop_editing(self) -> None:
        if not self.editing:
            return
        self.editing = False
        if self._editor_box is not None:
            self._editor_box.hide()
            self._editor_box.deleteLater()
        self._editor_box = None
        self.editor = None
        self.bubble.setMinimumWidth(0)
        self.content.show()
        self._update_actions()

    def _save_edit(self) -> None:
        if self.editor is None:
            return
        text = self.editor.toPlainText()
        if not text.strip():
            return
        self.stop_editing()
        self.editRequested.emit(self.message.id, text)

    def _link_clicked(self, source: str, href: str) -> None:
        """A link in the text ("content") or the reasoning: a code block's Copy, a citation
        of a source, or a web address (opened in the browser)."""
        scheme, _, rest = href.partition(":")
        if scheme == COPY_SCHEME and rest.isdigit():
            text = self.message.reasoning if source == "reasoning" else self.displayed_text()
            blocks = code_blocks(text)
            index = int(rest)
            if index < len(blocks):
                self.copyRequested.emit(blocks[index])
            return
        if scheme == SOURCE_SCHEME and rest.isdigit():
            self.sourceRequested.emit(self.message.id, int(rest))
            return
        if scheme.lower() in _OPENABLE_SCHEMES:
            QDesktopServices.openUrl(QUrl(href))

    # ---------------------------------------------------------------- layout
    def set_highlighted(self, on: bool) -> None:
        self.bubble.setProperty("highlighted", on)
        repolish(self.bubble)

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self.message.role == "user":
            self.bubble.setMaximumWidth(max(120, int(self.width() * 0.82)))
        super().resizeEvent(event)


class _Content(QWidget):
    """The scrolled column; keeps messages to a readable width, centred."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("chatContent")
        self.column = QVBoxLayout(self)
        self.column.setSpacing(8)
        self._apply_margins(self.width())

    def _apply_margins(self, width: int) -> None:
        side = max(20, (width - COLUMN_MAX_WIDTH) // 2)
        self.column.setContentsMargins(side, 18, side, 24)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._apply_margins(self.width())
        super().resizeEvent(event)


class ChatView(QWidget):
    """A conversation thread. Emits what the user asks for; never touches the store."""

    editRequested = Signal(int, str)  # user message id, new text
    regenerateRequested = Signal(int)  # answer id
    continueRequested = Signal(int)  # answer id
    deleteRequested = Signal(int)  # message id
    siblingRequested = Signal(int, int)  # message id, -1 | +1
    copied = Signal(str)  # the text put on the clipboard
    sourceOpened = Signal(object)  # SourceRecord shown in the passage dialog

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        allow_delete: bool = False,
        theme: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("chatView")
        self.allow_delete = allow_delete
        app = QApplication.instance()
        self.theme = theme or str((app.property("hearthTheme") if app else None) or "light")
        self.page_size = page_size
        self._messages: list[Message] = []
        self._siblings: dict[int, tuple[int, int]] = {}
        self._widgets: dict[int, MessageWidget] = {}
        self._first = 0  # index in _messages of the first message with a widget
        self._follow = True
        self._anchor: tuple[QWidget, int] | None = None
        self._stream: _Stream | None = None
        self._expanded: set[int] = set()
        self._highlighted: MessageWidget | None = None
        self._sources: dict[int, tuple[str, list[SourceRecord]]] = {}
        self.source_dialog: SourcePassageDialog | None = None

        self._stream_timer = QTimer(self)
        self._stream_timer.setSingleShot(True)
        self._stream_timer.setInterval(STREAM_INTERVAL_MS)
        self._stream_timer.timeout.connect(self._flush_stream)
        self._anchor_timer = QTimer(self)
        self._anchor_timer.setSingleShot(True)
        self._anchor_timer.setInterval(400)
        self._anchor_timer.timeout.connect(self._drop_anchor)
        self._highlight_timer = QTimer(self)
        self._highlight_timer.setSingleShot(True)
        self._highlight_timer.setInterval(HIGHLIGHT_MS)
        self._highlight_timer.timeout.connect(self._clear_highlight)

        self._content = _Content()
        self.load_older_button = QPushButton("Show earlier messages")
        self.load_older_button.setObjectName("loadOlder")
        self.load_older_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.load_older_button.clicked.connect(lambda: self.load_older())
        self.load_older_button.hide()
        self.empty_label = QLabel(
            '<p style="font-size: 16pt; font-weight: 600;">Start a conversation</p>'
            "<p>Ask anything. Answers are written on this computer and stay here.</p>"
        )
        self.empty_label.setTextFormat(Qt.TextFormat.RichText)
        self.empty_label.setObjectName("chatEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column = self._content.column
        column.addWidget(self.load_older_button, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.empty_label)
        column.addStretch(1)
        self._fixed_before = 2  # load button, empty label

        self.scroll_area = vertical_scroll(self._content, "chatScroll")
        bar = self.scroll_area.verticalScrollBar()
        bar.rangeChanged.connect(self._range_changed)
        bar.valueChanged.connect(self._value_changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll_area)

    # ------------------------------------------------------------ public API
    def show_thread(
        self,
        messages: list[Message],
        siblings: dict[int, tuple[int, int]],
        sources: dict[int, list[SourceRecord]] | None = None,
    ) -> None:
        """Show ``messages`` (root → leaf); ``siblings``: id → (1-based index, count);
        ``sources``: answer id → the documents' passages it was given.

        Messages already shown keep their widgets (so a new branch or a reply only
        changes what differs); another chat starts afresh with its newest page.
        """
        old = self._messages
        self._siblings = dict(siblings)
        common = 0
        if old and messages and old[0].chat_id == messages[0].chat_id:
            limit = min(len(old), len(messages))
            while common < limit and old[common].id == messages[common].id:
                common += 1
        else:
            self._expanded.clear()
            self._sources.clear()
            self._follow = True
        by_id = {m.id: m for m in messages}
        for message_id, records in (sources or {}).items():
            if message_id in by_id and records:
                mode = str(by_id[message_id].meta.get("documents_mode", "retrieval"))
                self._sources[message_id] = (mode, list(records))
        if not old or common < self._first or (not common and old):
            self._clear_widgets()
            self._messages = list(messages)
            self._first = max(0, len(messages) - self.page_size)
            self._build_range(self._first, len(messages))
        else:
            for message in old[common:]:
                self._remove_widget(message.id)
            self._messages = list(messages)
            last = len(messages) - 1
            for i in range(self._first, common):
                widget = self._widgets[messages[i].id]
                widget.set_message(
                    messages[i], self._siblings.get(messages[i].id), is_last=i == last
                )
                if widget.sources_box is None and messages[i].id in self._sources:
                    widget.set_sources(*self._sources[messages[i].id])
            self._build_range(common, len(messages))
        if self._stream is not None and self._stream.message_id not in self._widgets:
            self._end_stream()
        self._update_chrome()

    def clear(self) -> None:
        self.show_thread([], {})

    def begin_answer(self, message_id: int) -> None:
        """Streamed text for ``message_id`` follows (appended to what it holds: continue)."""
        self._end_stream()
        widget = self._widgets.get(message_id)
        if widget is None:
            return
        self._stream = _Stream(message_id, widget.message.content, widget.message.reasoning)
        widget.set_streaming(True, self._stream)

    def append_delta(self, kind: str, text: str) -> None:
        """More streamed text; shown at the next repaint tick (every ~100 ms), not per token."""
        if self._stream is None:
            return
        (self._stream.reasoning if kind == "reasoning" else self._stream.answer).append(text)
        if not self._stream_timer.isActive():
            self._stream_timer.start()

    def finish_answer(self, message: Message) -> None:
        """The answer as stored, with its stats; streaming ends."""
        if self._stream is not None and self._stream.message_id == message.id:
            self._stream_timer.stop()
            self._stream = None
        for i, shown in enumerate(self._messages):
            if shown.id == message.id:
                self._messages[i] = message
                widget = self._widgets.get(message.id)
                if widget is not None:
                    widget.set_streaming(False)
                    widget.set_message(
                        message,
                        self._siblings.get(message.id),
                        is_last=i == len(self._messages) - 1,
                    )
                break

    def set_sources(self, message_id: int, mode: str, sources: list[SourceRecord]) -> None:
        """The passages an answer was given ("whole" documents or "retrieval")."""
        if not sources:
            return
        self._sources[message_id] = (mode, list(sources))
        widget = self._widgets.get(message_id)
        if widget is not None:
            widget.set_sources(mode, sources)

    def sources_of(self, message_id: int) -> list[SourceRecord]:
        return list(self._sources.get(message_id, ("", []))[1])

    def open_source(self, message_id: int, number: int) -> SourcePassageDialog | None:
        """Show the passage of source ``number`` of an answer in a small dialog."""
        source = next((s for s in self.sources_of(message_id) if s.number == number), None)
        if source is None:
            return None
        if self.source_dialog is not None:
            self.source_dialog.close()
        dialog = SourcePassageDialog(source, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._source_dialog_closed(dialog))
        self.source_dialog = dialog
        dialog.show()
        self.sourceOpened.emit(source)
        return dialog

    def _source_dialog_closed(self, dialog: SourcePassageDialog) -> None:
        if self.source_dialog is dialog:
            self.source_dialog = None

    def scroll_to_message(self, message_id: int) -> bool:
        """Bring a message into view (building older pages as needed) and flash it."""
        index = next((i for i, m in enumerate(self._messages) if m.id == message_id), None)
        if index is None:
            return False
        if index < self._first:
            self.load_older(self._first - index)
        widget = self._widgets[message_id]
        self._follow = False
        self._set_anchor(widget, 48)
        self._clear_highlight()
        self._highlighted = widget
        widget.set_highlighted(True)
        self._highlight_timer.start()
        return True

    def scroll_to_bottom(self) -> None:
        self._follow = True
        self._drop_anchor()
        bar = self.scroll_area.verticalScrollBar()
        bar.setValue(bar.maximum())

    def load_older(self, count: int | None = None) -> int:
        """Build widgets for up to ``count`` (default: a page) older messages, keeping the
        messages on screen where they are."""
        if self._first == 0:
            return 0
        new_first = max(0, self._first - (count or self.page_size))
        anchor = self._widgets.get(self._messages[self._first].id)
        if anchor is not None:
            self._set_anchor(anchor, anchor.y() - self.scroll_area.verticalScrollBar().value())
        built = self._first - new_first
        old_first = self._first
        self._first = new_first
        self._build_range(new_first, old_first)
        self._update_chrome()
        # The anchor's time counts from now: building can take longer than that time on a
        # busy machine, and the layout that moves everything down comes after it.
        if self._anchor is not None:
            self._anchor_timer.start()
        return built

    def start_editing(self, message_id: int) -> bool:
        widget = self._widgets.get(message_id)
        if widget is None or widget.message.role != "user":
            return False
        widget.start_editing()
        self._set_anchor(widget, 48)
        return True

    def last_user_message_id(self) -> int | None:
        return next((m.id for m in reversed(self._messages) if m.role == "user"), None)

    def edit_last_user_message(self) -> bool:
        message_id = self.last_user_message_id()
        return message_id is not None and self.start_editing(message_id)

    def set_theme(self, theme: str) -> None:
        """Re-render every message for the "light" or "dark" theme."""
        if theme == self.theme:
            return
        self.theme = theme
        for widget in self._widgets.values():
            widget.set_theme(theme)

    # --------------------------------------------------------- introspection
    def messages(self) -> list[Message]:
        return list(self._messages)

    def message_widget(self, message_id: int) -> MessageWidget | None:
        return self._widgets.get(message_id)

    def built_count(self) -> int:
        """How many messages have widgets (the rest wait for a scroll to the top)."""
        return len(self._widgets)

    def is_streaming(self, message_id: int) -> bool:
        return self._stream is not None and self._stream.message_id == message_id

    @property
    def following(self) -> bool:
        return self._follow

    # -------------------------------------------------------------- internals
    def _build_range(self, start: int, end: int) -> None:
        column = self._content.column
        last = len(self._messages) - 1
        position = self._fixed_before + (start - self._first)
        for i in range(start, end):
            message = self._messages[i]
            widget = self._new_widget(message, is_last=i == last)
            if message.id in self._sources:
                widget.set_sources(*self._sources[message.id])
            self._widgets[message.id] = widget
            column.insertWidget(position, widget)
            position += 1

    def _new_widget(self, message: Message, *, is_last: bool) -> MessageWidget:
        widget = MessageWidget(
            message,
            self._siblings.get(message.id),
            is_last=is_last,
            theme=self.theme,
            allow_delete=self.allow_delete,
            reasoning_expanded=message.id in self._expanded,
            source_count=len(self.sources_of(message.id)),
        )
        widget.editRequested.connect(self.editRequested)
        widget.regenerateRequested.connect(self.regenerateRequested)
        widget.continueRequested.connect(self.continueRequested)
        widget.deleteRequested.connect(self.deleteRequested)
        widget.siblingRequested.connect(self.siblingRequested)
        widget.copyRequested.connect(self._copy)
        widget.sourceRequested.connect(self.open_source)
        widget.reasoningToggled.connect(self._reasoning_toggled)
        return widget

    def _reasoning_toggled(self, message_id: int, expanded: bool) -> None:
        if expanded:
            self._expanded.add(message_id)
        else:
            self._expanded.discard(message_id)

    def _remove_widget(self, message_id: int) -> None:
        widget = self._widgets.pop(message_id, None)
        if widget is None:
            return
        if widget is self._highlighted:
            self._highlighted = None
        if self._anchor is not None and self._anchor[0] is widget:
            self._anchor = None
        self._content.column.removeWidget(widget)
        widget.hide()
        widget.deleteLater()

    def _clear_widgets(self) -> None:
        self._end_stream()
        for message_id in list(self._widgets):
            self._remove_widget(message_id)
        self._first = 0

    def _update_chrome(self) -> None:
        self.empty_label.setVisible(not self._messages)
        self.load_older_button.setVisible(self._first > 0)
        if self._first > 0:
            self.load_older_button.setText(f"Show earlier messages ({self._first:,} more)")

    def _end_stream(self) -> None:
        self._stream_timer.stop()
        if self._stream is not None:
            widget = self._widgets.get(self._stream.message_id)
            if widget is not None:
                widget.set_streaming(False)
        self._stream = None

    def _flush_stream(self) -> None:
        stream = self._stream
        if stream is None:
            return
        widget = self._widgets.get(stream.message_id)
        if widget is not None:
            widget.show_stream(stream.text(), stream.reasoning_text())

    def _copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(text)

    # Scrolling: follow the answer while the user is at the bottom; keep an anchor still
    # while older messages are inserted above it.
    def _set_anchor(self, widget: QWidget, offset: int) -> None:
        self._anchor = (widget, offset)
        self._anchor_timer.start()
        self._apply_anchor()

    def _apply_anchor(self) -> None:
        if self._anchor is None:
            return
        widget, offset = self._anchor
        self.scroll_area.verticalScrollBar().setValue(widget.y() - offset)

    def _drop_anchor(self) -> None:
        self._anchor = None

    def _range_changed(self, _minimum: int, maximum: int) -> None:
        if self._anchor is not None:
            self._apply_anchor()
            self._anchor_timer.start()  # held while the layout is still settling
        elif self._follow:
            self.scroll_area.verticalScrollBar().setValue(maximum)
        if maximum == 0 and self._first > 0 and self._anchor is None:
            QTimer.singleShot(0, self._fill_viewport)

    def _fill_viewport(self) -> None:
        if self.scroll_area.verticalScrollBar().maximum() == 0 and self._first > 0:
            self.load_older()

    def _value_changed(self, value: int) -> None:
        bar = self.scroll_area.verticalScrollBar()
        if self._anchor is None:
            self._follow = value >= bar.maximum() - FOLLOW_SLACK_PX
        if value == bar.minimum() and self._first > 0 and self._anchor is None and bar.maximum():
            self.load_older()

    def _clear_highlight(self) -> None:
        if self._highlighted is not None:
            self._highlighted.set_highlighted(False)
        self._highlighted = None
