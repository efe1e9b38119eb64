"""The Models page: browse the Hugging Face Hub, judge a repository's files for this computer,
follow downloads, and manage the local library. Every action goes through ModelsController."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QFont,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.engine.chat_format import NAMED_FORMATS
from app.models.catalog import EMBEDDING_STARTERS, Starter
from app.models.downloads import Progress
from app.models.hub import HubModel, RepoListing, SearchPage
from app.store import Download, ModelEntry
from app.units import format_bytes, format_count, format_duration
from ui.models.controller import FileRow, ModelsController
from ui.theme import repolish
from ui.widgets.combo import ChevronCombo
from ui.widgets.file_dialogs import choose_model_files
from ui.widgets.flow_layout import FlowLayout

SORTS: tuple[tuple[str, str], ...] = (
    ("downloads", "Most downloaded"),
    ("likes", "Most liked"),
    ("trending", "Trending"),
    ("updated", "Recently updated"),
)
FIT_WORDS = {
    "fits": "Fits",
    "partial_offload": "Partly on the GPU",
    "cpu_only": "CPU only",
    "too_large": "Too large",
}
ACTIVE_STATUSES = ("queued", "running", "verifying")
BUTTON_TEXTS = ("Download", "Downloading…", "In library")
ROW_HEIGHT = 40
BROWSE_HINT = (
    "Search the Hugging Face Hub for a model to run on this computer: try “qwen”, “llama” "
    "or “gemma”, or search with an empty field for the most popular."
)
UNREACHABLE_HINT = (
    "Hearth can't reach the Hugging Face Hub right now, so there is nothing to browse. "
    "Import a .gguf file you already have from the Library tab (or drop it on this page), "
    "or search again once you are online."
)


def _label(text: str = "", object_name: str = "", *, wrap: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    if object_name:
        label.setObjectName(object_name)
    return label


def _button(text: str, object_name: str = "") -> QPushButton:
    button = QPushButton(text)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    if object_name:
        button.setObjectName(object_name)
    return button


def _tree(object_name: str, headers: list[str]) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setObjectName(object_name)
    tree.setHeaderLabels(headers)
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(False)
    tree.setAlternatingRowColors(True)
    tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    tree.header().setStretchLastSection(False)
    tree.header().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return tree


# --------------------------------------------------------------------------- browse
class SuggestionRow(QWidget):
    """What some suggested models are for, and a button per model; wraps when narrow."""

    repoRequested = Signal(str)

    def __init__(self, intro: str, explanation: str, starters: Sequence[Starter]) -> None:
        super().__init__()
        self._flow = FlowLayout(self, spacing=8)
        self._flow.setContentsMargins(0, 0, 0, 0)
        label = _label(intro, "suggestionsIntro")
        label.setToolTip(explanation)
        self._flow.addWidget(label)
        self.buttons: dict[str, QPushButton] = {}
        for starter in starters:
            button = _button(
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        layout.setSpacing(6)
        for row in (self.chat, self.embedding):
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
        self.search_button = _button("Search", "primary")
        bar = QHBoxLayout()
        bar.setSpacing(8)
        bar.addWidget(self.search_field, 1)
        bar.addWidget(self.sort_combo)
        bar.addWidget(self.search_button)

        self.suggestions = Suggestions(controller.chat_suggestions())
        self.suggestions.setVisible(not controller.offline)  # like the hub, nothing to fetch
        self.suggestion_buttons = self.suggestions.embedding.buttons
        self.chat_suggestion_buttons = self.suggestions.chat.buttons

        self.notice = _label("", "modelsNotice", wrap=True)
        self.notice.hide()
        self.results = _tree(
            "modelsResults",
            ["Repository", "Author", "Downloads", "Likes", "Updated", "Architecture", "Params",
             "Context"],
        )  # fmt: skip
        header = self.results.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 8):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.results.hide()
        self.empty = _label(BROWSE_HINT, "modelsEmpty", wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.more_button = _button("More results")
        self.more_button.hide()
        self.open_button = _button("Open")
        self.open_button.setEnabled(False)
        self.count_label = _label("", "modelsHint")
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


# --------------------------------------------------------------------------- repository
class RepoView(QWidget):
    """A repository's model card and files, each judged for this computer."""

    backRequested = Signal()

    def __init__(self, controller: ModelsController) -> None:
        super().__init__()
        self.controller = controller
        self.repo_id = ""
        self.rows: list[FileRow] = []
        self.loading = False
        self.download_buttons: dict[str, QPushButton] = {}  # first file -> its button
        self._busy_files: set[str] = set()
        self._library_files: set[tuple[str, str]] = set()

        self.back_button = _button("‹  All results", "backButton")
        self.title = _label("", "repoTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(self.back_button)
        top.addSpacing(8)
        top.addWidget(self.title, 1)
        self.notice = _label("", "modelsNotice", wrap=True)
        self.notice.hide()
        self.status = _label("", "repoStatus", wrap=True)
        self.about = _label("", "repoAbout", wrap=True)
        self.recommended = _label("", "repoRecommended", wrap=True)
        self.recommended.hide()

        self.files = _tree("repoFiles", ["File", "Size", "Quantization", "On this computer", ""])
        self.files.setRootIsDecorated(True)
        self.files.setAlternatingRowColors(False)
        header = self.files.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.ResizeToContents)
        self.readme = QTextBrowser()
        self.readme.setObjectName("repoReadme")
        self.readme.setOpenExternalLinks(True)
        self.splitter = splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("repoSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.files)
        splitter.addWidget(self.readme)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addWidget(self.status)
        layout.addWidget(self.about)
        layout.addWidget(self.recommended)
        layout.addWidget(splitter, 1)

        self.back_button.clicked.connect(self.backRequested.emit)
        controller.repoLoaded.connect(self.show_repo)

    def open(self, repo_id: str) -> None:
        self.repo_id = repo_id
        self.loading = True
        self.rows = []
        self.title.setText(repo_id)
        self.status.setText(f"Looking up the files of {repo_id}…")
        self.status.show()
        for widget in (self.notice, self.about, self.recommended):
            widget.hide()
        self.files.clear()
        self.download_buttons.clear()
        self.readme.clear()
        self.controller.open_repo(repo_id)

    def open_failed(self) -> None:
        if self.loading:
            self.loading = False
            self.status.setText(f"Couldn't open {self.repo_id}: see the message above.")

    def show_repo(self, listing: RepoListing, rows: list[FileRow], about: str) -> None:
        self.loading = False
        self.repo_id = listing.repo_id
        self.rows = rows
        self.title.setText(listing.repo_id)
        self.notice.setText(listing.notice or "")
        self.notice.setVisible(listing.from_cache)
        self.about.setText(about)
        self.about.setVisible(bool(about))
        models = [r for r in rows if not r.entry.is_projector]
        if not models:
            self.status.setText(f"{listing.repo_id} has no GGUF model files Hearth can run.")
        self.status.setVisible(not models)
        self.files.clear()
        self.download_buttons.clear()
        best = next((r for r in rows if r.recommended), None)
        # Every verdict is for the same context length: say it once, in the column's title.
        contexts = {r.fit.context for r in rows if r.fit is not None}
        context = contexts.pop() if len(contexts) == 1 else None
        self.files.headerItem().setText(
            3,
            f"On this computer, at {context:,} tokens of context"
            if context
            else "On this computer",
        )
        for row in rows:
            self._add_row(row, context)
        self._fit_splitter()
        if best is not None and best.fit is not None:
            self.recommended.setText(
                f"★ Recommended for this computer: <b>{best.entry.files[0].path}</b> "
                f"({format_bytes(best.entry.total_size)}), the best quality that fits."
            )
        elif models:
            self.recommended.setText("None of these files runs on this computer.")
        self.recommended.setVisible(bool(models))
        self.readme.setMarkdown(_strip_front_matter(listing.readme or "*No model card.*"))
        self._refresh_buttons()

    def _fit_splitter(self) -> None:
        """Give the file table the height its rows need (within reason), the card the rest."""
        total = sum(self.splitter.sizes())
        if total <= 0:
            return
        wanted = self.files.header().sizeHint().height() + 8
        for index in range(self.files.topLevelItemCount()):
            item = self.files.topLevelItem(index)
            if item is not None:
                wanted += self.files.visualItemRect(item).height() or ROW_HEIGHT
        files = max(int(total * 0.45), min(wanted, int(total * 0.75)))
        self.splitter.setSizes([files, total - files])

    def _add_row(self, row: FileRow, context: int | None) -> None:
        entry = row.entry
        first = entry.files[0].path
        name = first if entry.split_count == 1 else f"{entry.name} ({entry.split_count} parts)"
        item = QTreeWidgetItem(
            [
                ("★ " if row.recommended else "") + name,
                format_bytes(entry.total_size),
                entry.quantization or "?",
                "",
                "",
            ]
        )
        item.setData(0, Qt.ItemDataRole.UserRole, first)
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setSizeHint(3, QSize(200, ROW_HEIGHT))
        if row.recommended:
            font = item.font(0)
            font.setWeight(QFont.Weight.Bold)
            item.setFont(0, font)
        self.files.addTopLevelItem(item)
        if entry.split_count > 1:
            for part in entry.files:
                child = QTreeWidgetItem([part.path, format_bytes(part.size), "", "", ""])
                child.setTextAlignment(
                    1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                )
                item.addChild(child)

        verdict = _label("", "fitVerdict", wrap=True)
        if row.fit is None:
            verdict.setText("Vision projector: loads beside a model, for image input")
            verdict.setProperty("fit", "projector")
        else:
            summary = row.fit.summary
            if context is not None:
                summary = summary.removesuffix(f" ({context:,} tokens of context)")
            verdict.setText(summary)
            verdict.setProperty("fit", "tight" if row.fit.tight else row.fit.kind)
            verdict.setToolTip(
                f"{row.fit.summary}\n{FIT_WORDS[row.fit.kind]}: "
                f"weights {format_bytes(row.fit.weights_bytes)}, "
                f"context cache {format_bytes(row.fit.kv_cache_bytes)} "
                f"at {row.fit.context:,} tokens"
            )
        verdict.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.files.setItemWidget(item, 3, verdict)

        button = _button("Download", "primary" if row.recommended else "downloadButton")
        button.clicked.connect(lambda: self._download(first))
        button.ensurePolished()  # the style sheet's padding counts in the width below
        widest = max(button.fontMetrics().horizontalAdvance(t) for t in BUTTON_TEXTS)
        button.setMinimumWidth(widest + 36)
        holder = QWidget()
        box = QHBoxLayout(holder)
        box.setContentsMargins(4, 2, 12, 2)
        box.addWidget(button)
        item.setSizeHint(4, holder.sizeHint() + QSize(8, 0))
        self.files.setItemWidget(item, 4, holder)
        self.download_buttons[first] = button

    def _download(self, first: str) -> None:
        self._busy_files.add(first)
        self._refresh_buttons()
        self.controller.download(self.repo_id, first)

    # The page tells the view what is downloading and what is in the library.
    def set_state(self, busy: set[tuple[str, str]], library: set[tuple[str, str]]) -> None:
        self._busy_files = {f for repo, f in busy if repo == self.repo_id}
        self._library_files = library
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        for first, button in self.download_buttons.items():
            if (self.repo_id, first) in self._library_files:
                button.setText("In library")
                button.setEnabled(False)
            elif first in self._busy_files:
                button.setText("Downloading…")
                button.setEnabled(False)
            else:
                button.setText("Download")
                button.setEnabled(True)


def _strip_front_matter(markdown: str) -> str:
    """Model cards start with YAML metadata between --- lines; people read what follows."""
    if markdown.startswith("---"):
        end = markdown.find("\n---", 3)
        if end != -1:
            return markdown[end + 4 :].lstrip("\n")
    return markdown


# --------------------------------------------------------------------------- downloads
class DownloadRow(QFrame):
    """One download: progress, speed, time left, Pause / Resume / Cancel, and its error."""

    def __init__(self, download_id: int, controller: ModelsController) -> None:
        super().__init__()
        self.setObjectName("downloadRow")
        self.download_id = download_id
        self.controller = controller
        self.status = "queued"
        self.repo_id = ""
        self.filename = ""
        self.error = ""

        self.name = _label("", "downloadName")
        self.repo = _label("", "downloadRepo")
        self.state = _label("", "downloadState")
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.name)
        top.addWidget(self.repo, 1)
        top.addWidget(self.state)
        self.bar = QProgressBar()
        self.bar.setObjectName("downloadBar")
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.detail = _label("", "downloadDetail")
        self.pause_button = _button("Pause")
        self.resume_button = _button("Resume", "primary")
        self.cancel_button = _button("Cancel")
        bottom = QHBoxLayout()
        bottom.setSpacing(8)
        bottom.addWidget(self.detail, 1)
        for button in (self.pause_button, self.resume_button, self.cancel_button):
            bottom.addWidget(button)
        self.error_label = _label("", "downloadError", wrap=True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addLayout(bottom)
        layout.addWidget(self.error_label)

        self.pause_button.clicked.connect(lambda: controller.pause(self.download_id))
        self.resume_button.clicked.connect(self._resume)
        self.cancel_button.clicked.connect(lambda: controller.cancel(self.download_id))

    def _resume(self) -> None:
        self.set_error("")
        self.resume_button.setEnabled(False)
        self.controller.resume(self.download_id)

    def update_row(self, row: Download) -> None:
        self.repo_id, self.filename = row.repo_id, row.filename
        self.name.setText(row.filename)
        self.repo.setText(row.repo_id)
        self._set_amount(row.downloaded_bytes, row.total_bytes)
        self._set_status(row.status)
        if row.status in ACTIVE_STATUSES:
            self.detail.setText(self._amount_text(row.downloaded_bytes, row.total_bytes))
        self.set_error(row.error or "")

    def update_progress(self, step: Progress) -> None:
        self.filename = self.filename or step.filename
        if not self.name.text():
            self.name.setText(step.filename)
        self._set_amount(step.downloaded, step.total)
        self._set_status(step.status)
        if step.status == "running":
            parts = [self._amount_text(step.downloaded, step.total)]
            if step.bytes_per_second > 0:
                parts.append(f"{format_bytes(step.bytes_per_second)}/s")
            if step.eta_seconds is not None:
                parts.append(f"{format_duration(step.eta_seconds)} left")
            self.detail.setText("  ·  ".join(parts))

    def _amount_text(self, done: int, total: int | None) -> str:
        if total:
            return f"{format_bytes(done)} of {format_bytes(total)}"
        return format_bytes(done)

    def _set_amount(self, done: int, total: int | None) -> None:
        if total:
            self.bar.setValue(int(1000 * min(done, total) / total))
        self._done, self._total = done, total

    def _set_status(self, status: str) -> None:
        self.status = status
        words = {
            "queued": "Waiting",
            "running": "Downloading",
            "verifying": "Checking",
            "paused": "Paused",
            "done": "Done",
            "failed": "Failed",
            "cancelled": "Cancelled",
        }
        self.state.setText(words.get(status, status))
        self.state.setProperty("status", status)
        repolish(self.state)
        active = status in ACTIVE_STATUSES
        self.pause_button.setVisible(active)
        self.resume_button.setVisible(status in ("paused", "failed"))
        self.resume_button.setText("Try again" if status == "failed" else "Resume")
        self.resume_button.setEnabled(True)
        self.cancel_button.setVisible(active or status in ("paused", "failed"))
        if status == "done":
            self.bar.setValue(1000)
            self.detail.setText("In your library")
        elif status == "cancelled":
            self.bar.setValue(0)
            self.detail.setText("The partial file was deleted.")
        elif status == "paused":
            done, total = getattr(self, "_done", 0), getattr(self, "_total", None)
            self.detail.setText(self._amount_text(done, total) + "  ·  can be resumed")

    def set_error(self, message: str) -> None:
        self.error = message
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))


class DownloadsView(QWidget):
    def __init__(self, controller: ModelsController) -> None:
        super().__init__()
        self.controller = controller
        self.rows: dict[int, DownloadRow] = {}
        self.empty = _label(
            "No downloads. Find a model under Browse and press Download.", "modelsEmpty", wrap=True
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.clear_button = _button("Clear finished")
        self.clear_button.clicked.connect(self.clear_finished)
        bar = QHBoxLayout()
        bar.addWidget(_label("Downloads continue while you use the rest of Hearth.", "modelsHint"))
        bar.addStretch(1)
        bar.addWidget(self.clear_button)
        self.list = QWidget()
        self.list.setObjectName("downloadList")
        self.list_layout = QVBoxLayout(self.list)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        self.list_layout.setSpacing(10)
        self.list_layout.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("downloadScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setWidget(self.list)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(bar)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.empty, 1)
        self._update_empty()

    def row(self, download_id: int) -> DownloadRow:
        found = self.rows.get(download_id)
        if found is None:
            found = DownloadRow(download_id, self.controller)
            self.rows[download_id] = found
            self.list_layout.insertWidget(self.list_layout.count() - 1, found)
            self._update_empty()
        return found

    def clear_finished(self) -> None:
        for download_id, row in list(self.rows.items()):
            if row.status in ("done", "cancelled"):
                del self.rows[download_id]
                row.setParent(None)
                row.deleteLater()
        self._update_empty()

    def _update_empty(self) -> None:
        self.scroll_area.setVisible(bool(self.rows))
        self.empty.setVisible(not self.rows)

    def active_files(self) -> set[tuple[str, str]]:
        return {(r.repo_id, r.filename) for r in self.rows.values() if r.status in ACTIVE_STATUSES}

    def active_count(self) -> int:
        return sum(1 for r in self.rows.values() if r.status in ACTIVE_STATUSES)


# --------------------------------------------------------------------------- library
class DefaultsDialog(QDialog):
    """A model's own threads, GPU layers, context length and chat format."""

    def __init__(self, entry: ModelEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Defaults for {entry.name}")
        self.setObjectName("defaultsDialog")
        self.setMinimumWidth(460)
        self.threads = QSpinBox()
        self.threads.setRange(-1, 512)
        self.threads.setSpecialValueText("App setting")
        self.gpu_layers = QSpinBox()
        self.gpu_layers.setRange(-2, 1000)
        self.gpu_layers.setSpecialValueText("App setting")
        self.context = QSpinBox()
        # No more than the model was trained for (the library refuses more, too).
        self.context.setRange(0, entry.context_length or 1_048_576)
        self.context.setSingleStep(1024)
        self.context.setSpecialValueText("App setting")
        self.context.setGroupSeparatorShown(True)
        overrides = entry.overrides
        self.threads.setValue(int(overrides.get("threads", -1)))
        self.gpu_layers.setValue(int(overrides.get("gpu_layers", -2)))
        self.context.setValue(int(overrides.get("context_length", 0)))
        self.chat_format = QComboBox()
        self.chat_format.addItem("From the model file", None)
        for name, named in NAMED_FORMATS.items():
            self.chat_format.addItem(named.label, name)
        if entry.chat_format is not None:
            self.chat_format.setCurrentIndex(max(0, self.chat_format.findData(entry.chat_format)))

        form = QFormLayout()
        form.addRow("CPU threads", self.threads)
        form.addRow("", _label("0 uses one per physical core.", "modelsHint"))
        form.addRow("GPU layers", self.gpu_layers)
        form.addRow(
            "", _label("-1 offloads every layer; 0 keeps the model on the CPU.", "modelsHint")
        )
        form.addRow("Context length", self.context)
        if entry.context_length:
            form.addRow(
                "",
                _label(
                    f"At most {entry.context_length:,} tokens: what {entry.name} was trained for.",
                    "modelsHint",
                ),
            )
        form.addRow("Chat format", self.chat_format)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(12)
        layout.addWidget(
            _label(
                "Settings used whenever this model is loaded, instead of the app's.",
                "modelsHint",
                wrap=True,
            )
        )
        layout.addLayout(form)
        layout.addWidget(buttons)

    def values(self) -> tuple[dict[str, object], str | None]:
        """The changes for Library.configure (None removes an override) and the chat format."""
        threads = self.threads.value()
        layers = self.gpu_layers.value()
        context = self.context.value()
        changes: dict[str, object] = {
            "threads": None if threads == -1 else threads,
            "gpu_layers": None if layers == -2 else layers,
            "context_length": None if context == 0 else context,
        }
        data = self.chat_format.currentData()
        return changes, str(data) if data is not None else None


class LibraryView(QWidget):
    loadRequested = Signal(object)  # ModelEntry
    unloadRequested = Signal()

    def __init__(self, controller: ModelsController) -> None:
        super().__init__()
        self.controller = controller
        self.models: list[ModelEntry] = []
        self._loaded_path: str | None = None  # the model the engine holds

        self.import_button = _button("Import…")
        self.refresh_button = _button("Rescan")
        folder = _label(f"Models folder: {controller.models_dir}", "modelsHint")
        folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar = QHBoxLayout()
        bar.addWidget(folder, 1)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.import_button)

        self.list = _tree(
            "libraryList", ["Name", "Size", "Quantization", "Params", "Context", "Source", ""]
        )
        header = self.list.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 7):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.empty = _label("", "libraryEmpty", wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.load_button = _button("Load", "primary")
        # An embedding model is not loaded to chat: in the Load button's place, what it is.
        self.embedding_note = _label(
            "Embedding model: it searches documents, it can't chat", "modelsHint"
        )
        self.embedding_note.hide()
        self.use_buttons: dict[int, QPushButton] = {}  # model id -> its "Use for documents"
        self.defaults_button = _button("Defaults…")
        self.reveal_button = _button("Show in folder")
        self.delete_button = _button("Delete…", "dangerButton")
        self.action_bar = QWidget()
        actions = QHBoxLayout(self.action_bar)
        actions.setContentsMargins(0, 0, 0, 0)
        actions.addWidget(self.load_button)
        actions.addWidget(self.embedding_note)
        actions.addWidget(self.defaults_button)
        actions.addWidget(self.reveal_button)
        actions.addStretch(1)
        actions.addWidget(self.delete_button)

        # With no models: what to do, and the way to do it.
        self.empty_box = QWidget()
        empty_layout = QVBoxLayout(self.empty_box)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty)
        self.empty_import_button = _button("Import a .gguf file…", "primary")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.empty_import_button)
        row.addStretch(1)
        empty_layout.addLayout(row)
        empty_layout.addStretch(2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(bar)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty_box, 1)
        layout.addWidget(self.action_bar)

        self.import_button.clicked.connect(self.choose_files)
        self.empty_import_button.clicked.connect(self.choose_files)
        self.refresh_button.clicked.connect(controller.refresh_library)
        self.load_button.clicked.connect(self._load)
        self.defaults_button.clicked.connect(self._defaults)
        self.reveal_button.clicked.connect(self._reveal)
        self.delete_button.clicked.connect(self._delete)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.list.itemDoubleClicked.connect(lambda *_: self._load())
        self.show_models([])

    def show_models(self, models: list[ModelEntry]) -> None:
        selected = self.selected()
        self.models = list(models)
        self.list.clear()
        self.use_buttons.clear()
        documents_model = self.controller.documents_model_path()
        for entry in self.models:
            item = QTreeWidgetItem(
                [
                    entry.name,
                    format_bytes(entry.size_bytes),
                    entry.quantization or "",
                    format_count(entry.parameters) if entry.parameters else "",
                    f"{entry.context_length:,}" if entry.context_length else "",
                    self._source(entry),
                    "",
                ]
            )
            item.setToolTip(0, entry.path)
            item.setData(0, Qt.ItemDataRole.UserRole, entry.id)
            item.setSizeHint(0, QSize(100, 34))
            self.list.addTopLevelItem(item)
            marks = self._marks(entry, documents_model)
            if marks:
                holder = QWidget()
                box = QHBoxLayout(holder)
                box.setContentsMargins(4, 0, 8, 0)
                box.setSpacing(6)
                for mark in marks:
                    mark.ensurePolished()
                    box.addWidget(mark)
                box.addStretch(1)
                item.setSizeHint(6, holder.sizeHint() + QSize(16, 0))
                self.list.setItemWidget(item, 6, holder)
            if selected is not None and entry.id == selected.id:
                self.list.setCurrentItem(item)
        has_models = bool(self.models)
        self.list.setVisible(has_models)
        self.action_bar.setVisible(has_models)
        self.empty_box.setVisible(not has_models)
        if self.controller.offline:
            self.empty.setText(
                "Hearth needs a model file (.gguf) to chat, and it is in offline mode, so it "
                "can't download one. Copy a .gguf file onto this computer (from a USB drive or "
                "another folder), then import it with the button below, or drop it on this page."
            )
        else:
            self.empty.setText(
                "No models yet. Find one under Browse and download it, or bring a .gguf file "
                "you already have: import it with the button below, or drop it on this page."
            )
        self._selection_changed()

    def set_loaded_model(self, path: str | None) -> None:
        """Mark the model the engine holds (None: none is loaded)."""
        self._loaded_path = path
        self.show_models(self.models)

    def is_loaded(self, entry: ModelEntry) -> bool:
        return self._loaded_path is not None and Path(entry.path) == Path(self._loaded_path)

    def _marks(self, entry: ModelEntry, documents_model: str | None) -> list[QWidget]:
        """Badges (loaded, read-only, embedding model, used for documents) and the Use button."""
        marks: list[QWidget] = []
        if self.is_loaded(entry):
            badge = _label("● Loaded", "loadedBadge")
            badge.setToolTip("This model is loaded: chats use it now.")
            marks.append(badge)
        if entry.read_only:
            badge = _label("read-only", "readOnlyBadge")
            badge.setToolTip(
                f"In a folder Hearth only reads ({Path(entry.path).parent}); "
                "Hearth never deletes it."
            )
            marks.append(badge)
        if not self.controller.is_embedding(entry):
            return marks
        kind = _label("Embedding model", "embeddingBadge")
        kind.setToolTip("Searches documents by meaning; it can't chat, so it isn't loaded here.")
        marks.append(kind)
        if documents_model is not None and entry.path == documents_model:
            used = _label("✓ Used for documents", "documentsBadge")
            used.setToolTip("Documents in your chats are searched by meaning with this model.")
            marks.append(used)
        else:
            button = _button("Use for documents", "useForDocuments")
            button.setToolTip("Search documents in your chats by meaning with this model.")
            button.clicked.connect(lambda _=False, name=entry.name: self._use(name, button))
            self.use_buttons[entry.id] = button
            marks.append(button)
        return marks

    def _use(self, name: str, button: QPushButton) -> None:
        button.setEnabled(False)  # the list is rebuilt once the setting is saved
        self.controller.use_for_documents(name)

    def _source(self, entry: ModelEntry) -> str:
        if entry.repo_id:
            return entry.repo_id
        folder = Path(entry.path).parent
        if entry.read_only:
            home = Path.home()
            return f"~/{folder.relative_to(home)}" if folder.is_relative_to(home) else str(folder)
        return "imported" if folder == self.controller.models_dir / "imported" else "models folder"

    def selected(self) -> ModelEntry | None:
        items = self.list.selectedItems()
        if not items:
            return None
        wanted = items[0].data(0, Qt.ItemDataRole.UserRole)
        return next((m for m in self.models if m.id == wanted), None)

    def _selection_changed(self) -> None:
        entry = self.selected()
        for button in (self.load_button, self.defaults_button, self.reveal_button):
            button.setEnabled(entry is not None)
        embedding = entry is not None and self.controller.is_embedding(entry)
        self.load_button.setVisible(not embedding)
        self.load_button.setText(
            "Unload" if entry is not None and self.is_loaded(entry) else "Load"
        )
        self.embedding_note.setVisible(embedding)
        self.delete_button.setEnabled(entry is not None and not entry.read_only)
        self.delete_button.setToolTip(
            "Hearth never deletes files in folders it only reads."
            if entry is not None and entry.read_only
            else ""
        )

    def choose_files(self) -> None:
        paths = choose_model_files(self)
        if paths:
            self.controller.import_files(paths)

    def _load(self) -> None:
        entry = self.selected()
        if entry is not None and self.is_loaded(entry):
            self.unloadRequested.emit()
        elif entry is not None and not self.controller.is_embedding(entry):
            self.loadRequested.emit(entry)

    def _reveal(self) -> None:
        entry = self.selected()
        if entry is not None:
            self.controller.reveal(entry.path)

    def _defaults(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        dialog = DefaultsDialog(entry, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            changes, chat_format = dialog.values()
            self.controller.set_model_defaults(entry.path, changes, chat_format)

    def _delete(self) -> None:
        entry = self.selected()
        if entry is None or entry.read_only:
            return
        answer = QMessageBox.question(
            self,
            "Delete model",
            f"Delete {entry.name} ({format_bytes(entry.size_bytes)}) from this computer?\n\n"
            f"{entry.path}\n\nThe file is removed, not moved to the trash.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.controller.delete_model(entry.path)


# --------------------------------------------------------------------------- the page
class ModelsPage(QWidget):
    """Browse / Downloads / Library tabs over one ModelsController; accepts dropped .gguf files."""

    loadRequested = Signal(object)  # ModelEntry
    unloadRequested = Signal()

    def __init__(self, controller: ModelsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelsPage")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAcceptDrops(True)
        self.controller = controller

        title = _label("Models", "modelsTitle")
        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("modelsBusy")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setFixedWidth(120)
        self.busy_bar.hide()
        self.offline_badge = _label("Offline mode", "offlineBadge")
        self.offline_badge.setVisible(controller.offline)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addSpacing(10)
        header.addWidget(self.offline_badge)
        header.addStretch(1)
        header.addWidget(self.busy_bar)

        self.banner = QFrame()
        self.banner.setObjectName("modelsBanner")
        self.banner_text = _label("", "modelsBannerText", wrap=True)
        self.banner_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner_close = _button("Dismiss", "bannerClose")
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(14, 10, 10, 10)
        banner_layout.addWidget(self.banner_text, 1)
        banner_layout.addWidget(self.banner_close, 0, Qt.AlignmentFlag.AlignTop)
        self.banner.hide()

        self.browse = BrowseView(controller)
        self.repo = RepoView(controller)
        self.browse_stack = QStackedWidget()
        self.browse_stack.addWidget(self.browse)
        self.browse_stack.addWidget(self.repo)
        self.downloads = DownloadsView(controller)
        self.library = LibraryView(controller)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("modelsTabs")
        self.tabs.addTab(self.browse_stack, "Browse")
        self.tabs.addTab(self.downloads, "Downloads")
        self.tabs.addTab(self.library, "Library")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 18)
        layout.setSpacing(10)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)

        self.banner_close.clicked.connect(self.clear_error)
        # An error belongs to the tab it came from: it goes when the user moves on.
        self.tabs.currentChanged.connect(lambda _index: self.clear_error())
        self.browse.results.itemActivated.connect(self._open_item)
        self.browse.open_button.clicked.connect(self._open_selected)
        self.browse.repoRequested.connect(self.open_repo)
        self.repo.backRequested.connect(lambda: self.browse_stack.setCurrentWidget(self.browse))
        self.library.loadRequested.connect(self.loadRequested.emit)
        self.library.unloadRequested.connect(self.unloadRequested.emit)
        controller.failed.connect(self.show_error)
        controller.busy.connect(self.busy_bar.setVisible)
        controller.downloadUpdated.connect(self._download_updated)
        controller.downloadProgress.connect(self._download_progress)
        controller.downloadFinished.connect(self._download_finished)
        controller.libraryChanged.connect(self._library_changed)
        controller.searchResults.connect(lambda _page: self.clear_error())
        controller.repoLoaded.connect(lambda *_: self.clear_error())
        if controller.offline:
            self.tabs.setCurrentWidget(self.library)
        controller.start()

    # ------------------------------------------------------------- navigation
    def show_browse(self) -> None:
        self.tabs.setCurrentWidget(self.browse_stack)

    def show_downloads(self) -> None:
        self.tabs.setCurrentWidget(self.downloads)

    def show_library(self) -> None:
        self.tabs.setCurrentWidget(self.library)

    def set_loaded_model(self, path: str | None) -> None:
        self.library.set_loaded_model(path)

    def open_repo(self, repo_id: str) -> None:
        self.show_browse()
        self.browse_stack.setCurrentWidget(self.repo)
        self.repo.open(repo_id)

    def open_import_dialog(self) -> None:
        self.show_library()
        self.library.choose_files()

    def _open_item(self, item: QTreeWidgetItem) -> None:
        self.open_repo(str(item.data(0, Qt.ItemDataRole.UserRole)))

    def _open_selected(self) -> None:
        items = self.browse.results.selectedItems()
        if items:
            self._open_item(items[0])

    # ------------------------------------------------------------- errors
    def show_error(self, message: str) -> None:
        self.banner_text.setText(message)
        self.banner.show()
        self.repo.open_failed()
        self.browse.more_button.setEnabled(True)
        for button in self.library.use_buttons.values():  # a choice that failed can be retried
            button.setEnabled(True)
        self._sync_repo()  # a download that could not start offers its button again

    def clear_error(self) -> None:
        self.banner_text.clear()
        self.banner.hide()

    # ------------------------------------------------------------- downloads
    def _download_updated(self, row: Download) -> None:
        self.downloads.row(row.id).update_row(row)
        self._downloads_changed()

    def _download_progress(self, step: Progress) -> None:
        row = self.downloads.row(step.download_id)
        before = row.status
        row.update_progress(step)
        if row.status != before:
            self._downloads_changed()

    def _download_finished(self, download_id: int, error: str) -> None:
        row = self.downloads.row(download_id)
        if error:
            row.set_error(error)
        self._downloads_changed()

    def _downloads_changed(self) -> None:
        active = self.downloads.active_count()
        self.tabs.setTabText(1, f"Downloads ({active})" if active else "Downloads")
        self._sync_repo()

    def _library_changed(self, models: list[ModelEntry]) -> None:
        self.library.show_models(models)
        self._sync_repo()

    def _sync_repo(self) -> None:
        library = {(m.repo_id, m.filename) for m in self.library.models if m.repo_id and m.filename}
        self.repo.set_state(self.downloads.active_files(), library)

    # ------------------------------------------------------------- drag and drop
    @staticmethod
    def _dropped_models(event: QDragEnterEvent | QDropEvent) -> list[Path]:
        data = event.mimeData()
        if not data.hasUrls():
            return []
        return [
            Path(url.toLocalFile())
            for url in data.urls()
            if url.isLocalFile() and url.toLocalFile().lower().endswith(".gguf")
        ]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_models(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._dropped_models(event)
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.show_library()
        self.controller.import_files(paths)
