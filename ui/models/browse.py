"""Browsing the Hugging Face Hub: search with a sort order, pages of results, and
suggested chat and embedding models."""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.models.catalog import EMBEDDING_STARTERS, RERANKER_STARTERS, Starter
from app.models.hub import HubModel, SearchPage
from app.units import format_bytes, format_count
from ui.models.common import make_button, make_label, make_tree
from ui.models.controller import ModelsController
from ui.widgets.combo import ChevronCombo
from ui.widgets.flow_layout import FlowLayout

SORTS: tuple[tuple[str, str], ...] = (
    ("downloads", "Most downloaded"),
    ("likes", "Most liked"),
    ("trending", "Trending"),
    ("updated", "Recently updated"),
)
BROWSE_HINT = (
    "Search the Hugging Face Hub for a model to run on this computer: try “qwen”, “llama” "
    "or “gemma”, or search with an empty field for the most popular."
)
UNREACHABLE_HINT = (
    "Hearth can't reach the Hugging Face Hub right now, so there is nothing to browse. "
    "Import a .gguf file you already have from the Library tab (or drop it on this page), "
    "or search again once you are online."
)


class SuggestionRow(QWidget):
    """What some suggested models are for, and a button per model; wraps when narrow."""

    repoRequested = Signal(str)

    def __init__(self, intro: str, explanation: str, starters: Sequence[Starter]) -> None:
        super().__init__()
        self._flow = FlowLayout(self, spacing=8)
        self._flow.setContentsMargins(0, 0, 0, 0)
        label = make_label(intro, "suggestionsIntro")
        label.setToolTip(explanation)
        self._flow.addWidget(label)
        self.buttons: dict[str, QPushButton] = {}
        for starter in starters:
            button = make_button(
                f"{starter.label} · {format_bytes(starter.approx_bytes)}", "suggestionButton"
            )
            button.setToolTip(f"Open {starter.repo_id} to download {starter.filename}")
            button.clicked.connect(lambda _=False, r=starter.repo_id: self.repoRequested.emit(r))
            self._flow.addWidget(button)
            self.buttons[starter.repo_id] = button
            button.ensurePolished()
            label.setMinimumHeight(button.sizeHint().height())  # centred on the buttons' line
        label.setAlignment(Qt.AlignmentFlag.AlignVCenter)


class Suggestions(QFrame):
    """Models worth downloading: chat models that fit this computer, and embedding models
    for searching documents by meaning."""

    repoRequested = Signal(str)

    def __init__(self, chat_models: Sequence[Starter]) -> None:
        super().__init__()
        self.setObjectName("embeddingSuggestions")
        self.chat = SuggestionRow(
            "To chat, models that fit this computer:",
            "Small chat models with good answers for their size; the repository page shows "
            "each file's fit and recommends one.",
            chat_models,
        )
        self.embedding = SuggestionRow(
            "For searching your documents by meaning:",
            "An embedding model lets Hearth find the passages of a chat's documents by what "
            "they mean, not only by their words. It runs beside the chat model.",
            EMBEDDING_STARTERS,
        )
        self.reranker = SuggestionRow(
            "To put the best passages first (optional):",
            "A reranker reads your question with each passage search found and puts the ones "
            "that answer it first. It is small and runs beside the other models; everything "
            "works without one.",
            RERANKER_STARTERS,
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        layout.setSpacing(6)
        for row in (self.chat, self.embedding, self.reranker):
            row.repoRequested.connect(self.repoRequested.emit)
            layout.addWidget(row)


class BrowseView(QWidget):
    """Search field, sort order, results; "More" fetches the next page. Above the results,
    a few embedding models suggested for searching documents by meaning."""

    repoRequested = Signal(str)  # a suggested repository to open

    def __init__(self, controller: ModelsController) -> None:
        super().__init__()
        self.controller = controller
        self._query = ""
        self._sort = "downloads"
        self._page: SearchPage | None = None
        self.models: list[HubModel] = []

        self.search_field = QLineEdit()
        self.search_field.setObjectName("modelsSearch")
        self.search_field.setPlaceholderText("Search GGUF models on the Hugging Face Hub")
        self.search_field.setClearButtonEnabled(True)
        self.sort_combo = ChevronCombo()
        self.sort_combo.setObjectName("modelsSort")
        for key, words in SORTS:
            self.sort_combo.addItem(words, key)
        self.search_button = make_button("Search", "primary")
        bar = QHBoxLayout()
        bar.setSpacing(8)
        bar.addWidget(self.search_field, 1)
        bar.addWidget(self.sort_combo)
        bar.addWidget(self.search_button)

        self.suggestions = Suggestions(controller.chat_suggestions())
        self.suggestions.setVisible(not controller.offline)  # like the hub, nothing to fetch
        self.suggestion_buttons = self.suggestions.embedding.buttons
        self.chat_suggestion_buttons = self.suggestions.chat.buttons

        self.notice = make_label("", "modelsNotice", wrap=True)
        self.notice.hide()
        self.results = make_tree(
            "modelsResults",
            ["Repository", "Author", "Downloads", "Likes", "Updated", "Architecture", "Params",
             "Context"],
        )  # fmt: skip
        header = self.results.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 8):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.results.hide()
        self.empty = make_label(BROWSE_HINT, "modelsEmpty", wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.more_button = make_button("More results")
        self.more_button.hide()
        self.open_button = make_button("Open")
        self.open_button.setEnabled(False)
        self.count_label = make_label("", "modelsHint")
        footer = QHBoxLayout()
        footer.addWidget(self.count_label)
        footer.addStretch(1)
        footer.addWidget(self.more_button)
        footer.addWidget(self.open_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(bar)
        layout.addWidget(self.suggestions)
        layout.addWidget(self.notice)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.empty, 1)
        layout.addLayout(footer)

        self.search_field.returnPressed.connect(self.run_search)
        self.search_button.clicked.connect(self.run_search)
        self.sort_combo.currentIndexChanged.connect(self._sort_changed)
        self.more_button.clicked.connect(self.more)
        self.suggestions.repoRequested.connect(self.repoRequested.emit)
        self.results.itemSelectionChanged.connect(
            lambda: self.open_button.setEnabled(bool(self.results.selectedItems()))
        )
        controller.searchResults.connect(self.show_page)
        controller.networkChecked.connect(self._network_checked)

    def _network_checked(self, reachable: bool) -> None:
        """Suggest downloads only when they can work; say why there is nothing to browse."""
        self.suggestions.setVisible(reachable)
        if not self.models:
            self.empty.setText(BROWSE_HINT if reachable else UNREACHABLE_HINT)

    def run_search(self) -> None:
        self._query = self.search_field.text().strip()
        self._sort = str(self.sort_combo.currentData())
        self.more_button.setEnabled(False)
        self.controller.search(self._query, self._sort, 0)

    def _sort_changed(self) -> None:
        if self._page is not None:  # re-sort what is shown; before any search, wait for one
            self.run_search()

    def more(self) -> None:
        if self._page is not None and self._page.has_more:
            self.more_button.setEnabled(False)
            self.controller.search(self._query, self._sort, self._page.page + 1)

    def show_page(self, page: SearchPage) -> None:
        if page.page == 0:
            self.results.clear()
            self.models = []
        self._page = page
        self.models.extend(page.models)
        for model in page.models:
            self.results.addTopLevelItem(self._item(model))
        if page.from_cache:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(page.fetched_at))
            self.notice.setText(page.notice or f"Offline: results saved on {when}.")
        self.notice.setVisible(page.from_cache)
        self.more_button.setVisible(page.has_more)
        self.more_button.setEnabled(True)
        shown = bool(self.models)
        self.results.setVisible(shown)
        self.empty.setVisible(not shown)
        if not shown:
            what = f"match “{self._query}”" if self._query else "were found"
            self.empty.setText(f"No GGUF models {what}. Try other words.")
        self.count_label.setText(f"{len(self.models)} shown" if shown else "")

    def _item(self, model: HubModel) -> QTreeWidgetItem:
        name = model.repo_id.split("/", 1)[-1]
        item = QTreeWidgetItem(
            [
                name + ("  (gated)" if model.gated else ""),
                model.author,
                f"{model.downloads:,}",
                f"{model.likes:,}",
                (model.last_modified or "")[:10],
                model.architecture or "",
                format_count(model.parameters) if model.parameters else "",
                f"{model.context_length:,}" if model.context_length else "",
            ]
        )
        item.setData(0, Qt.ItemDataRole.UserRole, model.repo_id)
        item.setToolTip(0, model.repo_id)
        font = item.font(0)
        font.setWeight(QFont.Weight.DemiBold)
        item.setFont(0, font)
        for column in (2, 3, 7):
            item.setTextAlignment(
                column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            )
        if model.gated:
            item.setToolTip(
                0, f"{model.repo_id}: its authors ask you to accept their terms before downloading"
            )
        return item
