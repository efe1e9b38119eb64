"""The desktop's handle on documents in chats: adding files and folders, indexing them on a
worker thread with per-file progress and cancel, resuming unfinished ones at start, then
queueing their embedding on the engine thread. Widgets call it and react to its signals."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.cancel import CancelToken
from app.documents.embeddings import (
    EmbedMeter,
    EmbedProgress,
    VectorState,
    embedding_key,
    embedding_model_path,
    needs_vectors,
    vector_state,
)
from app.documents.ingest import AddResult, Indexer, IndexProgress, add_paths, pending_documents
from app.errors import HearthError
from app.store import Collection, Document, Store
from ui.engine_controller import EngineController
from ui.workers import Job, WorkerThread

KIND_NAMES = {
    "pdf": "PDF",
    "docx": "Word",
    "markdown": "Markdown",
    "html": "Web page",
    "text": "Text",
    "csv": "Table",
    "code": "Code",
}


def kind_text(document: Document) -> str:
    """What a document is, in words: "PDF · 12 pages", "Markdown"."""
    kind = KIND_NAMES.get(document.kind, document.kind.upper())
    if document.pages:
        return f"{kind} · {document.pages} page{'s' if document.pages != 1 else ''}"
    return kind


class DocumentsController(QObject):
    """Documents for the documents panel and the chat page, through the store.

    Indexing (text extraction, chunking, SQLite) runs on its own worker thread, one job
    per file in the order added, so the chat stays usable; embedding goes to the
    EngineController, which owns every llama.cpp call.
    """

    documentsChanged = Signal()  # documents were added, removed, or finished
    progress = Signal(object)  # IndexProgress
    embedProgress = Signal(object)  # EmbedProgress
    notice = Signal(str)  # a short line for the status bar
    problems = Signal(list)  # list[str]: files refused or failed, in words
    collectionsChanged = Signal()

    def __init__(
        self, store: Store, engine: EngineController, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._engine = engine
        self._thread = WorkerThread("hearth-documents", self)
        self._index_jobs: dict[int, Job] = {}  # document id → its indexing job
        self._progress: dict[int, IndexProgress] = {}
        self._removing: set[int] = set()
        self._embedding: dict[int, EmbedMeter] = {}  # document id → its embedding run
        engine.embedProgress.connect(self._on_embed_progress)

    # ------------------------------------------------------------------ reads
    def chat_documents(self, chat_id: int) -> list[Document]:
        """The chat's own documents and those of its attached collections."""
        return self._store.chat_documents(chat_id)

    def collections(self) -> list[Collection]:
        return self._store.list_collections()

    def chat_collections(self, chat_id: int) -> list[Collection]:
        return self._store.chat_collections(chat_id)

    def progress_of(self, document_id: int) -> IndexProgress | None:
        """The latest progress of a document being indexed now (None when not running)."""
        return self._progress.get(document_id) if document_id in self._index_jobs else None

    def embedding_of(self, document_id: int) -> EmbedMeter | None:
        """How far the document's embedding has got (None when it is not being embedded)."""
        return self._embedding.get(document_id)

    def vectors_of(self, document: Document) -> VectorState | None:
        """Whether the document can be found by meaning yet (None: no embedding model)."""
        path = self._embedding_path()
        return vector_state(self._store, document, embedding_key(path)) if path else None

    def _on_embed_progress(self, step: EmbedProgress) -> None:
        meter = self._embedding.get(step.document_id)
        if meter is None or meter.total != step.total:
            # The first batch seen starts the clock: the rate counts from its end.
            meter = self._embedding[step.document_id] = EmbedMeter(step.total, done=step.done)
        meter.advance(step.done)
        if step.done >= step.total:
            self._embedding.pop(step.document_id, None)
        self.embedProgress.emit(step)

    def is_indexing(self, document_id: int | None = None) -> bool:
        if document_id is None:
            return bool(self._index_jobs)
        return document_id in self._index_jobs

    def is_removing(self, document_id: int) -> bool:
        return document_id in self._removing

    # ------------------------------------------------------------------ start
    def start(self) -> None:
        """Index what an earlier run left unfinished, and embed what still lacks vectors."""

        def scan(
            _token: CancelToken, _report: Callable[[Any], None]
        ) -> tuple[list[int], list[int]]:
            pending = [d.id for d in pending_documents(self._store)]
            unembedded: list[int] = []
            path = self._embedding_path()
            if path is not None:
                key = embedding_key(path)
                unembedded = [
                    d.id
                    for d in self._store.list_documents(statuses=("ready",))
                    if needs_vectors(self._store, d, key)
                ]
            return pending, unembedded

        job = Job.from_function(scan)
        job.succeeded.connect(self._resume)
        job.failed.connect(self.notice.emit)
        self._thread.submit(job)

    def _resume(self, found: tuple[list[int], list[int]]) -> None:
        pending, unembedded = found
        for document_id in pending:
            self._index(document_id)
        if pending:
            self.notice.emit(f"Indexing {len(pending)} document(s) left unfinished…")
            self.documentsChanged.emit()
        if unembedded:
            self._engine.queue_embedding(unembedded)

    # ------------------------------------------------------------------- add
    def add_paths(
        self,
        paths: Iterable[Path],
        *,
        chat_id: int | None = None,
        collection_id: int | None = None,
    ) -> None:
        """Add files (and the files inside folders) to a chat or a collection; each is
        indexed in turn. Files that cannot be added are reported in words."""
        paths = [Path(p) for p in paths]
        if not paths:
            return

        def add(_token: CancelToken, _report: Callable[[Any], None]) -> AddResult:
            return add_paths(self._store, paths, chat_id=chat_id, collection_id=collection_id)

        job = Job.from_function(add)
        job.succeeded.connect(self._added)
        job.failed.connect(self._add_failed)
        self._thread.submit(job)
        self.notice.emit(f"Adding {self._describe(paths)}…")

    @staticmethod
    def _describe(paths: list[Path]) -> str:
        return paths[0].name if len(paths) == 1 else f"{len(paths)} items"

    def _added(self, result: AddResult) -> None:
        for document in result.added:
            self._index(document.id)
        words: list[str] = []
        if result.added:
            count = len(result.added)
            words.append(f"Indexing {count} document{'s' if count != 1 else ''}")
        if result.unchanged:
            names = ", ".join(d.name for d in result.unchanged)
            words.append(f"already added: {names}")
        if result.refused:
            words.append(f"{len(result.refused)} not added")
        if not words:
            words.append("No readable documents were found there")
        self.notice.emit("; ".join(words))
        if result.refused:
            self.problems.emit([r.message for r in result.refused])
        self.documentsChanged.emit()

    def _add_failed(self, text: str) -> None:
        self.problems.emit([text])
        self.notice.emit(text)

    # ----------------------------------------------------------------- index
    def _index(self, document_id: int) -> None:
        if document_id in self._index_jobs:
            return

        def body(token: CancelToken, report: Callable[[Any], None]) -> IndexProgress | None:
            if token.cancelled:
                return None  # removed before its turn came
            document = self._store.get_document(document_id)
            report(IndexProgress(document.id, document.name, "indexing", 0, None, 0))
            last: IndexProgress | None = None
            for step in Indexer(self._store).index(document_id, cancel=token):
                report(step)
                last = step
            return last

        job = Job.from_function(body)
        job.progress.connect(self._on_progress)
        job.failed.connect(lambda text: self._index_failed(document_id, text))
        job.finished.connect(lambda: self._index_finished(document_id))
        self._index_jobs[document_id] = job
        self._thread.submit(job)

    def _on_progress(self, step: IndexProgress) -> None:
        if step.document_id in self._removing:
            return
        self._progress[step.document_id] = step
        self.progress.emit(step)
        if step.status == "failed":
            self.notice.emit(step.error or f"{step.name} could not be indexed")
            self.problems.emit([step.error or f"{step.name} could not be indexed"])
        elif step.status == "ready" and self._embedding_model_set():
            self._engine.queue_embedding([step.document_id])

    def _index_failed(self, document_id: int, text: str) -> None:
        # A bug rather than a bad file (those come as "failed" progress): mark it all the same.
        with contextlib.suppress(HearthError):
            self._store.update_document(document_id, status="failed", error=text)
        self.problems.emit([text])

    def _index_finished(self, document_id: int) -> None:
        self._index_jobs.pop(document_id, None)
        self._progress.pop(document_id, None)
        if document_id not in self._removing:
            self.documentsChanged.emit()

    def _embedding_model_set(self) -> bool:
        return bool(str(self._store.get_setting("embedding_model")).strip())

    def _embedding_path(self) -> Path | None:
        """The chosen embedding model's file (None: none chosen, or it is missing)."""
        try:
            return embedding_model_path(self._store)
        except HearthError:
            return None

    # ---------------------------------------------------------------- remove
    def remove(self, document_id: int) -> None:
        """Stop indexing the document (if it is) and remove it with its passages."""
        if document_id in self._removing:
            return
        self._removing.add(document_id)
        self._engine.forget_embedding(document_id)
        running = self._index_jobs.get(document_id)
        if running is not None:
            running.stop()  # it stops at its next batch; the removal below runs after it

        def delete(_token: CancelToken, _report: Callable[[Any], None]) -> str:
            name = self._store.get_document(document_id).name
            self._store.delete_document(document_id)
            return name

        job = Job.from_function(delete)
        job.succeeded.connect(lambda name: self.notice.emit(f"Removed {name}"))
        job.failed.connect(self.notice.emit)
        job.finished.connect(lambda: self._removed(document_id))
        self._thread.submit(job)
        self.documentsChanged.emit()

    cancel = remove  # cancelling a file's indexing removes it

    def _removed(self, document_id: int) -> None:
        self._removing.discard(document_id)
        self.documentsChanged.emit()

    # ------------------------------------------------------------ collections
    def create_collection(self, name: str) -> Collection | None:
        try:
            collection = self._store.create_collection(name)
        except HearthError as exc:
            self.notice.emit(str(exc))
            return None
        self.collectionsChanged.emit()
        return collection

    def attach(self, chat_id: int, collection_id: int) -> None:
        try:
            self._store.attach_collection(chat_id, collection_id)
        except HearthError as exc:
            self.notice.emit(str(exc))
            return
        self.collectionsChanged.emit()
        self.documentsChanged.emit()

    def detach(self, chat_id: int, collection_id: int) -> None:
        self._store.detach_collection(chat_id, collection_id)
        self.collectionsChanged.emit()
        self.documentsChanged.emit()

    # --------------------------------------------------------------- shutdown
    def shutdown_and_wait(self) -> bool:
        """Stop indexing (what was stored stays; it resumes at the next start)."""
        for job in list(self._index_jobs.values()):
            job.stop()
        return self._thread.shutdown()
