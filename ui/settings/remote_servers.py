"""Settings → Remote servers: OpenAI-compatible servers (llama-server, vLLM, Ollama,
another Hearth) whose models the chat header offers as SERVER/MODEL.

Changes are saved at once (not with OK/Apply): the key goes to the keyring or a
private file, never to the database. Servers are asked for their models through
the engine controller's remote thread, never on the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import HearthError
from app.remote.servers import RemoteServers, ServerModels
from ui.engine_controller import EngineController


class RemoteServersPanel(QWidget):
    def __init__(self, servers: RemoteServers, engine: EngineController) -> None:
        super().__init__()
        self.setObjectName("remoteServers")
        self._servers = servers
        self._engine = engine
        self._answers: dict[str, ServerModels] = {}

        intro = QLabel(
            "Use models running on another computer: llama.cpp's llama-server, vLLM, Ollama "
            "or another Hearth (hearth serve). Their models appear in the chat's model picker "
            f"as SERVER/MODEL. Keys are kept in {servers.secrets.where}."
        )
        intro.setObjectName("fieldHelp")
        intro.setWordWrap(True)

        self.table = QTreeWidget()
        self.table.setObjectName("remoteTable")
        self.table.setHeaderLabels(["Name", "Address", "Key", "Models"])
        self.table.setRootIsDecorated(False)
        self.table.setMinimumHeight(140)
        self.table.itemSelectionChanged.connect(self._selected)

        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("settingEdit")
        self.name_edit.setPlaceholderText("bigbox")
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("settingEdit")
        self.url_edit.setPlaceholderText("http://192.168.1.20:8080/v1")
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("settingEdit")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("optional; leave empty to keep the saved one")
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.addRow("Name", self.name_edit)
        form.addRow("Address", self.url_edit)
        form.addRow("API key", self.key_edit)

        self.save_button = QPushButton("Save server")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.check_button = QPushButton("Check servers")
        self.check_button.setToolTip("Ask every server for its models")
        self.check_button.clicked.connect(self.check)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.check_button)

        self.status = QLabel()
        self.status.setObjectName("fieldError")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(12)
        column.addWidget(intro)
        column.addWidget(self.table)
        column.addLayout(form)
        column.addLayout(buttons)
        column.addWidget(self.status)
        engine.remoteModels.connect(self._listed)
        self._fill()

    # ------------------------------------------------------------------ state
    def _fill(self) -> None:
        self.table.clear()
        for endpoint in self._servers.endpoints():
            answer = self._answers.get(endpoint.name)
            if answer is None:
                models = "not asked yet"
            elif answer.problem:
                models = "unreachable"
            else:
                models = ", ".join(m.model for m in answer.models) or "no models"
            key = "saved" if self._servers.has_key(endpoint.name) else "none"
            item = QTreeWidgetItem([endpoint.name, endpoint.base_url, key, models])
            if answer is not None and answer.problem:
                item.setToolTip(3, answer.problem)
            self.table.addTopLevelItem(item)
        for column in range(3):
            self.table.resizeColumnToContents(column)
        self.remove_button.setEnabled(False)
        self.check_button.setEnabled(self.table.topLevelItemCount() > 0)

    def _selected(self) -> None:
        items = self.table.selectedItems()
        self.remove_button.setEnabled(bool(items))
        if items:
            self.name_edit.setText(items[0].text(0))
            self.url_edit.setText(items[0].text(1))
            self.key_edit.clear()

    def _listed(self, answers: list[ServerModels]) -> None:
        self._answers = {answer.endpoint.name: answer for answer in answers}
        problems = [a.problem for a in answers if a.problem]
        self.status.setText(problems[0] if problems else "")
        self._fill()

    # ---------------------------------------------------------------- actions
    def save(self) -> None:
        key = self.key_edit.text().strip() or None  # empty: keep the saved key
        try:
            endpoint = self._servers.add(self.name_edit.text(), self.url_edit.text(), key)
        except HearthError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText("")
        self.key_edit.clear()
        self._answers.pop(endpoint.name, None)
        self._fill()
        self.check()

    def remove_selected(self) -> None:
        items = self.table.selectedItems()
        if not items:
            return
        try:
            self._servers.remove(items[0].text(0))
        except HearthError as exc:
            self.status.setText(str(exc))
            return
        self.name_edit.clear()
        self.url_edit.clear()
        self._answers.pop(items[0].text(0), None)
        self._fill()
        self._engine.refresh_remote_models()

    def check(self) -> None:
        """Ask the servers for their models; the picker and this table both update."""
        if bool(self._servers.store.get_setting("offline")):
            self.status.setText("Offline mode is on, so remote servers are not contacted.")
            return
        self.check_button.setEnabled(False)
        self._engine.refresh_remote_models()
