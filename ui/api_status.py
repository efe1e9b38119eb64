"""The desktop's API server in the window: a controller that follows the API settings
(app/api/background.py does the serving), the status-bar indicator, and the dialog of
recent requests."""

from __future__ import annotations

import contextlib
import html
import time

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.api.background import ApiConfig, DesktopApi
from app.api.host import ModelHost
from app.api.recent import RequestRecord
from app.errors import HearthError
from app.store import Store


class ApiController(QObject):
    """Starts, stops or moves the API when its settings change; says where it serves."""

    changed = Signal()  # on, off, another address, or a problem
    requestRecorded = Signal(object)  # RequestRecord (sent from the server's thread)

    def __init__(self, host: ModelHost, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.host = host
        self.api = DesktopApi(host)
        self.api.recent.listen(self._recorded)

    @property
    def url(self) -> str | None:
        return self.api.url

    @property
    def problem(self) -> str | None:
        return self.api.problem

    def _recorded(self, record: RequestRecord) -> None:
        self.requestRecorded.emit(record)  # from the server's thread: queued to the GUI's

    def records(self) -> list[RequestRecord]:
        return self.api.recent.records()

    def served_model(self) -> str | None:
        models = self.host.served_models()
        return models[0].name if models else None

    def apply_settings(self) -> str | None:
        """Follow the API settings; the problem in words when the server could not start."""
        with contextlib.suppress(HearthError):  # kept in self.problem, shown by the caller
            self.api.apply(ApiConfig.from_store(self._store))
        self.changed.emit()
        return self.api.problem

    def shutdown(self) -> None:
        self.api.recent.unlisten(self._recorded)
        self.api.stop()


def indicator_text(url: str | None, problem: str | None) -> str:
    if url is not None:
        return f"API on {url}"
    return "API off: could not start" if problem else ""


class ApiIndicator(QToolButton):
    """ "API on http://127.0.0.1:8766/v1" in the status bar while serving (hidden when the
    API is off); a click shows the recent requests."""

    def __init__(self, controller: ApiController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("apiIndicator")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._controller = controller
        controller.changed.connect(self.refresh)
        self.clicked.connect(self.show_requests)
        self.dialog: RecentRequestsDialog | None = None
        self.refresh()

    def refresh(self) -> None:
        url, problem = self._controller.url, self._controller.problem
        self.setText(indicator_text(url, problem))
        self.setProperty("problem", url is None and problem is not None)
        self.style().unpolish(self)
        self.style().polish(self)
        self.setToolTip(problem or "Programs on this computer can use the loaded model here. "
                        "Click to see recent requests.")  # fmt: skip
        self.setVisible(url is not None or problem is not None)

    def show_requests(self) -> None:
        if self.dialog is None:
            self.dialog = RecentRequestsDialog(self._controller, self.window())
        self.dialog.refresh()
        self.dialog.show()
        self.dialog.raise_()


COLUMNS = ("Time", "Client", "Request", "Model", "Tokens in", "Tokens out", "Time taken",
           "Status")  # fmt: skip


class RecentRequestsDialog(QDialog):
    """Where the API serves, which model answers, and the last requests, newest first."""

    def __init__(self, controller: ApiController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("API: recent requests")
        self.setObjectName("apiDialog")
        self._controller = controller
        self.status_label = QLabel()
        self.status_label.setObjectName("apiStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QPushButton("Copy address")
        self.copy_button.clicked.connect(self._copy)
        top = QHBoxLayout()
        top.addWidget(self.status_label, 1)
        top.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("apiRequests")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.empty_label = QLabel("No requests yet.")
        self.empty_label.setObjectName("apiEmpty")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 12)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(buttons)
        self.resize(900, 420)
        controller.changed.connect(self.refresh)
        controller.requestRecorded.connect(lambda _record: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        url, problem = self._controller.url, self._controller.problem
        if url is not None:
            model = self._controller.served_model()
            serving = (
                f"answered by <b>{html.escape(model)}</b>, the model loaded in Hearth"
                if model
                else "but no model is loaded: requests are refused until you load one"
            )
            text = f"Serving at <b>{url}</b> (OpenAI and Anthropic APIs), {serving}."
        elif problem is not None:
            text = html.escape(problem)
        else:
            text = "The API is off. Turn it on in Settings → API."
        self.status_label.setText(text)
        self.copy_button.setEnabled(url is not None)
        records = list(reversed(self._controller.records()))
        self.table.setRowCount(len(records))
        for row, record in enumerate(records):
            cells = (
                time.strftime("%H:%M:%S", time.localtime(record.at)),
                record.client,
                f"{record.method} {record.endpoint}",
                record.model,
                str(record.prompt_tokens) if record.prompt_tokens else "",
                str(record.completion_tokens) if record.completion_tokens else "",
                f"{record.duration_ms:,.0f} ms",
                str(record.status),
            )
            for column, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if column in (4, 5, 6, 7):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        self.empty_label.setVisible(not records)

    def _copy(self) -> None:
        if self._controller.url is not None:
            QGuiApplication.clipboard().setText(self._controller.url)
