"""The main window: sidebar of chats, the chat / models / welcome pages, menus, shortcuts,
status bar, drag-and-drop import, and the window's state kept between runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from app import __version__
from app.chat.export import export_chat, import_json
from app.context import Context
from app.engine.events import LoadedModel
from app.errors import HearthError
from app.hardware import process_memory
from app.models.catalog import first_launch
from app.models.fit import Machine
from app.models.starter import is_starter
from app.remote.client import RemoteModel
from app.units import format_bytes
from resources import resource_path
from ui.api_status import ApiController, ApiIndicator
from ui.chat.controller import ChatController, ChatsController
from ui.chat.page import ChatPage
from ui.chat.settings_panel import ChatSettingsPanel
from ui.chat.sidebar import Sidebar
from ui.documents.controller import DocumentsController
from ui.engine_controller import EngineController
from ui.models.controller import ModelsController
from ui.models.page import ModelsPage
from ui.settings.dialog import SettingsController, SettingsDialog
from ui.settings.remote_servers import RemoteServersPanel
from ui.shortcuts_dialog import ShortcutsDialog
from ui.theme import apply_theme
from ui.welcome_page import WelcomePage
from ui.widgets.file_dialogs import choose_model_files

# Keys that are not menu items (the menus' own shortcuts are listed from the menus).
KEYS = (
    ("Enter / Shift+Enter", "Send / new line"),
    ("Esc", "Stop the answer"),
    ("Up (empty message box)", "Edit your last message"),
    ("Del (chat list)", "Delete the chat (with undo)"),
    ("F2 (chat list)", "Rename the chat"),
)


class MainWindow(QMainWindow):
    def __init__(self, ctx: Context, app: QApplication) -> None:
        super().__init__()
        self.ctx = ctx
        self.app = app
        store = ctx.store
        self.setWindowTitle("Hearth")
        self.setWindowIcon(QIcon(str(resource_path("icons/hearth.svg"))))
        self.resize(self.default_size())
        self.setMinimumSize(820, 520)
        self.setAcceptDrops(True)
        self._network_checking = False

        # ---- controllers (all long work runs on their own threads)
        self.remote_servers = ctx.remote_servers()
        self.engine = EngineController(
            store,
            idle_unload_minutes=int(ctx.setting("idle_unload_minutes")),
            remote_servers=self.remote_servers,
        )
        self.chats = ChatsController(store, ctx.paths.home)
        self.models = ModelsController(store, ctx.models_dir, offline=bool(ctx.setting("offline")))
        self.settings = SettingsController(store)
        self.documents = DocumentsController(store, self.engine)
        self.api = ApiController(self.engine.host, store, self)

        # ---- pages
        self.sidebar = Sidebar(self.chats)
        self.welcome = WelcomePage()
        self.chat_page = ChatPage(ChatController(store), self.engine, documents=self.documents)
        self.models_page = ModelsPage(self.models)
        self.chat_panel = ChatSettingsPanel(self.chats)
        self.chat_panel.setMinimumWidth(300)
        self.chat_panel.hide()
        self.pages = QStackedWidget()
        for page in (self.welcome, self.chat_page, self.models_page):
            self.pages.addWidget(page)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.pages)
        self.splitter.addWidget(self.chat_panel)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([270, 900, 0])
        self.setCentralWidget(self.splitter)

        self._build_toolbar()
        self._build_menus()
        self._build_status_bar()
        self._wire()
        self._state = QSettings(str(ctx.paths.home / "ui-state.ini"), QSettings.Format.IniFormat)
        self._restore_state()
        self._reload_last_model()
        self._apply_api_settings(at_start=True)
        self.models.start()
        self.documents.start()  # documents left unfinished by the last run go on
        self.engine.refresh_remote_models()  # their models join the picker when they answer
        # A new embedding model chosen in the library: give every passage its vector.
        self.models.embeddingModelChanged.connect(lambda _name: self.documents.start())

    # ------------------------------------------------------------------ layout
    @staticmethod
    def default_size() -> QSize:
        """The first window's size, before any saved geometry."""
        return QSize(1320, 820)  # fits a 1366×768 laptop less its panels

    def _build_toolbar(self) -> None:
        bar = QToolBar("Navigation")
        bar.setObjectName("navBar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.chats_action = QAction("Chats", self, checkable=True)
        self.models_action = QAction("Models", self, checkable=True)
        self.panel_action = QAction("Chat settings", self, checkable=True)
        self.chats_action.triggered.connect(self.show_chats)
        self.models_action.triggered.connect(self.show_models)
        self.panel_action.toggled.connect(self._toggle_panel)
        for action in (self.chats_action, self.models_action):
            bar.addAction(action)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addAction(self.panel_action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file = menu.addMenu("&File")
        self._action(file, "New chat", "Ctrl+N", self.new_chat)
        self._action(file, "Import a model (.gguf)…", None, self.import_model_dialog)
        file.addSeparator()
        self._action(file, "Add documents…", "Ctrl+Shift+O", self.add_documents)
        self._action(file, "Add a folder of documents…", None, self.add_documents_folder)
        self._action(file, "Add documents to a collection…", None, self.add_documents_to_collection)
        self.unload_action = self._action(file, "Unload the model", None, self.engine.unload)
        self.unload_action.setEnabled(False)  # nothing is loaded yet
        file.addSeparator()
        self._action(file, "Export chat as Markdown…", None, lambda: self.export_chat("md"))
        self._action(file, "Export chat as JSON…", None, lambda: self.export_chat("json"))
        self._action(file, "Import chat (JSON)…", None, self.import_chat)
        file.addSeparator()
        self._action(file, "Quit", "Ctrl+Q", self.close)
        edit = menu.addMenu("&Edit")
        self._action(edit, "Copy last answer", "Ctrl+Shift+C", self.copy_last_answer)
        self._action(edit, "Search chats", "Ctrl+F", self.focus_search)
        self._action(edit, "Focus the message box", "Ctrl+L", self.focus_composer)
        edit.addSeparator()
        self._action(edit, "Settings…", "Ctrl+,", self.open_settings)
        view = menu.addMenu("&View")
        self._action(view, "Chats", None, self.show_chats)
        self._action(view, "Models", None, self.show_models)
        self._action(view, "Downloads", None, self.show_downloads)
        help_menu = menu.addMenu("&Help")
        self._action(help_menu, "Keyboard shortcuts", None, self.show_shortcuts)
        self._action(help_menu, "About Hearth", None, self.show_about)

    def _action(
        self, menu: QMenu, text: str, shortcut: str | None, slot: Callable[[], object]
    ) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.model_label = QLabel("No model loaded")
        self.state_label = QLabel("Idle")
        self.memory_label = QLabel()
        self.api_indicator = ApiIndicator(self.api)
        bar.addPermanentWidget(self.api_indicator)
        for label in (self.state_label, self.memory_label, self.model_label):
            label.setObjectName("statusField")
            bar.addPermanentWidget(label)
        self._memory_timer = QTimer(self)
        self._memory_timer.setInterval(2000)
        self._memory_timer.timeout.connect(self._show_memory)
        self._memory_timer.start()
        self._show_memory()

    def _wire(self) -> None:
        # A chat picked in the sidebar keeps the keyboard there (arrows, Del, F2); a new
        # chat puts the cursor in the message box.
        self.sidebar.chatSelected.connect(lambda chat_id: self.open_chat(chat_id, focus=False))
        self.chats.chatCreated.connect(lambda _id: self.focus_composer())
        self.sidebar.messageSelected.connect(self.open_message)
        self.chats.chatsChanged.connect(self._chats_changed)
        self.chats.chatRestored.connect(self.open_chat)
        self.chats.chatTitleChanged.connect(self.chat_page.show_title)
        self.engine.chatTitled.connect(self.chats.chat_titled)
        self.chat_page.chatOpened.connect(self._chat_opened)
        self.chats.chatSettingsChanged.connect(self._chat_settings_changed)
        self.chat_page.chatChanged.connect(lambda _id: self.chats.refresh())
        self.chat_page.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 4000))
        self.chat_page.modelFilesDropped.connect(self.import_model_files)
        self.models_page.loadRequested.connect(self.load_model)
        self.models_page.unloadRequested.connect(self.engine.unload)
        self.models.libraryChanged.connect(self._library_changed)
        self.welcome.findRequested.connect(self.show_models)
        self.welcome.importRequested.connect(self.import_model_dialog)
        self.welcome.retryRequested.connect(self._check_network)
        self.models.networkChecked.connect(self._network_checked)
        self.welcome.starterRequested.connect(self._open_starter)
        self.welcome.chatNowRequested.connect(self._chat_with_starter)
        self.engine.loadProgress.connect(
            lambda f: self.state_label.setText(f"Loading model… {int(f * 100)}%")
        )
        self.engine.modelLoaded.connect(self._model_loaded)
        self.engine.loadFailed.connect(lambda _m: self.state_label.setText("Idle"))
        self.engine.modelUnloaded.connect(self._model_unloaded)
        self.engine.remoteReady.connect(self._remote_ready)
        self.engine.busyChanged.connect(
            lambda busy: self.state_label.setText("Generating…" if busy else "Idle")
        )
        self.engine.contextTrimmed.connect(
            lambda t: self.statusBar().showMessage(
                f"{len(t.dropped)} older messages left out to fit the {t.n_ctx:,}-token context",
                8000,
            )
        )

    # ------------------------------------------------------------------ pages
    def show_chats(self) -> None:
        has_models = any(not is_starter(m) for m in self.ctx.store.list_models())
        has_chat = self.chat_page.current_chat_id is not None
        if not has_models and not has_chat:
            self._show_welcome()
        else:
            self.pages.setCurrentWidget(self.chat_page)
        self._sync_nav()

    def show_models(self) -> None:
        self.pages.setCurrentWidget(self.models_page)
        self.models_page.show_browse()
        self._sync_nav()

    def show_downloads(self) -> None:
        self.pages.setCurrentWidget(self.models_page)
        self.models_page.show_downloads()
        self._sync_nav()

    def _show_welcome(self) -> None:
        if self.models.reachable is None and not self._network_checking:
            self._check_network()
        starter = next((m for m in self.ctx.store.list_models() if is_starter(m)), None)
        advice = first_launch(
            bool(self.ctx.setting("offline")),
            Machine.detect(),
            int(self.ctx.setting("context_length")),
            reachable=None if self._network_checking else self.models.reachable,
            starter_ready=starter is not None,
        )
        self.welcome.show_advice(
            advice,
            models_dir=str(self.ctx.models_dir),
            data_home=str(self.ctx.paths.home),
            ready_model=(starter.id, starter.name) if starter else None,
        )
        self.pages.setCurrentWidget(self.welcome)

    def _check_network(self) -> None:
        """Whether the hub answers decides what the first launch offers (checked off the GUI
        thread; the welcome page says it is checking)."""
        self._network_checking = True
        if self.pages.currentWidget() is self.welcome:
            self._show_welcome()
        self.models.check_network()

    def _network_checked(self, _reachable: bool) -> None:
        self._network_checking = False
        if self.pages.currentWidget() is self.welcome:
            self._show_welcome()

    def _sync_nav(self) -> None:
        current = self.pages.currentWidget()
        self.chats_action.setChecked(current is not self.models_page)
        self.models_action.setChecked(current is self.models_page)

    def _toggle_panel(self, on: bool) -> None:
        self.chat_panel.setVisible(on)
        if on:
            sizes = self.splitter.sizes()
            if sizes[2] < 200:
                self.splitter.setSizes([sizes[0], max(300, sizes[1] - 320), 320])

    # ------------------------------------------------------------------ chats
    def new_chat(self) -> None:
        self.chats.new_chat()  # the sidebar selects it: chatSelected opens it

    def open_chat(self, chat_id: int, *, focus: bool = True) -> None:
        self.chat_page.open_chat(chat_id, focus=focus)  # chatOpened: panel and sidebar follow
        self.pages.setCurrentWidget(self.chat_page)
        self._sync_nav()

    def _chat_opened(self, chat_id: int | None) -> None:
        """However a chat was opened (sidebar, search, new, first message, undo, relaunch),
        the settings panel edits it and the sidebar highlights it."""
        if self.chat_panel.chat_id != chat_id:
            self.chat_panel.set_chat(chat_id)
        self.sidebar.select_chat(chat_id)

    def open_message(self, chat_id: int, message_id: int) -> None:
        self.open_chat(chat_id)
        self.chat_page.view.scroll_to_message(message_id)

    def _chats_changed(self, _groups: object) -> None:
        current = self.chat_page.current_chat_id
        if current is not None and current == self.chats.pending_delete_id:
            self.chat_page.open_chat(None)

    def _chat_settings_changed(self, chat_id: int) -> None:
        if chat_id == self.chat_page.current_chat_id:
            self.chat_page.open_chat(chat_id)

    def focus_search(self) -> None:
        self.sidebar.focus_search()

    def focus_composer(self) -> None:
        if self.pages.currentWidget() is not self.chat_page:
            self.pages.setCurrentWidget(self.chat_page)
            self._sync_nav()
        self.chat_page.composer.focus_input()

    def add_documents(self) -> None:
        self.show_chat_page()
        self.chat_page.choose_documents()

    def add_documents_folder(self) -> None:
        self.show_chat_page()
        self.chat_page.choose_folder()

    def add_documents_to_collection(self) -> None:
        names = [c.name for c in self.documents.collections()] or ["My documents"]
        name, ok = QInputDialog.getItem(
            self,
            "Add documents to a collection",
            "Collection (pick one, or type a new name):",
            names,
            0,
            True,
        )
        if not ok or not name.strip():
            return
        files, _ = QFileDialog.getOpenFileNames(self, f"Add documents to {name.strip()}")
        if files:
            self.add_to_collection(name, [Path(f) for f in files])

    def add_to_collection(self, name: str, paths: list[Path]) -> None:
        """Index files into a named collection (made if new) that the open chat draws on."""
        collection = self.documents.create_collection(name)
        if collection is None:
            return
        self.documents.add_paths(paths, collection_id=collection.id)
        chat_id = self.chat_page.current_chat_id
        if chat_id is not None:
            self.documents.attach(chat_id, collection.id)

    def show_chat_page(self) -> None:
        if self.pages.currentWidget() is not self.chat_page:
            self.pages.setCurrentWidget(self.chat_page)
            self._sync_nav()

    def copy_last_answer(self) -> None:
        chat_id = self.chat_page.current_chat_id
        if chat_id is None:
            return
        answers = [m for m in self.ctx.store.thread(chat_id) if m.role == "assistant"]
        if answers:
            QGuiApplication.clipboard().setText(answers[-1].content)
            self.statusBar().showMessage("Copied the last answer", 3000)

    def export_chat(self, fmt: str) -> None:
        chat_id = self.chat_page.current_chat_id
        if chat_id is None:
            self.statusBar().showMessage("Open a chat to export it", 4000)
            return
        title = self.ctx.store.get_chat(chat_id).title
        safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip() or "chat"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export chat", str(Path.home() / f"{safe}.{fmt}"),
            "Markdown (*.md)" if fmt == "md" else "JSON (*.json)",
        )  # fmt: skip
        if not path:
            return
        try:
            Path(path).write_text(export_chat(self.ctx.store, chat_id, fmt), encoding="utf-8")
        except OSError as exc:
            QMessageBox.warning(self, "Export failed", f"Could not write {path}: {exc.strerror}")
            return
        self.statusBar().showMessage(f"Exported to {path}", 5000)

    def import_chat(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import chat", str(Path.home()), "JSON (*.json)"
        )
        if path:
            self.import_chat_file(Path(path))

    def import_chat_file(self, path: Path) -> int | None:
        try:
            chat = import_json(self.ctx.store, json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, HearthError) as exc:
            QMessageBox.warning(self, "Import failed", f"Could not import {path.name}: {exc}")
            return None
        self.chats.refresh()
        self.open_chat(chat.id)
        return chat.id

    # ----------------------------------------------------------------- models
    def load_model(self, entry: object) -> None:
        self.chat_page.pick_model(int(getattr(entry, "id", -1)))
        self.pages.setCurrentWidget(self.chat_page)
        self._sync_nav()
        self.chat_page.load_selected_model()

    def _reload_last_model(self) -> None:
        """At start, the model used last loads again (the reload_last_model setting)."""
        entry = self.models.library.model_to_reload(str(self._state.value("last_model") or ""))
        if entry is not None and self.chat_page.pick_model(entry.id):
            self.chat_page.load_selected_model()  # on the engine thread; progress in the header

    def _library_changed(self, _models: object) -> None:
        self.chat_page.refresh_models()
        if self.pages.currentWidget() is self.welcome:
            self.show_chats()  # a real model opens the chats; the starter alone: offered here

    def _chat_with_starter(self, model_id: int) -> None:
        """The first launch's "Chat now": a new chat on the starter model, loading."""
        self.new_chat()
        self.pages.setCurrentWidget(self.chat_page)
        self._sync_nav()
        if self.chat_page.pick_model(model_id):
            self.chat_page.load_selected_model()

    def _open_starter(self, repo_id: str, _filename: str) -> None:
        self.pages.setCurrentWidget(self.models_page)
        self.models_page.open_repo(repo_id)
        self._sync_nav()

    def _model_loaded(self, loaded: LoadedModel) -> None:
        self.state_label.setText("Idle")
        source = loaded.chat_source
        self.model_label.setText(loaded.name + (f" · {source}" if source != "model" else ""))
        self.unload_action.setEnabled(True)
        self.models_page.set_loaded_model(str(loaded.path))
        self._state.setValue("last_model", str(loaded.path))  # loaded again at the next start

    def _model_unloaded(self) -> None:
        loaded = self.engine.loaded
        if loaded is not None:  # a remote model was let go; the local one answers again
            self._model_loaded(loaded)
            self.chat_page.refresh_models()
            self.statusBar().showMessage(f"Answering with {loaded.name} again", 4000)
            return
        self.model_label.setText("No model loaded")
        self.unload_action.setEnabled(False)
        self.models_page.set_loaded_model(None)
        self.chat_page.refresh_models()
        self.statusBar().showMessage("Model unloaded; its memory is free", 4000)

    def _remote_ready(self, remote: RemoteModel) -> None:
        self.state_label.setText("Idle")
        self.model_label.setText(f"{remote.name} · remote")

    def _show_memory(self) -> None:
        self.memory_label.setText(f"Memory {format_bytes(process_memory())}")

    # ---------------------------------------------------------------- dialogs
    def open_settings(self) -> None:
        remote = RemoteServersPanel(self.remote_servers, self.engine)
        dialog = SettingsDialog(self.settings, self, extra_pages=[("Remote servers", remote)])
        dialog.settingsChanged.connect(self._settings_changed)
        dialog.exec()

    def _settings_changed(self, changed: dict[str, object]) -> None:
        if "theme" in changed:
            theme = apply_theme(self.app, str(changed["theme"]))
            self.chat_page.set_theme(theme)
        if "embedding_model" in changed:
            self.documents.start()  # passages without vectors from the new model get them
        if any(name.startswith("api_") for name in changed):
            self._apply_api_settings(at_start=False)

    def _apply_api_settings(self, *, at_start: bool) -> None:
        """Serve the API or not, as its settings say; a port in use is said in words (at
        start in the status bar, after a change in Settings in a message)."""
        problem = self.api.apply_settings()
        if problem is None:
            return
        if at_start:
            self.statusBar().showMessage(problem, 15_000)
        else:
            QMessageBox.warning(self, "The API could not start", problem)

    def shortcuts_dialog(self) -> ShortcutsDialog:
        """Every menu shortcut (read from the menus, so none is left out) and the other keys."""
        rows = [
            (action.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
             action.text().replace("&", "").removesuffix("…"))
            for menu in self.menuBar().findChildren(QMenu)
            for action in menu.actions()
            if not action.shortcut().isEmpty()
        ]  # fmt: skip
        return ShortcutsDialog([*rows, *KEYS], self)

    def show_shortcuts(self) -> None:
        self.shortcuts_dialog().exec()

    def show_about(self) -> None:
        QMessageBox.about(
            self, "About Hearth",
            f"Hearth {__version__}\nRun open language models on your own computer, "
            "offline and private.",
        )  # fmt: skip

    # -------------------------------------------------------- drag and drop
    # Model files are imported wherever they are dropped; other files dropped on the chat
    # page become the chat's documents (the page takes those drops itself).
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(u.toLocalFile().lower().endswith(".gguf") for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls()]
        models = [p for p in paths if p.suffix.lower() == ".gguf"]
        if models:
            self.import_model_files(models)
            event.acceptProposedAction()

    def import_model_dialog(self) -> None:
        """Choose .gguf files to import; a failure is shown on the page the user is on."""
        paths = choose_model_files(self)
        if paths:
            self.import_model_files(paths)

    def import_model_files(self, models: list[Path]) -> None:
        """Import model files; what goes wrong is said where the user acted."""
        origin = self.pages.currentWidget()
        self.models.import_files(models, on_failed=lambda text: self._show_error(origin, text))
        count = len(models)
        self.statusBar().showMessage(f"Importing {count} model file{'s' if count != 1 else ''}…",
                                     4000)  # fmt: skip

    def _show_error(self, page: QWidget | None, text: str) -> None:
        """An error shown on ``page``: the chat page's or welcome page's own, or the Models
        page's banner."""
        if page is self.chat_page:
            self.chat_page.show_error(text)
        elif page is self.welcome and self.pages.currentWidget() is self.welcome:
            self.welcome.show_error(text)
        else:
            self.models_page.show_error(text)

    # ------------------------------------------------------------------ state
    def _restore_state(self) -> None:
        geometry = self._state.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        splitter = self._state.value("splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        self.chat_panel.hide()
        last = self._state.value("last_chat")
        try:
            last_id = int(str(last)) if last not in (None, "") else None
        except ValueError:
            last_id = None
        if last_id is not None and any(c.id == last_id for c in self.ctx.store.list_chats()):
            self.open_chat(last_id)
        else:
            self.show_chats()

    def save_state(self) -> None:
        self._state.setValue("geometry", self.saveGeometry())
        self._state.setValue("splitter", self.splitter.saveState())
        chat_id = self.chat_page.current_chat_id
        self._state.setValue("last_chat", "" if chat_id is None else str(chat_id))
        self._state.sync()

    def shutdown(self) -> None:
        """Save the window's state, stop answers and downloads (both resumable), free models."""
        self.save_state()
        self._memory_timer.stop()
        self.api.shutdown()  # first: its answers stop, so the engine thread's turns come
        self.chats.shutdown()
        self.models.shutdown()
        self.documents.shutdown_and_wait()
        self.engine.shutdown_and_wait()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
