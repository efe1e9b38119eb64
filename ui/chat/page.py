"""The chat page: header (title, model picker, load), the conversation, the chat's
documents and the composer, wired to the ChatController (reads, new chats, branch
switches), the EngineController and the DocumentsController (files dropped on the page are
added)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.chat.runner import SourcesUsed, turns_for
from app.chat.titles import DEFAULT_TITLE, title_for_documents
from app.engine.events import ContextTrimmed, LoadedModel
from app.errors import HearthError
from app.store import Message, ModelEntry
from ui.chat.composer import Composer
from ui.chat.controller import ChatController
from ui.chat.view import ChatView
from ui.documents.controller import DocumentsController
from ui.documents.panel import DocumentsPanel
from ui.engine_controller import EngineController
from ui.widgets.combo import ChevronCombo
from ui.widgets.elided_label import ElidedLabel

if TYPE_CHECKING:
    from app.remote.client import RemoteModel
    from app.remote.servers import ServerModels

NO_MODEL_REASON = "Load a model to start chatting"
NO_LIBRARY_REASON = "Add a model to your library to start chatting"


class ChatPage(QWidget):
    chatChanged = Signal(int)  # a chat was created or renamed
    chatOpened = Signal(object)  # int | None: the chat the page now shows, however it came
    statusMessage = Signal(str)
    modelFilesDropped = Signal(list)  # list[Path] of .gguf files dropped on the page

    def __init__(
        self,
        chats: ChatController,
        engine: EngineController,
        parent: QWidget | None = None,
        *,
        documents: DocumentsController | None = None,
    ):
        super().__init__(parent)
        self.setObjectName("chatPage")
        self._chats = chats  # every store call of the page goes through it
        self._engine = engine
        self.documents = documents
        self._documents_wanted: bool | None = None  # the user's show/hide, else automatic
        self._chat_id: int | None = None
        self._thread: list[Message] = []
        self._loading = False
        self._answering_chat: int | None = None  # the chat the running job writes to
        self._pending_send: str | None = None  # sent once the model Send loaded is ready
        self._model_paths: dict[int, str] = {}  # library id -> file, for the picker
        self._remote_models: list[RemoteModel] = []  # listed by the servers, SERVER/MODEL

        # ---- header
        self.header = QFrame()
        self.header.setObjectName("chatHeader")
        self.title_label = ElidedLabel(DEFAULT_TITLE)
        self.title_label.setObjectName("chatTitle")
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.model_status = ElidedLabel()
        self.model_status.setObjectName("modelStatus")
        self.model_status.setMaximumWidth(170)
        self.model_picker = ChevronCombo(inset=18.0)
        self.model_picker.setObjectName("modelPicker")
        # Room for a model's name, not for the longest one: the title keeps its share.
        self.model_picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.model_picker.setMinimumContentsLength(10)
        self.load_button = QPushButton("Load")
        self.load_button.setObjectName("loadButton")
        self.load_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.load_button.clicked.connect(self._load_button_clicked)
        self.load_progress = QProgressBar()
        self.load_progress.setObjectName("loadProgress")
        self.load_progress.setRange(0, 100)
        self.load_progress.setFixedWidth(110)
        self.load_progress.setTextVisible(False)
        self.load_progress.hide()
        head = QHBoxLayout(self.header)
        head.setContentsMargins(20, 10, 16, 10)
        head.setSpacing(10)
        head.addWidget(self.title_label, 1)
        head.addWidget(self.model_status)
        head.addWidget(self.load_progress)
        head.addWidget(self.model_picker)
        head.addWidget(self.load_button)
        self.documents_button = QToolButton()
        self.documents_button.setObjectName("documentsButton")
        self.documents_button.setText("Documents")
        self.documents_button.setToolTip("Show or hide this chat's documents")
        self.documents_button.setCheckable(True)
        self.documents_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.documents_button.clicked.connect(self._documents_toggled)
        self.documents_button.setVisible(documents is not None)
        head.insertWidget(1, self.documents_button)

        # ---- banner for failures, in words
        self.banner = QFrame()
        self.banner.setObjectName("chatBanner")
        self.banner_label = QLabel()
        self.banner_label.setObjectName("chatBannerText")
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dismiss = QToolButton()
        dismiss.setObjectName("chatBannerClose")
        dismiss.setText("✕")
        dismiss.setToolTip("Dismiss")
        dismiss.setAutoRaise(True)
        dismiss.clicked.connect(self.hide_error)
        banner = QHBoxLayout(self.banner)
        banner.setContentsMargins(14, 8, 8, 8)
        banner.addWidget(self.banner_label, 1)
        banner.addWidget(dismiss, 0, Qt.AlignmentFlag.AlignTop)
        self.banner.hide()

        # ---- conversation and composer
        self.view = ChatView(allow_delete=True)
        self.composer = Composer()
        composer_row = QHBoxLayout()
        composer_row.setContentsMargins(20, 6, 20, 16)
        composer_row.addWidget(self.composer)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        self.documents_panel: DocumentsPanel | None = None
        if documents is not None:
            self.documents_panel = DocumentsPanel(documents)
            self.documents_panel.hide()
            self.documents_panel.addRequested.connect(self.add_documents)
            self.documents_panel.visibilityWanted.connect(self._show_documents)
            documents.documentsChanged.connect(self._update_documents_visibility)
            documents.notice.connect(self.statusMessage.emit)
            panel_row = QHBoxLayout()
            panel_row.setContentsMargins(20, 6, 20, 0)
            panel_row.addWidget(self.documents_panel)
            layout.addLayout(panel_row)
            self.setAcceptDrops(True)
        layout.addLayout(composer_row)

        # ---- intent → controller
        self.composer.sendRequested.connect(self.send)
        self.composer.stopRequested.connect(engine.stop)
        self.composer.editLastRequested.connect(self.view.edit_last_user_message)
        self.view.editRequested.connect(self._edit)
        self.view.regenerateRequested.connect(self._regenerate)
        self.view.continueRequested.connect(self._continue)
        self.view.siblingRequested.connect(self._switch_sibling)
        self.view.deleteRequested.connect(self._delete_message)
        self.view.copied.connect(lambda _text: self.statusMessage.emit("Copied to the clipboard"))

        # ---- engine → page
        engine.loadProgress.connect(self._load_progress)
        engine.modelLoaded.connect(self._model_loaded)
        engine.loadFailed.connect(self._load_failed)
        engine.modelUnloaded.connect(self._model_unloaded)
        engine.messageSaved.connect(self._message_saved)
        engine.textDelta.connect(self._text_delta)
        engine.contextTrimmed.connect(self._context_trimmed)
        engine.contextUsed.connect(self._context_used)
        engine.failed.connect(self._failed)
        engine.busyChanged.connect(self._busy_changed)
        engine.sourcesUsed.connect(self._sources_used)
        engine.embeddingProblem.connect(self.statusMessage.emit)
        engine.remoteReady.connect(self._remote_ready)
        engine.remoteModels.connect(self._remote_models_listed)

        # Esc stops the answer from anywhere on the page (editors keep Esc for themselves).
        stop = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        stop.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        stop.activated.connect(engine.stop)

        self.model_picker.currentIndexChanged.connect(lambda _i: self._show_model_state())
        self.refresh_models()
        self._show_model_state()
        self.composer.set_busy(engine.busy)
        self.open_chat(None)

    # ------------------------------------------------------------ public API
    @property
    def current_chat_id(self) -> int | None:
        return self._chat_id

    def open_chat(self, chat_id: int | None, *, focus: bool = True) -> None:
        """Show a stored chat, or the empty state for a new one (None); ``focus`` puts the
        cursor in the message box (not when the chat was picked in a list, whose keys go on
        working)."""
        self.hide_error()
        try:
            chat = self._chats.chat(chat_id) if chat_id is not None else None
        except HearthError as exc:
            self.open_chat(None)
            self.show_error(str(exc))
            return
        if chat_id != self._chat_id:
            self._documents_wanted = None
        self._set_chat(chat_id)
        if chat is None:
            self._thread = []
            self.title_label.setText(DEFAULT_TITLE)
            self.view.show_thread([], {})
        else:
            self.title_label.setText(chat.title)
            self._reload_thread()
            self.view.scroll_to_bottom()
            last = self._thread[-1] if self._thread else None
            if (
                self._engine.busy
                and self._answering_chat == chat.id
                and last is not None
                and last.status == "streaming"
            ):
                self.view.begin_answer(last.id)  # back to a chat that is still answering
        self._update_context_meter()
        if focus:
            self.composer.focus_input()

    def show_title(self, chat_id: int, title: str) -> None:
        """A chat was renamed or named by its first message: the header follows."""
        if chat_id == self._chat_id:
            self.title_label.setText(title)

    def _set_chat(self, chat_id: int | None) -> None:
        self._chat_id = chat_id
        self._set_documents_chat(chat_id)
        self.chatOpened.emit(chat_id)

    def _start_chat(self, title: str | None = None, *, model: str | None = None) -> int:
        """A new stored chat for the page (auto-titled unless ``title`` says otherwise)."""
        chat = self._chats.new_chat(title, model=model)
        self.title_label.setText(chat.title)
        self.chatChanged.emit(chat.id)
        self._set_chat(chat.id)
        return chat.id

    def set_theme(self, theme: str) -> None:
        """Re-render the conversation for the "light" or "dark" theme."""
        self.view.set_theme(theme)

    def refresh_models(self) -> None:
        """Re-read the library into the model picker (keeping the selection when possible)."""
        selected = self.model_picker.currentData()
        loaded = self._engine.loaded
        self.model_picker.blockSignals(True)
        self.model_picker.clear()
        models = self._chats.models()
        self._model_paths = {m.id: m.path for m in models}
        for entry in models:
            label = entry.name if not entry.quantization else f"{entry.name} · {entry.quantization}"
            self.model_picker.addItem(label, entry.id)
        for remote in self._remote_models:  # data: the SERVER/MODEL name (a str, not an id)
            self.model_picker.addItem(f"{remote.name} · remote", remote.name)
        if not models and not self._remote_models:
            self.model_picker.addItem("No models in the library", None)
        index = self.model_picker.findData(selected) if selected is not None else -1
        in_use = self._engine.remote
        if index < 0 and in_use is not None:
            index = self.model_picker.findData(in_use.name)
        if index < 0 and loaded is not None:
            index = next((i for i, m in enumerate(models) if Path(m.path) == Path(loaded.path)), -1)
        self.model_picker.setCurrentIndex(max(index, 0))
        self.model_picker.blockSignals(False)
        self.model_picker.setEnabled(bool(models or self._remote_models))
        self._show_model_state()

    def _remote_models_listed(self, answers: list[ServerModels]) -> None:
        self._remote_models = [m for answer in answers for m in answer.models]
        problems = [answer.problem for answer in answers if answer.problem]
        self.refresh_models()
        if problems:
            self.statusMessage.emit(problems[0])

    def _picked_remote(self) -> str | None:
        """The SERVER/MODEL picked in the header (None: a library model, or nothing)."""
        data = self.model_picker.currentData()
        return data if isinstance(data, str) else None

    def pick_model(self, model_id: int) -> bool:
        """Choose a library model in the header's picker (True when it is there)."""
        self.refresh_models()
        index = self.model_picker.findData(model_id)
        if index >= 0:
            self.model_picker.setCurrentIndex(index)
        return index >= 0

    def _picked_is_loaded(self) -> bool:
        """Whether the picked model is the one answering (loaded, or the remote in use)."""
        remote, picked = self._engine.remote, self._picked_remote()
        if picked is not None or remote is not None:
            return remote is not None and picked == remote.name
        loaded = self._engine.loaded
        path = self._model_paths.get(self.model_picker.currentData())
        return loaded is not None and path is not None and Path(path) == Path(loaded.path)

    def _load_button_clicked(self) -> None:
        if self._picked_is_loaded():
            if self._engine.remote is not None:
                self._engine.stop_using_remote()
            else:
                self._engine.unload()
        else:
            self.load_selected_model()

    def load_selected_model(self) -> None:
        """Load the picker's model with this chat's settings (progress in the header); a
        remote model is checked with its server instead."""
        remote = self._picked_remote()
        if remote is not None:
            if self._engine.busy:
                self.show_error("The model is still answering; stop it before switching.")
                return
            self.hide_error()
            self._loading = True
            self._show_model_state()
            self.statusMessage.emit(f"Connecting to {remote}…")
            self._engine.use_remote(remote)
            return
        entry = self._selected_model()
        if entry is None:
            self.show_error("Choose a model from your library first.")
            return
        if self._engine.busy:
            self.show_error("The model is still answering; stop it before loading another.")
            return
        chat = self._chats.chat(self._chat_id) if self._chat_id is not None else None
        try:
            options = self._chats.load_options(entry, chat)
        except (HearthError, TypeError, ValueError) as exc:
            self.show_error(f"Cannot load {entry.name}: {exc}")
            return
        self.hide_error()
        self._loading = True
        self.load_progress.setValue(0)
        self.load_progress.show()
        self.composer.clear_context_usage()
        self._show_model_state()
        self.statusMessage.emit(f"Loading {entry.name}…")
        self._engine.load(Path(entry.path), options)

    # ------------------------------------------------------------- documents
    def add_documents(self, paths: list[Path]) -> int | None:
        """Add files and folders to the open chat (a new chat, named after them, when none
        is open); they are indexed in the background. Returns the chat's id."""
        if self.documents is None or not paths:
            return None
        if self._chat_id is None:
            self._start_chat(title_for_documents(paths))  # until its first message names it
        self._show_documents(True)
        self.documents.add_paths(paths, chat_id=self._chat_id)
        return self._chat_id

    def choose_documents(self) -> None:
        if self.documents_panel is not None:
            self.documents_panel.choose_files()

    def choose_folder(self) -> None:
        if self.documents_panel is not None:
            self.documents_panel.choose_folder()

    def drop_paths(self, paths: list[Path]) -> bool:
        """What a drop on the page does: model files go to the library import, everything
        else to this chat's documents. True when something was taken."""
        models = [p for p in paths if p.suffix.lower() == ".gguf"]
        others = [p for p in paths if p.suffix.lower() != ".gguf"]
        if models:
            self.modelFilesDropped.emit(models)
        if others and self.documents is not None:
            self.add_documents(others)
        return bool(models or (others and self.documents is not None))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if self.drop_paths(paths):
            event.acceptProposedAction()
        else:
            event.ignore()

    def _set_documents_chat(self, chat_id: int | None) -> None:
        if self.documents_panel is not None:
            self.documents_panel.set_chat(chat_id)
            self._update_documents_visibility()

    def _documents_toggled(self, checked: bool) -> None:
        self._documents_wanted = checked
        self._update_documents_visibility()

    def _show_documents(self, on: bool) -> None:
        self._documents_wanted = on
        self._update_documents_visibility()

    def _update_documents_visibility(self) -> None:
        panel = self.documents_panel
        if panel is None:
            return
        wanted = self._documents_wanted
        visible = wanted if wanted is not None else panel.has_content()
        panel.setVisible(visible)
        self.documents_button.setChecked(visible)
        count = len(panel.documents())
        self.documents_button.setText(f"Documents · {count}" if count else "Documents")

    def _sources_used(self, event: SourcesUsed) -> None:
        if self._answering_chat is None or self._answering_chat != self._chat_id:
            return
        self.view.set_sources(event.message_id, event.mode, event.sources)
        if self.documents_panel is not None:
            self.documents_panel.set_last_mode(event.mode)

    def show_error(self, text: str) -> None:
        self.banner_label.setText(text)
        self.banner.show()

    def hide_error(self) -> None:
        self.banner.hide()

    def error_text(self) -> str | None:
        return self.banner_label.text() if self.banner.isVisibleTo(self) else None

    # ------------------------------------------------------------ user intent
    def send(self, text: str) -> None:
        """Send ``text`` in the open chat (a new one when none is): with no model loaded,
        the picked one loads first and the message goes once it is ready."""
        if self._engine.answering_with is None:
            if self._selected_model() is None and self._picked_remote() is None:
                self.composer.set_text(text)
                self.show_error(NO_MODEL_REASON + ".")
                return
            self._pending_send = text
            if not self._loading:
                self.load_selected_model()
            if not self._loading:  # refused, and said why
                self._pending_send = None
                self.composer.set_text(text)
            return
        if self._engine.busy:
            self.composer.set_text(text)
            self.show_error("The model is still answering; stop it or wait for it to finish.")
            return
        self.hide_error()
        chat_id = self._chat_id
        if chat_id is None:
            loaded = self._engine.answering_with
            chat_id = self._start_chat(model=loaded.name if loaded else None)  # titled by text
        self._answering_chat = chat_id
        self.view.scroll_to_bottom()
        self._engine.send(chat_id, text)

    def _edit(self, message_id: int, text: str) -> None:
        if self._refuse_while_busy():
            return
        self._answering_chat = self._chat_id
        self.view.scroll_to_bottom()
        self._engine.edit(message_id, text)

    def _regenerate(self, message_id: int) -> None:
        if self._refuse_while_busy():
            return
        self._answering_chat = self._chat_id
        self._engine.regenerate(message_id)

    def _continue(self, message_id: int) -> None:
        if self._refuse_while_busy():
            return
        self._answering_chat = self._chat_id
        self._engine.continue_answer(message_id)

    def _switch_sibling(self, message_id: int, step: int) -> None:
        if self._engine.busy:
            self.statusMessage.emit("Wait for the answer to finish before switching versions.")
            return
        if self._chats.switch_branch(message_id, step):
            self._reload_thread()
            self._update_context_meter()

    def _delete_message(self, message_id: int) -> None:
        """Delete a message and what branches from it (the rest of the chat stays)."""
        if self._engine.busy:
            self.statusMessage.emit("Wait for the answer to finish before deleting messages.")
            return
        self._chats.delete_message(message_id)
        self._reload_thread()
        self._update_context_meter()
        self.statusMessage.emit("Message deleted")

    def _refuse_while_busy(self) -> bool:
        if self._engine.answering_with is None:
            self.show_error(NO_MODEL_REASON + ".")
            return True
        if self._engine.busy:
            self.show_error("The model is still answering; stop it or wait for it to finish.")
            return True
        self.hide_error()
        return False

    # -------------------------------------------------------- engine events
    def _message_saved(self, message: Message, final: bool) -> None:
        if message.chat_id != self._chat_id:
            return
        if final:
            self.view.finish_answer(message)
            self._thread = [message if m.id == message.id else m for m in self._thread]
            if message.status == "error":
                self.show_error(message.error or "The answer failed.")
            self._update_context_meter()
            return
        self._reload_thread()
        if message.role == "assistant":
            self.view.begin_answer(message.id)

    def _text_delta(self, kind: str, text: str) -> None:
        if self._answering_chat is not None and self._answering_chat == self._chat_id:
            self.view.append_delta(kind, text)

    def _context_used(self, tokens: int, n_ctx: int) -> None:
        if self._answering_chat is not None and self._answering_chat == self._chat_id:
            self.composer.set_context_usage(tokens, n_ctx)

    def _context_trimmed(self, event: ContextTrimmed) -> None:
        count = len(event.dropped)
        self.statusMessage.emit(
            f"The conversation is longer than the model's context ({event.n_ctx:,} tokens): "
            f"the oldest {count} message{'s' if count != 1 else ''} were left out of this answer."
        )

    def _failed(self, text: str) -> None:
        self.show_error(text)

    def _busy_changed(self, busy: bool) -> None:
        self.composer.set_busy(busy)
        if not busy:
            self._answering_chat = None
        self._show_model_state()

    def _load_progress(self, fraction: float) -> None:
        self.load_progress.setValue(round(fraction * 100))

    def _model_loaded(self, loaded: LoadedModel) -> None:
        self._loading = False
        self.load_progress.hide()
        self._show_model_state()
        self.statusMessage.emit(f"Loaded {loaded.name} ({loaded.n_ctx:,} tokens of context)")
        if loaded.context_note:  # the chat's or model's context was lowered: say so
            self.show_error(loaded.context_note)
        self._update_context_meter()
        pending, self._pending_send = self._pending_send, None
        if pending is not None:
            self.send(pending)

    def _remote_ready(self, remote: RemoteModel) -> None:
        self._loading = False
        self.refresh_models()
        self.statusMessage.emit(f"Answering with {remote.name} on its server")
        self._update_context_meter()
        pending, self._pending_send = self._pending_send, None
        if pending is not None:
            self.send(pending)

    def _load_failed(self, text: str) -> None:
        self._loading = False
        self.load_progress.hide()
        self._show_model_state()
        self.show_error(text)
        pending, self._pending_send = self._pending_send, None
        if pending is not None:
            self.composer.set_text(pending)  # nothing was sent: the message is kept

    def _model_unloaded(self) -> None:
        self._show_model_state()
        self._update_context_meter()

    # ---------------------------------------------------------------- reads
    def _selected_model(self) -> ModelEntry | None:
        model_id = self.model_picker.currentData()
        if not isinstance(model_id, int):  # nothing, or a remote model
            return None
        return self._chats.model(model_id)

    def _reload_thread(self) -> None:
        if self._chat_id is None:
            return
        thread = self._chats.thread(self._chat_id)
        self._thread = thread.messages
        self.view.show_thread(thread.messages, thread.siblings, thread.sources)
        if self.documents_panel is not None:
            modes = [
                str(m.meta["documents_mode"]) for m in self._thread if "documents_mode" in m.meta
            ]
            self.documents_panel.set_last_mode(modes[-1] if modes else None)

    def _show_model_state(self) -> None:
        loaded = self._engine.answering_with
        has_models = self.model_picker.currentData() is not None
        unload = self._picked_is_loaded()
        remote = self._picked_remote() is not None
        self.load_button.setEnabled(has_models and not self._loading and not self._engine.busy)
        idle, active = ("Use", "Stop using") if remote else ("Load", "Unload")
        self.load_button.setText("Loading…" if self._loading else active if unload else idle)
        self.load_button.setToolTip(
            ("Answer with the local model again" if remote else "Free the memory this model uses")
            if unload
            else ("Answer with this model on its server" if remote else "Load the chosen model")
        )
        if self._loading:
            self.model_status.setText("")
        elif loaded is None:
            self.model_status.setText("No model loaded")
        elif unload:  # the picker names it; the header only says it is ready
            self.model_status.setText("● Connected" if remote else "● Loaded")
            self.model_status.setToolTip(
                f"{loaded.name} answers" + (" on its server" if remote else "; it is loaded")
            )
        else:
            self.model_status.setText(f"● {loaded.name} loaded")
        self.model_status.setProperty("loaded", loaded is not None and not self._loading)
        style = self.model_status.style()
        style.unpolish(self.model_status)
        style.polish(self.model_status)
        if self._loading:
            self.composer.set_enabled_reason("Loading the model…")
        elif loaded is None and not has_models:
            self.composer.set_enabled_reason(NO_LIBRARY_REASON)
        else:
            self.composer.set_enabled_reason(None)  # with none loaded, Send loads the picked one

    def _update_context_meter(self) -> None:
        """Tokens the visible conversation takes in the loaded model's context (cheap: done
        when a chat opens, a model loads or an answer is saved, never per keystroke)."""
        engine = self._engine.engine
        loaded = self._engine.answering_with
        if loaded is None or self._loading:
            self.composer.clear_context_usage()
            return
        if self._chat_id is None or not self._thread:
            self.composer.set_context_usage(0, loaded.n_ctx)
            return
        last = self._thread[-1]
        if last.role == "assistant" and last.stats.prompt_tokens and last.status != "streaming":
            # What the model was really given for the newest answer (documents included).
            used = last.stats.prompt_tokens + (last.stats.completion_tokens or 0)
            self.composer.set_context_usage(used, loaded.n_ctx)
            return
        chat = self._chats.chat(self._chat_id)
        # Count the newest turns, doubling how many until they overflow the context or
        # all are in: the cost follows the context size, not the length of the chat.
        count = 8
        try:
            while True:
                tail = self._thread[-count:]
                turns = turns_for(chat, tail)
                if self._engine.remote is not None:  # the server holds the template
                    used = self._engine.count_tokens("\n".join(t["content"] for t in turns))
                else:
                    used = len(engine.tokenize_prompt(engine.render(turns)))
                if count >= len(self._thread) or used > loaded.n_ctx:
                    break
                count *= 2
        except HearthError:
            self.composer.clear_context_usage()
            return
        self.composer.set_context_usage(used, loaded.n_ctx)
