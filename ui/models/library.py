"""The local library: the models on this computer, loading, per-model defaults, use for
documents, import and delete."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.engine.chat_format import NAMED_FORMATS
from app.models.starter import STARTER_NOTE, is_starter
from app.store import ModelEntry
from app.units import format_bytes, format_count
from ui.models.common import make_button, make_label, make_tree
from ui.models.controller import ModelsController
from ui.widgets.file_dialogs import choose_model_files


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
        form.addRow("", make_label("0 uses one per physical core.", "modelsHint"))
        form.addRow("GPU layers", self.gpu_layers)
        form.addRow(
            "", make_label("-1 offloads every layer; 0 keeps the model on the CPU.", "modelsHint")
        )
        form.addRow("Context length", self.context)
        if entry.context_length:
            form.addRow(
                "",
                make_label(
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
            make_label(
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

        self.import_button = make_button("Import…")
        self.refresh_button = make_button("Rescan")
        folder = make_label(f"Models folder: {controller.models_dir}", "modelsHint")
        folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar = QHBoxLayout()
        bar.addWidget(folder, 1)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.import_button)

        self.list = make_tree(
            "libraryList", ["Name", "Size", "Quantization", "Params", "Context", "Source", ""]
        )
        header = self.list.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 7):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.empty = make_label("", "libraryEmpty", wrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.load_button = make_button("Load", "primary")
        # An embedding model is not loaded to chat: in the Load button's place, what it is.
        self.embedding_note = make_label(
            "Embedding model: it searches documents, it can't chat", "modelsHint"
        )
        self.embedding_note.hide()
        self.use_buttons: dict[int, QPushButton] = {}  # model id -> its "Use for documents"
        self.defaults_button = make_button("Defaults…")
        self.reveal_button = make_button("Show in folder")
        self.delete_button = make_button("Delete…", "dangerButton")
        self.action_bar = QWidget()
        actions = QHBoxLayout(self.action_bar)
        actions.setContentsMargins(0, 0, 0, 0)
        actions.addWidget(self.load_button)
        actions.addWidget(self.embedding_note)
        actions.addWidget(self.defaults_button)
        actions.addWidget(self.reveal_button)
        actions.addStretch(1)
        actions.addWidget(self.delete_button)

        # With only the starter: it is a stand-in, real models come from Browse.
        self.starter_note = make_label(STARTER_NOTE, "modelsHint")
        self.starter_note.setWordWrap(True)
        self.starter_note.hide()

        # With no models: what to do, and the way to do it.
        self.empty_box = QWidget()
        empty_layout = QVBoxLayout(self.empty_box)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty)
        self.empty_import_button = make_button("Import a .gguf file…", "primary")
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
        layout.addWidget(self.starter_note)
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
        only_starter = has_models and all(is_starter(m) for m in self.models)
        self.starter_note.setVisible(only_starter)
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
            badge = make_label("● Loaded", "loadedBadge")
            badge.setToolTip("This model is loaded: chats use it now.")
            marks.append(badge)
        if is_starter(entry):
            badge = make_label("starter", "starterBadge")
            badge.setToolTip(STARTER_NOTE)
            marks.append(badge)
        if entry.read_only:
            badge = make_label("read-only", "readOnlyBadge")
            badge.setToolTip(
                f"In a folder Hearth only reads ({Path(entry.path).parent}); "
                "Hearth never deletes it."
            )
            marks.append(badge)
        if not self.controller.is_embedding(entry):
            return marks
        kind = make_label("Embedding model", "embeddingBadge")
        kind.setToolTip("Searches documents by meaning; it can't chat, so it isn't loaded here.")
        marks.append(kind)
        if documents_model is not None and entry.path == documents_model:
            used = make_label("✓ Used for documents", "documentsBadge")
            used.setToolTip("Documents in your chats are searched by meaning with this model.")
            marks.append(used)
        else:
            button = make_button("Use for documents", "useForDocuments")
            button.setToolTip("Search documents in your chats by meaning with this model.")
            button.clicked.connect(lambda _=False, name=entry.name: self._use(name, button))
            self.use_buttons[entry.id] = button
            marks.append(button)
        return marks

    def _use(self, name: str, button: QPushButton) -> None:
        button.setEnabled(False)  # the list is rebuilt once the setting is saved
        self.controller.use_for_documents(name)

    def _source(self, entry: ModelEntry) -> str:
        if is_starter(entry):
            return "ships with Hearth"
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
