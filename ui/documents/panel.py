"""Documents in the chat page: the strip above the composer listing the chat's files and
their indexing, its attached collections, the source chips under an answer, and the dialog
showing the passage a source points to."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.documents.embeddings import EmbedMeter, EmbedProgress, VectorState
from app.documents.ingest import IndexProgress
from app.store import Collection, Document, SourceRecord
from ui.documents.controller import DocumentsController, kind_text
from ui.theme import repolish
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.flow_layout import FlowLayout
from ui.widgets.scroll import vertical_scroll

MODE_WORDS = {"whole": "Whole documents", "retrieval": "Searched passages"}
ROWS_SHOWN = 4  # rows before the list scrolls
NEW_COLLECTION = -1


def chip_text(source: SourceRecord) -> str:
    """A source as a chip reads: "[1] report.pdf · p. 3", "[2] notes.md · Setup"."""
    text = f"[{source.number}] {source.name}"
    if source.page is not None:
        text += f" · p. {source.page}"
    elif source.heading:
        heading = source.heading.split(" > ")[-1]
        text += f" · {heading if len(heading) <= 28 else heading[:27] + '…'}"
    return text


def mode_text(mode: str, count: int) -> str:
    if mode == "whole":
        return "Answered from whole documents"
    return f"From {count} searched passage{'s' if count != 1 else ''}"


# ------------------------------------------------------------------ source chips
class SourceChips(QWidget):
    """Under an answer: how it used the documents, and one chip per source it was given."""

    sourceClicked = Signal(int)  # the source's number

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sourceChips")
        self.mode_label = QLabel()
        self.mode_label.setObjectName("sourcesMode")
        self._chips_box = QWidget()
        self._flow = FlowLayout(self._chips_box, spacing=6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.mode_label)
        layout.addWidget(self._chips_box)
        self.chips: list[QToolButton] = []
        self.sources: list[SourceRecord] = []
        self.mode = "retrieval"

    def set_sources(self, mode: str, sources: list[SourceRecord]) -> None:
        self.mode = mode
        self.sources = list(sources)
        for chip in self.chips:
            self._flow.removeWidget(chip)
            chip.deleteLater()
        self.chips = []
        self.mode_label.setText(mode_text(mode, len(sources)))
        for source in sources:
            chip = QToolButton()
            chip.setObjectName("sourceChip")
            chip.setText(chip_text(source))
            chip.setToolTip(f"{source.path}\nClick to read the passage")
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            chip.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            chip.clicked.connect(lambda _=False, n=source.number: self.sourceClicked.emit(n))
            self._flow.addWidget(chip)
            chip.show()
            self.chips.append(chip)
        self._chips_box.setVisible(bool(sources))
        self._fit()

    def _fit(self) -> None:
        self._chips_box.setFixedHeight(max(0, self._flow.heightForWidth(self._chips_box.width())))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()


# --------------------------------------------------------------- passage dialog
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_LINE_BREAK = re.compile(r"[ \t]*\n[ \t]*")


def passage_text(source: SourceRecord) -> str:
    """The passage as it reads: a PDF's lines broken mid-sentence are joined with spaces,
    its blank-line paragraph breaks kept. Other files keep their lines (lists, code)."""
    text = source.text.strip()
    if source.page is None and not source.name.lower().endswith(".pdf"):
        return text
    paragraphs = _PARAGRAPH_BREAK.split(text)
    return "\n\n".join(_LINE_BREAK.sub(" ", p) for p in paragraphs)


class SourcePassageDialog(QDialog):
    """The passage an answer was given: its text (selectable), file and page, and a button
    that opens the file."""

    def __init__(self, source: SourceRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.setObjectName("sourceDialog")
        self.setWindowTitle(f"Source [{source.number}] · {source.name}")
        self.resize(620, 460)
        title = QLabel(source.name)
        title.setObjectName("sourceTitle")
        title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        where: list[str] = [f"Source [{source.number}]"]
        if source.page is not None:
            where.append(f"Page {source.page}")
        if source.heading:
            where.append(f"Section: {source.heading}")
        self.where_label = QLabel(" · ".join(where))
        self.where_label.setObjectName("sourceWhere")
        self.path_label = QLabel()
        self.path_label.setObjectName("sourcePath")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setToolTip(source.path)
        self.path_label.setText(
            QFontMetrics(self.path_label.font()).elidedText(
                source.path, Qt.TextElideMode.ElideMiddle, 560
            )
        )
        self.text = QPlainTextEdit(passage_text(source))
        self.text.setObjectName("sourceText")
        self.text.setReadOnly(True)
        self.text.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.message_label = QLabel()
        self.message_label.setObjectName("sourceMessage")
        self.message_label.setWordWrap(True)
        self.message_label.hide()
        self.open_button = QPushButton("Open file")
        self.open_button.setObjectName("primary")
        self.open_button.clicked.connect(self.open_file)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message_label, 3)
        buttons.addStretch(1)  # the buttons keep their own size, right-aligned
        buttons.addWidget(close)
        buttons.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addWidget(self.where_label)
        layout.addWidget(self.path_label)
        layout.addSpacing(6)
        layout.addWidget(self.text, 1)
        layout.addSpacing(4)
        layout.addLayout(buttons)
        if not Path(source.path).is_file():
            self._missing()

    def _missing(self) -> None:
        self.message_label.setText(f"{self.source.name} is no longer at {self.source.path}.")
        self.message_label.show()
        self.open_button.setEnabled(False)

    def open_file(self) -> bool:
        if not Path(self.source.path).is_file():
            self._missing()
            return False
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(self.source.path)):
            self.message_label.setText(f"No application could open {self.source.name}.")
            self.message_label.show()
            return False
        return True


# ------------------------------------------------------------------ the panel
class DocumentRow(QFrame):
    """One file: name, kind and pages, its state (or progress), and a remove button."""

    def __init__(self, panel: DocumentsPanel, document: Document) -> None:
        super().__init__()
        self.setObjectName("documentRow")
        self.document = document
        self.name_label = QLabel()
        self.name_label.setObjectName("documentName")
        self.name_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.kind_label = QLabel()
        self.kind_label.setObjectName("documentKind")
        self.kind_label.setMinimumWidth(120)
        self.state_label = QLabel()
        self.state_label.setObjectName("documentState")
        self.state_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.progress = QProgressBar()
        self.progress.setObjectName("documentProgress")
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(110)
        self.progress.setFixedHeight(6)
        self.progress.hide()
        self.remove_button = QToolButton()
        self.remove_button.setObjectName("documentRemove")
        self.remove_button.setText("✕")
        self.remove_button.setAutoRaise(True)
        self.remove_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.remove_button.clicked.connect(lambda: panel.remove(self.document.id))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 3, 4, 3)
        layout.setSpacing(10)
        layout.addWidget(self.name_label, 3)
        layout.addWidget(self.kind_label, 0)
        layout.addWidget(self.progress)
        layout.addWidget(self.state_label, 4)
        layout.addWidget(self.remove_button)
        self._name = document.name
        self.show_document(document, None, collection=None)

    def show_document(
        self,
        document: Document,
        progress: IndexProgress | None,
        *,
        collection: str | None,
        embedding: EmbedMeter | None = None,
        vectors: VectorState | None = None,
    ) -> None:
        """Show the document's state: indexing with its progress, failed with why, or ready,
        and then whether it is still being embedded (passages, rate, time left) or waits
        for it, when an embedding model is chosen."""
        self.document = document
        self._name = document.name
        self._elide_name()
        self.name_label.setToolTip(document.path)
        self.kind_label.setText(kind_text(document))
        status: str = document.status
        error = ""
        if progress is not None:
            status = progress.status if progress.status != "ready" else status
        if status == "failed":
            error = document.error or (progress.error if progress else "") or "Failed"
            state = f"Failed: {error}"
        elif status == "ready":
            state = "Ready" + (f" · in {collection}" if collection else "")
            if embedding is not None:
                state += f" · embedding {embedding.text(unit=False)}"
            elif vectors is not None and not vectors.complete and vectors.passages:
                state += " · by keywords until embedded"
        elif status == "indexing":
            state = "Indexing…"
            if progress is not None and progress.total:
                percent = round(100 * progress.done / progress.total)
                state = f"Indexing… {percent}%"
        else:
            state = "Queued"
        self.state = status
        self.state_label.setText(state)
        tip = error or state
        if status == "ready" and embedding is not None:
            tip = f"Found by keywords now, by meaning once embedded: {embedding.text()}"
        self.state_label.setToolTip(tip)
        self.state_label.setProperty("state", status)
        repolish(self.state_label)
        indexing = status == "indexing"
        self.progress.setVisible(indexing or (status == "ready" and embedding is not None))
        if status == "ready" and embedding is not None and embedding.total:
            self.progress.setRange(0, 100)
            self.progress.setValue(round(100 * embedding.done / embedding.total))
        if indexing:
            if progress is not None and progress.total:
                self.progress.setRange(0, 100)
                self.progress.setValue(round(100 * progress.done / progress.total))
            else:
                self.progress.setRange(0, 0)  # busy until the first batch says how far
        in_collection = collection is not None
        self.remove_button.setVisible(not in_collection)
        self.remove_button.setToolTip(
            "Stop indexing and remove this file" if status in ("queued", "indexing")
            else "Remove this file from the chat"
        )  # fmt: skip

    def _elide_name(self) -> None:
        metrics = QFontMetrics(self.name_label.font())
        width = max(40, self.name_label.width())
        self.name_label.setText(metrics.elidedText(self._name, Qt.TextElideMode.ElideMiddle, width))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide_name()


class DocumentsPanel(QFrame):
    """The chat's documents: a header (count, the last answer's mode, add buttons,
    collections), one row per file, and problems in words. Hidden while a chat has none."""

    visibilityWanted = Signal(bool)
    addRequested = Signal(list)  # list[Path]: the page adds them (creating a chat if needed)

    def __init__(self, controller: DocumentsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("documentsPanel")
        self.controller = controller
        self.chat_id: int | None = None
        self.rows: dict[int, DocumentRow] = {}
        self._documents: list[Document] = []
        self._collections: list[Collection] = []
        self._problems: list[str] = []

        self.title_label = QLabel("Documents")
        self.title_label.setObjectName("documentsTitle")
        self.mode_label = ElidedLabel()
        self.mode_label.setObjectName("documentsMode")
        self.mode_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.add_files_button = self._button("Add files…", "Add documents to this chat")
        self.add_files_button.clicked.connect(self.choose_files)
        self.add_folder_button = self._button("Add folder…", "Add every document in a folder")
        self.add_folder_button.clicked.connect(self.choose_folder)
        self.collection_picker = QComboBox()
        self.collection_picker.setObjectName("collectionPicker")
        self.collection_picker.setToolTip("Give this chat the documents of a collection")
        self.collection_picker.activated.connect(self._collection_picked)
        head = QHBoxLayout()
        head.setContentsMargins(12, 6, 6, 4)
        head.setSpacing(8)
        head.addWidget(self.title_label)
        head.addWidget(self.mode_label, 1)
        head.addWidget(self.collection_picker)
        head.addWidget(self.add_folder_button)
        head.addWidget(self.add_files_button)

        self.empty_label = QLabel(
            "Drop files or folders here, or add them: PDF, Word, Markdown, text, web pages, "
            "code. Answers then draw on them and name their sources."
        )
        self.empty_label.setObjectName("documentsEmpty")
        self.empty_label.setWordWrap(True)
        self._list = QWidget()
        self._list.setObjectName("documentsList")
        self._rows_layout = QVBoxLayout(self._list)
        self._rows_layout.setContentsMargins(0, 0, 0, 0)
        self._rows_layout.setSpacing(1)
        self.list_scroll = vertical_scroll(self._list, "documentsScroll")

        self.collections_box = QWidget()
        self.collections_box.setObjectName("attachedCollections")
        self._collections_flow = FlowLayout(self.collections_box, spacing=6)
        self.collection_chips: dict[int, QToolButton] = {}

        self.problems_label = QLabel()
        self.problems_label.setObjectName("documentsProblems")
        self.problems_label.setWordWrap(True)
        self.problems_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems_label.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.setSpacing(2)
        layout.addLayout(head)
        body = QVBoxLayout()
        body.setContentsMargins(6, 0, 6, 0)
        body.setSpacing(4)
        body.addWidget(self.empty_label)
        body.addWidget(self.list_scroll)
        body.addWidget(self.collections_box)
        body.addWidget(self.problems_label)
        layout.addLayout(body)

        controller.documentsChanged.connect(self.refresh)
        controller.progress.connect(self._progress)
        controller.embedProgress.connect(self._embed_progress)
        controller.problems.connect(self.show_problems)
        controller.collectionsChanged.connect(self._refresh_collections)

    def _button(self, text: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName("documentsAdd")
        button.setToolTip(tip)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        return button

    # ------------------------------------------------------------ public API
    def set_chat(self, chat_id: int | None) -> None:
        if chat_id != self.chat_id:
            self._problems = []
            self.problems_label.hide()
            self.mode_label.clear()
        self.chat_id = chat_id
        self.refresh()

    def set_last_mode(self, mode: str | None) -> None:
        """Which way the last answer used the documents (None: no answer used them yet)."""
        self.mode_label.setText(f"· last answer: {MODE_WORDS[mode]}" if mode in MODE_WORDS else "")

    def has_content(self) -> bool:
        return bool(self._documents or self._collections)

    def documents(self) -> list[Document]:
        return list(self._documents)

    def row(self, document_id: int) -> DocumentRow | None:
        return self.rows.get(document_id)

    def refresh(self) -> None:
        """Re-read the chat's documents (one small query) and show them."""
        if self.chat_id is None:
            documents: list[Document] = []
            self._collections = []
        else:
            documents = self.controller.chat_documents(self.chat_id)
            self._collections = self.controller.chat_collections(self.chat_id)
        documents = [d for d in documents if not self.controller.is_removing(d.id)]
        self._documents = documents
        names = {c.id: c.name for c in self._collections}
        for document_id in [i for i in self.rows if i not in {d.id for d in documents}]:
            row = self.rows.pop(document_id)
            self._rows_layout.removeWidget(row)
            row.deleteLater()
        for index, document in enumerate(documents):
            existing = self.rows.get(document.id)
            if existing is None:
                row = DocumentRow(self, document)
                self.rows[document.id] = row
                self._rows_layout.insertWidget(index, row)
            else:
                row = existing
            collection = names.get(document.collection_id) if document.collection_id else None
            ready = document.status == "ready"
            row.show_document(
                document,
                self.controller.progress_of(document.id),
                collection=collection,
                embedding=self.controller.embedding_of(document.id),
                vectors=self.controller.vectors_of(document) if ready else None,
            )
        count = len(documents)
        self.title_label.setText(f"Documents · {count}" if count else "Documents")
        self.empty_label.setVisible(not documents)
        self.list_scroll.setVisible(bool(documents))
        if documents:
            row_height = max(r.sizeHint().height() for r in self.rows.values()) + 1
            self.list_scroll.setFixedHeight(row_height * min(count, ROWS_SHOWN))
        self._refresh_collections()
        self.add_files_button.setEnabled(True)

    def show_problems(self, messages: list[str]) -> None:
        """Files refused or failed since the chat was opened, newest last, in words."""
        if not messages:
            return
        self._problems += [m for m in messages if m not in self._problems]
        shown = self._problems[-3:]
        more = len(self._problems) - len(shown)
        text = "\n".join(shown) + (f"\n…and {more} more" if more > 0 else "")
        self.problems_label.setText(text)
        self.problems_label.show()
        self.visibilityWanted.emit(True)

    def remove(self, document_id: int) -> None:
        self.controller.remove(document_id)

    # ---------------------------------------------------------------- adding
    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Add documents", str(Path.home()),
            "Documents (*.pdf *.docx *.md *.markdown *.txt *.html *.htm *.csv *.rst);;"
            "All files (*)",
        )  # fmt: skip
        if paths:
            self.add_paths([Path(p) for p in paths])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Add a folder of documents", str(Path.home())
        )
        if folder:
            self.add_paths([Path(folder)])

    def add_paths(self, paths: list[Path]) -> None:
        self.addRequested.emit(paths)

    # ----------------------------------------------------------- collections
    def _refresh_collections(self) -> None:
        attached = {c.id for c in self._collections}
        picker = self.collection_picker
        picker.blockSignals(True)
        picker.clear()
        picker.addItem("Attach a collection…", None)
        for collection in self.controller.collections():
            if collection.id not in attached:
                picker.addItem(collection.name, collection.id)
        picker.addItem("New collection…", NEW_COLLECTION)
        picker.setCurrentIndex(0)
        picker.setEnabled(self.chat_id is not None)
        picker.blockSignals(False)
        for chip in self.collection_chips.values():
            self._collections_flow.removeWidget(chip)
            chip.deleteLater()
        self.collection_chips = {}
        for collection in self._collections:
            chip = QToolButton()
            chip.setObjectName("collectionChip")
            chip.setText(f"{collection.name}  ✕")
            chip.setToolTip(f"Detach the collection “{collection.name}” from this chat")
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            chip.clicked.connect(lambda _=False, c=collection.id: self.detach(c))
            self._collections_flow.addWidget(chip)
            chip.show()
            self.collection_chips[collection.id] = chip
        self.collections_box.setVisible(bool(self._collections))
        self.collections_box.setFixedHeight(
            self._collections_flow.heightForWidth(max(200, self.width() - 12))
        )

    def _collection_picked(self, index: int) -> None:
        data = self.collection_picker.itemData(index)
        if data is None or self.chat_id is None:
            return
        if data == NEW_COLLECTION:
            name, ok = QInputDialog.getText(self, "New collection", "Name of the collection:")
            if not ok or not name.strip():
                self._refresh_collections()
                return
            collection = self.controller.create_collection(name)
            if collection is None:
                return
            data = collection.id
        self.attach(int(data))

    def attach(self, collection_id: int) -> None:
        if self.chat_id is not None:
            self.controller.attach(self.chat_id, collection_id)

    def detach(self, collection_id: int) -> None:
        if self.chat_id is not None:
            self.controller.detach(self.chat_id, collection_id)

    # -------------------------------------------------------------- progress
    def _embed_progress(self, step: EmbedProgress) -> None:
        row = self.rows.get(step.document_id)
        if row is None:
            return
        names = {c.id: c.name for c in self._collections}
        document = row.document
        row.show_document(
            document,
            None,
            collection=names.get(document.collection_id) if document.collection_id else None,
            embedding=self.controller.embedding_of(document.id),
            vectors=None if step.done < step.total else self.controller.vectors_of(document),
        )

    def _progress(self, step: IndexProgress) -> None:
        row = self.rows.get(step.document_id)
        if row is None:
            return
        if step.status in ("ready", "failed"):
            return  # documentsChanged follows with the stored state
        names = {c.id: c.name for c in self._collections}
        document = row.document
        collection = names.get(document.collection_id) if document.collection_id else None
        row.show_document(document, step, collection=collection)
