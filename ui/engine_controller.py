"""The desktop's handle on the engine: load, send, regenerate, edit, continue and stop,
each run as a background Job, reported through signals carrying plain data. Embedding
documents' passages runs here too (one short batch per job, only while no answer is
being written), since every llama.cpp call belongs on the one engine thread."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.api.host import ModelHost
from app.cancel import CancelToken
from app.chat.runner import ChatEvent, ChatRunner, ChatTitled, MessageSaved, SourcesUsed
from app.documents.embeddings import (
    Embedder,
    embed_documents,
    embedder_for,
    embedding_model_path,
)
from app.documents.grounding import Grounder
from app.documents.rerank import Reranker, reranker_for, reranker_model_path
from app.documents.search import Searcher
from app.engine.engine import Engine
from app.engine.events import (
    ContextTrimmed,
    ContextUsed,
    GenerationDone,
    LoadedModel,
    LoadOptions,
    TextDelta,
)
from app.engine.kv_disk import kv_disk_in
from app.errors import HearthError
from app.store import Store
from ui.workers import Job, WorkerThread

if TYPE_CHECKING:
    from app.engine.backend import ModelFacts
    from app.remote.client import RemoteEngine, RemoteModel
    from app.remote.servers import RemoteServers


def batched_text(events: Iterator[ChatEvent], interval: float = 0.05) -> Iterator[ChatEvent]:
    """Join consecutive text pieces of the same kind so at most one crosses to the GUI
    thread every ``interval`` seconds (the first at once); other events pass through in
    order, after any text held back. Context counts are thinned the same way: the newest
    one follows each batch of text."""
    pending: TextDelta | None = None
    usage: ContextUsed | None = None
    last = 0.0
    with contextlib.closing(events) as stream:  # type: ignore[type-var]
        for event in stream:
            if isinstance(event, ContextUsed):
                if pending is None and usage is None and time.monotonic() - last >= interval:
                    yield event  # the prompt's count, before any text
                else:
                    usage = event
                continue
            if isinstance(event, TextDelta):
                if pending is not None and pending.kind == event.kind:
                    pending = TextDelta(event.kind, pending.text + event.text)
                else:
                    if pending is not None:
                        yield pending
                    pending = event
                now = time.monotonic()
                if now - last >= interval:
                    yield pending
                    pending, last = None, now
                    if usage is not None:
                        yield usage
                        usage = None
                continue
            if pending is not None:
                yield pending
                pending = None
            if usage is not None:
                yield usage
                usage = None
            yield event
        if pending is not None:
            yield pending
        if usage is not None:
            yield usage


class EngineController(QObject):
    loadProgress = Signal(float)  # 0..1
    modelLoaded = Signal(object)  # LoadedModel
    loadFailed = Signal(str)
    modelUnloaded = Signal()
    messageSaved = Signal(object, object)  # Message, final
    textDelta = Signal(str, str)  # kind ("answer" | "reasoning"), text
    contextTrimmed = Signal(object)  # ContextTrimmed
    contextUsed = Signal(int, int)  # tokens of the context the answer takes so far, n_ctx
    generationDone = Signal(object)  # GenerationDone
    failed = Signal(str)
    busyChanged = Signal(bool)
    sourcesUsed = Signal(object)  # SourcesUsed
    chatTitled = Signal(int, str)  # chat id, the title its first message gave it
    embedProgress = Signal(object)  # EmbedProgress
    embeddingProblem = Signal(str)  # the embedding model cannot be used, in words
    remoteReady = Signal(object)  # RemoteModel: chats now answer with this remote model
    remoteModels = Signal(object)  # list[ServerModels]: every remote server's models

    def __init__(
        self,
        store: Store,
        engine: Engine | None = None,
        *,
        idle_unload_minutes: int = 0,
        remote_servers: RemoteServers | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine or Engine(
            kv_disk=kv_disk_in(store.path.parent, int(store.get_setting("kv_cache_disk_mb")))
        )
        self._store = store
        self.remote_servers = remote_servers
        self._remote: RemoteEngine | None = None
        self._remote_thread: WorkerThread | None = None  # asks servers, beside the engine
        self.searcher = Searcher(store)
        self.runner = ChatRunner(store, self.engine, grounder=Grounder(store, self.searcher))
        self._job: Job | None = None
        # The embedding model: built lazily on the engine thread, re-read from the setting
        # before each use (None: keyword search only).
        self._embedder: Embedder | None = None
        self._embedder_key: str | None = None
        self._reranker: Reranker | None = None
        self._reranker_key: str | None = None
        self._reranker_problem: str | None = None
        self._embedder_problem: str | None = None
        self._embed_queue: list[int] = []  # document ids whose passages need vectors
        self._embed_job: Job | None = None
        self._load_job: Job | None = None
        # The desktop's own API server serves this engine: every job here takes a turn
        # with the model in the same line as API requests, so none runs llama.cpp at once.
        self.host = ModelHost(store, engine=self.engine, desktop=True)
        # Every llama.cpp call runs on this one thread, in order.
        self._thread = WorkerThread(
            "hearth-engine", self, around=lambda: self.host.turn(always=True)
        )
        self._idle_minutes = idle_unload_minutes
        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(30_000)
        self._idle_timer.timeout.connect(self._check_idle)
        if idle_unload_minutes > 0:
            self._idle_timer.start()

    @property
    def busy(self) -> bool:
        return self._job is not None

    @property
    def loaded(self) -> LoadedModel | None:
        """The local model loaded now (None: none, or it is still loading)."""
        return self.engine.loaded

    @property
    def remote(self) -> RemoteModel | None:
        """The remote model chats answer with now (None: the local one)."""
        return self._remote.loaded if self._remote is not None else None

    @property
    def answering_with(self) -> ModelFacts | None:
        """What the next answer comes from: the remote model in use, else the loaded one."""
        return self.remote if self._remote is not None else self.engine.loaded

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes for the model answering (remote: an estimate)."""
        if self._remote is not None:
            return self._remote.count_tokens(text)
        return self.engine.count_tokens(text)

    # -------------------------------------------------------------- remote
    def _remote_worker(self) -> WorkerThread:
        if self._remote_thread is None:
            self._remote_thread = WorkerThread("hearth-remote", self)
        return self._remote_thread

    def refresh_remote_models(self) -> None:
        """Ask every remote server for its models (off the GUI thread); ``remoteModels``
        brings the answers, an unreachable server with its problem in words."""
        servers = self.remote_servers
        if servers is None or not servers.endpoints():
            self.remoteModels.emit([])
            return
        if bool(self._store.get_setting("offline")):
            self.remoteModels.emit([])
            return
        job = Job.from_function(lambda _token, _report: servers.list_models())
        job.succeeded.connect(self.remoteModels.emit)
        job.failed.connect(self.failed.emit)
        self._remote_worker().submit(job)

    def use_remote(self, reference: str) -> None:
        """Answer with ``SERVER/MODEL`` from now on (checked with the server first, off
        the GUI thread); ``remoteReady`` or ``loadFailed`` tells how it went."""
        servers = self.remote_servers
        if servers is None:
            self.loadFailed.emit("Remote servers are not available here.")
            return
        if self._job is not None:
            self.failed.emit("The model is still answering; stop it before switching.")
            return
        job = Job.from_function(lambda _token, _report: servers.engine_for(reference))
        job.succeeded.connect(self._remote_chosen)
        job.failed.connect(self.loadFailed.emit)
        self._remote_worker().submit(job)

    def _remote_chosen(self, remote: RemoteEngine) -> None:
        if self._job is not None:  # an answer started meanwhile: it keeps its backend
            self.failed.emit("The model is still answering; stop it before switching.")
            return
        self._remote = remote
        self.runner.engine = remote
        self.remoteReady.emit(remote.loaded)

    def stop_using_remote(self) -> None:
        """Back to the local model (when one is loaded)."""
        if self._remote is None or self._job is not None:
            return
        self._remote = None
        self.runner.engine = self.engine
        self.modelUnloaded.emit()

    @property
    def loading(self) -> bool:
        return self._load_job is not None

    # ---------------------------------------------------------------- load
    def load(self, path: Path, options: LoadOptions | None = None) -> None:
        def call(token: CancelToken, report: Callable[[Any], None]) -> LoadedModel:
            return self.engine.load(path, options, on_progress=report, cancel=token)

        job = Job.from_function(call)
        job.progress.connect(self.loadProgress.emit)
        job.succeeded.connect(self._local_loaded)
        job.failed.connect(self.loadFailed.emit)
        job.finished.connect(self._load_finished)
        self._load_job = job
        self._thread.submit(job)

    def _local_loaded(self, loaded: LoadedModel) -> None:
        if self._remote is not None and self._job is None:
            self._remote = None  # a local model loaded: chats answer with it again
            self.runner.engine = self.engine
        self.modelLoaded.emit(loaded)

    def _load_finished(self) -> None:
        self._load_job = None
        self._pump_embedding()

    def unload(self) -> None:
        """Free the loaded model's memory (refused while it is answering)."""
        if self._job is not None:
            self.failed.emit("The model is still answering; stop it before unloading.")
            return
        job = Job.from_function(lambda _token, _report: self.engine.unload())
        job.succeeded.connect(lambda _result: self.modelUnloaded.emit())
        job.failed.connect(self.failed.emit)
        self._thread.submit(job)

    def cancel_load(self) -> None:
        if self._load_job is not None:
            self._load_job.stop()

    # ------------------------------------------------------------ generate
    def send(self, chat_id: int, text: str) -> None:
        self._run(lambda token: self.runner.send(chat_id, text, cancel=token), chat_id)

    def regenerate(self, message_id: int) -> None:
        self._run(
            lambda token: self.runner.regenerate(message_id, cancel=token),
            self._chat_of(message_id),
        )

    def edit(self, message_id: int, text: str) -> None:
        self._run(
            lambda token: self.runner.edit(message_id, text, cancel=token),
            self._chat_of(message_id),
        )

    def continue_answer(self, message_id: int) -> None:
        self._run(
            lambda token: self.runner.continue_answer(message_id, cancel=token),
            self._chat_of(message_id),
        )

    def _chat_of(self, message_id: int) -> int | None:
        try:
            return self._store.get_message(message_id).chat_id
        except HearthError:
            return None

    def stop(self) -> None:
        """Stop the answer at the next token; what was written stays."""
        if self._job is not None:
            self._job.stop()

    def _run(
        self, make: Callable[[CancelToken], Iterator[ChatEvent]], chat_id: int | None = None
    ) -> None:
        if self._job is not None:
            self.failed.emit("The model is still answering; stop it or wait for it to finish.")
            return

        def events(token: CancelToken) -> Iterator[ChatEvent]:
            if chat_id is not None and self._store.chat_documents(chat_id):
                self._refresh_embedder()  # search by meaning when the user has a model
                self._refresh_reranker()
            return batched_text(make(token))

        job = Job.from_generator(events)
        job.progress.connect(self._dispatch)
        job.failed.connect(self.failed.emit)
        job.finished.connect(self._finished)
        self._job = job
        self.busyChanged.emit(True)
        self._thread.submit(job)

    def _dispatch(self, event: ChatEvent) -> None:
        if isinstance(event, TextDelta):
            self.textDelta.emit(event.kind, event.text)
        elif isinstance(event, MessageSaved):
            self.messageSaved.emit(event.message, event.final)
        elif isinstance(event, ContextTrimmed):
            self.contextTrimmed.emit(event)
        elif isinstance(event, ContextUsed):
            self.contextUsed.emit(event.tokens, event.n_ctx)
        elif isinstance(event, GenerationDone):
            self.generationDone.emit(event)
        elif isinstance(event, SourcesUsed):
            self.sourcesUsed.emit(event)
        elif isinstance(event, ChatTitled):
            self.chatTitled.emit(event.chat_id, event.title)

    def _finished(self) -> None:
        self._job = None
        self._report_reranker()
        self.busyChanged.emit(False)
        self._pump_embedding()

    # ----------------------------------------------------------- embeddings
    def queue_embedding(self, document_ids: list[int]) -> None:
        """Give these documents' passages vectors when the engine is free, one short batch
        per job so that a question asked meanwhile waits at most for one batch."""
        for document_id in document_ids:
            if document_id not in self._embed_queue:
                self._embed_queue.append(document_id)
        self._pump_embedding()

    def forget_embedding(self, document_id: int) -> None:
        """A removed document: no more embedding for it."""
        if document_id in self._embed_queue:
            self._embed_queue.remove(document_id)

    @property
    def embedding_pending(self) -> bool:
        return bool(self._embed_queue) or self._embed_job is not None

    def _pump_embedding(self) -> None:
        if (
            not self._embed_queue
            or self._embed_job is not None
            or self._job is not None
            or self._load_job is not None
        ):
            return
        document_id = self._embed_queue[0]

        def call(token: CancelToken, report: Callable[[Any], None]) -> bool:
            """One batch of the document; True when it has no passage left without a vector."""
            embedder = self._refresh_embedder()
            if embedder is None:
                return True
            try:
                document = self._store.get_document(document_id)
            except HearthError:
                return True  # removed meanwhile
            steps = embed_documents(self._store, embedder, [document], cancel=token)
            step = next(steps, None)  # one batch; the rest waits for the next job
            if step is None:
                return True
            report(step)
            return step.done >= step.total

        job = Job.from_function(call)
        job.progress.connect(self.embedProgress.emit)
        job.succeeded.connect(lambda done: self._embedded(document_id, bool(done)))
        job.failed.connect(lambda text: self._embed_failed(document_id, text))
        job.finished.connect(self._embed_finished)
        self._embed_job = job
        self._thread.submit(job)

    def _embedded(self, document_id: int, done: bool) -> None:
        if done:
            self.forget_embedding(document_id)
            if self._embedder is None:
                self._embed_queue.clear()  # no model: nothing in the queue can be embedded

    def _embed_failed(self, document_id: int, text: str) -> None:
        self.forget_embedding(document_id)
        self.embeddingProblem.emit(f"Passages could not be embedded: {text}")

    def _embed_finished(self) -> None:
        self._embed_job = None
        # Later, not now: a question sent in the meantime gets the engine first.
        QTimer.singleShot(0, self._pump_embedding)

    def _refresh_embedder(self) -> Embedder | None:
        """The embedding model the settings name, loaded (runs on the engine thread). A
        missing or broken one is reported once, in words; search falls back to keywords."""
        try:
            path = embedding_model_path(self._store)
        except HearthError as exc:
            self._set_embedder(None, str(exc), key=f"missing:{exc}")
            return None
        key = str(path) if path is not None else ""
        if key == self._embedder_key:
            return self._embedder
        if path is None:
            self._set_embedder(None, None, key=key)
            return None
        embedder = embedder_for(self._store, path)
        try:
            embedder.embed_query("hearth")  # loads it: a broken file fails here, not mid-answer
        except (HearthError, OSError, RuntimeError, ValueError) as exc:
            embedder.close()
            self._set_embedder(
                None,
                f"The embedding model {path.name} cannot be used ({exc}); documents are "
                "searched by keywords only",
                key=key,
            )
            return None
        self._set_embedder(embedder, None, key=key)
        return embedder

    def _refresh_reranker(self) -> None:
        """Rank passages with the reranker the user chose (engine thread): it loads at its
        first question; one that cannot be used is set aside by the searcher, in words."""
        problem: str | None = None
        try:
            path = reranker_model_path(self._store)
        except HearthError as exc:
            path, problem = None, str(exc)
        key = str(path) if path is not None else (problem or "")
        if key != self._reranker_key:
            if self._reranker is not None:
                self._reranker.close()
            self._reranker = reranker_for(self._store, path) if path is not None else None
            self._reranker_key = key
            self.searcher.reranker = self._reranker
            self.searcher.reranker_problem = problem

    def _report_reranker(self) -> None:
        problem = self.searcher.reranker_problem
        if problem is not None and problem != self._reranker_problem:
            self.embeddingProblem.emit(problem)
        self._reranker_problem = problem

    def _set_embedder(self, embedder: Embedder | None, problem: str | None, *, key: str) -> None:
        if self._embedder is not None and self._embedder is not embedder:
            self._embedder.close()
        self._embedder = embedder
        self._embedder_key = key
        self.searcher.embedder = embedder
        if problem is not None and problem != self._embedder_problem:
            self.embeddingProblem.emit(problem)
        self._embedder_problem = problem

    def shutdown_and_wait(self) -> bool:
        """Stop any answer (it is saved as stopped), free the model, end the engine thread."""
        self._idle_timer.stop()
        if self._job is not None:
            self._job.stop()
        self._embed_queue.clear()
        if self._embed_job is not None:
            self._embed_job.stop()

        def close(_token: CancelToken, _report: Callable[[Any], None]) -> None:
            if self._embedder is not None:
                self._embedder.close()
            if self._reranker is not None:
                self._reranker.close()
            self.engine.close()

        unload = Job.from_function(close)
        self._thread.submit(unload)
        if self._remote_thread is not None:
            self._remote_thread.shutdown()
        return self._thread.shutdown()

    def _check_idle(self) -> None:
        if self._job is not None or self._load_job is not None or self._embed_job is not None:
            return
        seconds = self._idle_minutes * 60
        job = Job.from_function(lambda _token, _report: self.engine.unload_if_idle(seconds))
        job.succeeded.connect(lambda unloaded: self.modelUnloaded.emit() if unloaded else None)
        self._thread.submit(job)
