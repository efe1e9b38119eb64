"""A repository's model card and GGUF files, each judged for this computer, with a
Download button per file."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTextBrowser,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.models.hub import RepoListing
from app.units import format_bytes
from ui.models.common import make_button, make_label, make_tree
from ui.models.controller import FileRow, ModelsController

FIT_WORDS = {
    "fits": "Fits",
    "partial_offload": "Partly on the GPU",
    "cpu_only": "CPU only",
    "too_large": "Too large",
}
BUTTON_TEXTS = ("Download", "Downloading…", "In library")
ROW_HEIGHT = 40


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

        self.back_button = make_button("‹  All results", "backButton")
        self.title = make_label("", "repoTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(self.back_button)
        top.addSpacing(8)
        top.addWidget(self.title, 1)
        self.notice = make_label("", "modelsNotice", wrap=True)
        self.notice.hide()
        self.status = make_label("", "repoStatus", wrap=True)
        self.about = make_label("", "repoAbout", wrap=True)
        self.recommended = make_label("", "repoRecommended", wrap=True)
        self.recommended.hide()

        self.files = make_tree(
            "repoFiles", ["File", "Size", "Quantization", "On this computer", ""]
        )
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

        verdict = make_label("", "fitVerdict", wrap=True)
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

        button = make_button("Download", "primary" if row.recommended else "downloadButton")
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
