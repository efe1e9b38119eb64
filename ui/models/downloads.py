"""The downloads list: a row per download with its progress, Pause / Resume / Cancel
and its error."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QProgressBar, QVBoxLayout, QWidget

from app.models.downloads import Progress
from app.store import Download
from app.units import format_bytes, format_duration
from ui.models.common import make_button, make_label
from ui.models.controller import ModelsController
from ui.theme import repolish
from ui.widgets.scroll import vertical_scroll

ACTIVE_STATUSES = ("queued", "running", "verifying")


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

        self.name = make_label("", "downloadName")
        self.repo = make_label("", "downloadRepo")
        self.state = make_label("", "downloadState")
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self.name)
        top.addWidget(self.repo, 1)
        top.addWidget(self.state)
        self.bar = QProgressBar()
        self.bar.setObjectName("downloadBar")
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.detail = make_label("", "downloadDetail")
        self.pause_button = make_button("Pause")
        self.resume_button = make_button("Resume", "primary")
        self.cancel_button = make_button("Cancel")
        bottom = QHBoxLayout()
        bottom.setSpacing(8)
        bottom.addWidget(self.detail, 1)
        for button in (self.pause_button, self.resume_button, self.cancel_button):
            bottom.addWidget(button)
        self.error_label = make_label("", "downloadError", wrap=True)
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
        self.empty = make_label(
            "No downloads. Find a model under Browse and press Download.", "modelsEmpty", wrap=True
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.clear_button = make_button("Clear finished")
        self.clear_button.clicked.connect(self.clear_finished)
        bar = QHBoxLayout()
        bar.addWidget(
            make_label("Downloads continue while you use the rest of Hearth.", "modelsHint")
        )
        bar.addStretch(1)
        bar.addWidget(self.clear_button)
        self.list = QWidget()
        self.list.setObjectName("downloadList")
        self.list_layout = QVBoxLayout(self.list)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        self.list_layout.setSpacing(10)
        self.list_layout.addStretch(1)
        self.scroll_area = vertical_scroll(self.list, "downloadScroll")
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
