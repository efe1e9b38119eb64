"""The Models page: Browse / Downloads / Library tabs over one ModelsController, the
error banner, and .gguf files dropped on it. Every action goes through the controller."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QProgressBar,
    QStackedWidget,
    QTabWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.models.downloads import Progress
from app.store import Download, ModelEntry
from ui.models.browse import BrowseView
from ui.models.common import make_button, make_label
from ui.models.controller import ModelsController
from ui.models.downloads import DownloadsView
from ui.models.library import LibraryView
from ui.models.repository import RepoView


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

        title = make_label("Models", "modelsTitle")
        self.busy_bar = QProgressBar()
        self.busy_bar.setObjectName("modelsBusy")
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setFixedWidth(120)
        self.busy_bar.hide()
        self.offline_badge = make_label("Offline mode", "offlineBadge")
        self.offline_badge.setVisible(controller.offline)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addSpacing(10)
        header.addWidget(self.offline_badge)
        header.addStretch(1)
        header.addWidget(self.busy_bar)

        self.banner = QFrame()
        self.banner.setObjectName("modelsBanner")
        self.banner_text = make_label("", "modelsBannerText", wrap=True)
        self.banner_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner_close = make_button("Dismiss", "bannerClose")
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
