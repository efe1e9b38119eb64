"""The chat sidebar: new chat, search over every message, chats grouped by day with
rename and delete (with an undo offer). It forwards intent to the ChatsController and
redraws from its signals."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import (
    Property,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.chat.history import ChatGroup
from app.store import SearchHit
from ui.chat.controller import ChatsController
from ui.widgets.elided_label import ElidedLabel

SEARCH_DELAY_MS = 200
ERROR_SECONDS = 6

_CHAT_ID = Qt.ItemDataRole.UserRole
_HIT = Qt.ItemDataRole.UserRole + 1
_HEADER = Qt.ItemDataRole.UserRole + 2
_MATCH = re.compile(r"\[([^\[\]]*)\]")
_ROLE_WORDS = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}


def snippet_html(snippet: str, color: str) -> str:
    """A search snippet's ``[match]`` marks as highlighted HTML (everything else escaped)."""
    out: list[str] = []
    last = 0
    for found in _MATCH.finditer(snippet):
        out.append(html.escape(snippet[last : found.start()]))
        out.append(
            f'<span style="color:{color}; font-weight:600">{html.escape(found.group(1))}</span>'
        )
        last = found.end()
    out.append(html.escape(snippet[last:]))
    return "".join(out).replace("\n", " ")


class _ChatDelegate(QStyledItemDelegate):
    """Gives the inline rename editor the whole row, not just the text's padded box."""

    def updateEditorGeometry(
        self,
        editor: QWidget,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        editor.setGeometry(option.rect.adjusted(2, 1, -2, -1))


class _ChatList(QListWidget):
    """The chat list; Delete asks to delete the current chat (F2 renames, as in any list)."""

    deletePressed = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        item = self.currentItem()
        chat_id = item.data(_CHAT_ID) if item is not None else None
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and chat_id is not None:
            self.deletePressed.emit(int(chat_id))
            return
        super().keyPressEvent(event)


class _ResultsList(QListWidget):
    """Search hits drawn as item widgets whose height follows the list's width."""

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_items()

    def fit_items(self) -> None:
        width = self.viewport().width()
        for row in range(self.count()):
            item = self.item(row)
            widget = self.itemWidget(item)
            if widget is None:
                continue
            height = widget.heightForWidth(width)
            if height < 0:
                height = widget.sizeHint().height()
            item.setSizeHint(QSize(width, height))


class Sidebar(QFrame):
    """New chat, search, the chats grouped by day, and the undo offer after a delete.

    ``chatSelected(chat_id)`` when the user picks a chat; ``messageSelected(chat_id,
    message_id)`` when they pick a search hit.
    """

    chatSelected = Signal(int)
    messageSelected = Signal(int, int)

    def __init__(self, controller: ChatsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setMinimumWidth(240)
        self._controller = controller
        self._match_color = "#ff7a3d"
        self._current_chat_id: int | None = None
        self._populating = False

        self.new_chat_button = QPushButton("+  New chat")
        self.new_chat_button.setObjectName("newChatButton")
        self.new_chat_button.setToolTip("Start a new chat")
        self.new_chat_button.clicked.connect(self._new_chat)

        self.search_field = QLineEdit()
        self.search_field.setObjectName("sidebarSearch")
        self.search_field.setPlaceholderText("Search chats")
        self.search_field.setToolTip("Search every message (Ctrl+F)")
        self.search_field.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.run_search)
        self.search_field.textChanged.connect(self._search_text_changed)
        self.search_field.returnPressed.connect(self.run_search)

        self.chat_list = _ChatList()
        self.chat_list.setObjectName("chatList")
        self.chat_list.setFrameShape(QFrame.Shape.NoFrame)
        self.chat_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.chat_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.chat_list.setItemDelegate(_ChatDelegate(self.chat_list))
        self.chat_list.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.chat_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.chat_list.customContextMenuRequested.connect(self._show_menu)
        self.chat_list.currentItemChanged.connect(self._current_changed)
        self.chat_list.itemChanged.connect(self._item_edited)
        self.chat_list.deletePressed.connect(self.delete_chat)
        self.chat_list.setMouseTracking(True)

        self.results_list = _ResultsList()
        self.results_list.setObjectName("searchResults")
        self.results_list.setFrameShape(QFrame.Shape.NoFrame)
        self.results_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results_list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.results_list.itemClicked.connect(self._hit_chosen)
        self.results_list.itemActivated.connect(self._hit_chosen)

        self.empty_label = _placeholder("No chats yet.\nStart one with New chat.")
        self.no_hits_label = _placeholder("")

        self.stack = QStackedWidget()
        self.stack.setObjectName("sidebarStack")
        for widget in (self.chat_list, self.empty_label, self.results_list, self.no_hits_label):
            self.stack.addWidget(widget)

        self.snackbar = QFrame()
        self.snackbar.setObjectName("undoSnackbar")
        self.snackbar_label = ElidedLabel()
        self.snackbar_label.setObjectName("snackbarText")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setObjectName("snackbarAction")
        self.undo_button.clicked.connect(controller.undo_delete)
        bar = QHBoxLayout(self.snackbar)
        bar.setContentsMargins(14, 8, 8, 8)
        bar.setSpacing(8)
        bar.addWidget(self.snackbar_label, 1)
        bar.addWidget(self.undo_button)
        self.snackbar.hide()

        self.error_label = QLabel()
        self.error_label.setObjectName("sidebarError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self._error_timer = QTimer(self)
        self._error_timer.setSingleShot(True)
        self._error_timer.setInterval(ERROR_SECONDS * 1000)
        self._error_timer.timeout.connect(self.error_label.hide)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 14, 12, 12)
        layout.setSpacing(10)
        layout.addWidget(self.new_chat_button)
        layout.addWidget(self.search_field)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.snackbar)

        controller.chatsChanged.connect(self.show_groups)
        controller.chatCreated.connect(self._chat_created)
        controller.searchResults.connect(self.show_results)
        controller.undoAvailable.connect(self._offer_undo)
        controller.undoClosed.connect(self.snackbar.hide)
        controller.failed.connect(self.show_error)
        self.show_groups(controller.groups())

    # --------------------------------------------------------------- styling
    def _get_match_color(self) -> str:
        return self._match_color

    def _set_match_color(self, color: str) -> None:
        self._match_color = color

    # Set from the style sheet: ``#sidebar { qproperty-matchColor: "#ff7a3d"; }``
    matchColor = Property(str, _get_match_color, _set_match_color)

    # ------------------------------------------------------------ public API
    def focus_search(self) -> None:
        """Put the cursor in the search field with its text selected (Ctrl+F)."""
        self.search_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_field.selectAll()

    def select_chat(self, chat_id: int | None) -> None:
        """Highlight ``chat_id`` (opened elsewhere) without emitting ``chatSelected``."""
        self._current_chat_id = chat_id
        self._populating = True
        try:
            item = self._chat_item(chat_id) if chat_id is not None else None
            if item is None:
                self.chat_list.setCurrentRow(-1)
            else:
                self.chat_list.setCurrentItem(item)
        finally:
            self._populating = False

    def rename_chat(self, chat_id: int) -> None:
        """Start editing the chat's title in place."""
        item = self._chat_item(chat_id)
        if item is not None:
            self.chat_list.scrollToItem(item)
            self.chat_list.editItem(item)

    def delete_chat(self, chat_id: int) -> None:
        self._controller.delete(chat_id)

    def chat_menu(self, chat_id: int) -> QMenu:
        """The context menu of one chat (Rename, Delete)."""
        menu = QMenu(self)
        menu.setObjectName("chatMenu")
        rename = menu.addAction("Rename")
        rename.setShortcut("F2")
        rename.triggered.connect(lambda: self.rename_chat(chat_id))
        delete = menu.addAction("Delete")
        delete.setShortcut("Del")
        delete.triggered.connect(lambda: self.delete_chat(chat_id))
        return menu

    def chat_ids(self) -> list[int]:
        """The chats shown, top to bottom."""
        return [
            int(item.data(_CHAT_ID))
            for item in map(self.chat_list.item, range(self.chat_list.count()))
            if item.data(_CHAT_ID) is not None
        ]

    def headers(self) -> list[str]:
        """The day headings shown, top to bottom."""
        items = map(self.chat_list.item, range(self.chat_list.count()))
        return [item.text() for item in items if item.data(_HEADER)]

    def run_search(self) -> None:
        self._search_timer.stop()
        text = self.search_field.text()
        if text.strip():
            self._controller.search(text)
        else:
            self._show_chats()

    # ------------------------------------------------------------- chat list
    def show_groups(self, groups: list[ChatGroup]) -> None:
        self._populating = True
        try:
            self.chat_list.clear()
            current: QListWidgetItem | None = None
            header_font = QFont(self.chat_list.font())
            header_font.setPointSizeF(header_font.pointSizeF() * 0.82)
            header_font.setWeight(QFont.Weight.DemiBold)
            # Room above the day name; the style sheet's ::item:disabled padding places it.
            header_height = QFontMetrics(header_font).height() + 22
            for group in groups:
                header = QListWidgetItem(group.label)
                header.setFlags(Qt.ItemFlag.NoItemFlags)
                header.setData(_HEADER, True)
                header.setFont(header_font)
                header.setSizeHint(QSize(0, header_height))
                self.chat_list.addItem(header)
                for chat in group.chats:
                    item = QListWidgetItem(chat.title)
                    item.setData(_CHAT_ID, chat.id)
                    item.setToolTip(chat.title)
                    item.setFlags(
                        Qt.ItemFlag.ItemIsEnabled
                        | Qt.ItemFlag.ItemIsSelectable
                        | Qt.ItemFlag.ItemIsEditable
                    )
                    self.chat_list.addItem(item)
                    if chat.id == self._current_chat_id:
                        current = item
            if current is not None:
                self.chat_list.setCurrentItem(current)
        finally:
            self._populating = False
        if not self._searching():
            self._show_chats()

    def _show_chats(self) -> None:
        self.stack.setCurrentWidget(self.chat_list if self.chat_list.count() else self.empty_label)

    def _chat_item(self, chat_id: int) -> QListWidgetItem | None:
        for row in range(self.chat_list.count()):
            item = self.chat_list.item(row)
            if item.data(_CHAT_ID) == chat_id:
                return item
        return None

    def _current_changed(self, item: QListWidgetItem | None, _previous: object) -> None:
        if self._populating or item is None or item.data(_CHAT_ID) is None:
            return
        chat_id = int(item.data(_CHAT_ID))
        self._current_chat_id = chat_id
        self.chatSelected.emit(chat_id)

    def _item_edited(self, item: QListWidgetItem) -> None:
        if self._populating or item.data(_CHAT_ID) is None:
            return
        title = item.text()
        if title != item.toolTip():  # the tooltip holds the stored title
            self._controller.rename(int(item.data(_CHAT_ID)), title)

    def _show_menu(self, pos: QPoint) -> None:
        item = self.chat_list.itemAt(pos)
        if item is None or item.data(_CHAT_ID) is None:
            return
        menu = self.chat_menu(int(item.data(_CHAT_ID)))
        menu.exec(self.chat_list.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def _new_chat(self) -> None:
        self.search_field.clear()
        self._controller.new_chat()

    def _chat_created(self, chat_id: int) -> None:
        self.select_chat(chat_id)
        self.chatSelected.emit(chat_id)

    # ---------------------------------------------------------------- search
    def _searching(self) -> bool:
        return bool(self.search_field.text().strip())

    def _search_text_changed(self, text: str) -> None:
        if text.strip():
            self._search_timer.start()
        else:
            self._search_timer.stop()
            self.results_list.clear()
            self._show_chats()

    def show_results(self, hits: list[SearchHit]) -> None:
        if not self._searching():
            return
        self.results_list.clear()
        for hit in hits:
            item = QListWidgetItem()
            item.setData(_HIT, (hit.chat_id, hit.message_id))
            item.setToolTip(hit.chat_title)
            self.results_list.addItem(item)
            self.results_list.setItemWidget(item, self._hit_widget(hit))
        self.results_list.fit_items()
        if hits:
            self.stack.setCurrentWidget(self.results_list)
        else:
            self.no_hits_label.setText(f"No messages match\n“{self.search_field.text().strip()}”")
            self.stack.setCurrentWidget(self.no_hits_label)

    def _hit_widget(self, hit: SearchHit) -> QWidget:
        box = QWidget()
        box.setObjectName("searchResult")
        column = QVBoxLayout(box)
        column.setContentsMargins(10, 8, 10, 8)
        column.setSpacing(2)
        title = ElidedLabel(hit.chat_title)
        title.setObjectName("searchResultTitle")
        role = _ROLE_WORDS.get(hit.role, hit.role)
        snippet = QLabel(
            f"<span>{html.escape(role)}: </span>{snippet_html(hit.snippet, self._match_color)}"
        )
        snippet.setObjectName("searchResultSnippet")
        snippet.setTextFormat(Qt.TextFormat.RichText)
        snippet.setWordWrap(True)
        for label in (title, snippet):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        column.addWidget(title)
        column.addWidget(snippet)
        return box

    def _hit_chosen(self, item: QListWidgetItem) -> None:
        chat_id, message_id = item.data(_HIT)
        self.messageSelected.emit(int(chat_id), int(message_id))

    # -------------------------------------------------------- undo and errors
    def _offer_undo(self, text: str) -> None:
        self.snackbar_label.setText(text)
        self.snackbar.show()

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        self._error_timer.start()


def _placeholder(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sidebarPlaceholder")
    label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
    label.setWordWrap(True)
    return label
