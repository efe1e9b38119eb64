"""The desktop's handle on models: hub search, a repository's files judged for this computer,
downloads (queued, paused, resumed), and the local library; all work off the GUI thread,
reported through signals carrying plain data."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from app.cancel import CancelToken
from app.documents.embeddings import embedding_model_path
from app.engine.gguf_file import GGUFHeader
from app.errors import HearthError
from app.models.catalog import Starter, chat_suggestions
from app.models.download_queue import DownloadQueue
from app.models.downloads import Progress
from app.models.errors import OfflineError
from app.models.files import shard_names
from app.models.fit import Fit, Machine, fit, recommend
from app.models.hub import GGUFEntry, RepoListing, SearchPage
from app.models.library import is_embedding_entry, is_reranker_entry
from app.models.services import ModelServices
from app.models.starter import first_launch_starter
from app.store import Download, ModelEntry, Store
from app.units import format_count
from ui.workers import Job, WorkerThread

T = TypeVar("T")
_RUN_END_WAIT_S = 5.0  # how long a resume waits for the previous run of a download to let go


@dataclass(frozen=True)
class FileRow:
    """One model of a repository (a file, or every shard of a split one) as judged here."""

    entry: GGUFEntry
    fit: Fit | None  # None for a vision projector
    recommended: bool


@dataclass(frozen=True)
class _JudgedRepo:
    """A repository's files judged for this computer, and where the figures come from."""

    listing: RepoListing
    rows: list[FileRow]
    about: str  # the model's shape from its header, or why the figures are estimates


def _describe_header(header: GGUFHeader, path: str) -> str:
    facts = [header.architecture or "unknown architecture"]
    if header.parameter_count:
        facts.append(f"{format_count(header.parameter_count)} parameters")
    if header.block_count:
        facts.append(f"{header.block_count} layers")
    if header.context_length:
        facts.append(f"context {header.context_length:,} tokens")
    facts.append("chat template included" if header.chat_template else "no chat template")
    return f"{', '.join(facts)} (read from the header of {path.rsplit('/', 1)[-1]})"


class ModelsController(QObject):
    """Owns the hub client, the downloader and its queue, and the library for the Models page."""

    searchResults = Signal(object)  # SearchPage
    repoLoaded = Signal(object, object, str)  # RepoListing, list[FileRow], about
    downloadUpdated = Signal(object)  # Download: queued, paused, done, failed, cancelled
    downloadProgress = Signal(object)  # Progress
    downloadFinished = Signal(int, str)  # download id, error in words ("" when none)
    libraryChanged = Signal(object)  # list[ModelEntry]
    embeddingModelChanged = Signal(str)  # the library name documents are now searched with
    failed = Signal(str)
    busy = Signal(bool)
    networkChecked = Signal(bool)  # whether the hub can be reached (offline mode: False)

    # Hand-overs from the download threads to the GUI thread.
    _progressFromThread = Signal(object)
    _finishedFromThread = Signal(int, str, object)  # id, error, Download | None
    _libraryFromThread = Signal(object)
    _networkFromThread = Signal(bool)

    def __init__(
        self,
        store: Store,
        models_dir: Path,
        *,
        offline: bool,
        retries: int = 5,
        backoff_seconds: float = 1.0,
        hub_timeout: float = 15.0,
        page_size: int = 20,
    ) -> None:
        super().__init__()
        self.store = store
        self.models_dir = Path(models_dir)
        self.offline = offline
        self.page_size = page_size
        services = ModelServices.build(
            store,
            self.models_dir,
            offline=offline,
            hub_timeout=hub_timeout,
            retries=retries,
            backoff_seconds=backoff_seconds,
            on_registered=lambda _entry: self._libraryFromThread.emit(self.store.list_models()),
        )
        self.hub, self.library, self.downloader = (
            services.hub, services.library, services.downloader,
        )  # fmt: skip
        queued = Qt.ConnectionType.QueuedConnection
        self._progressFromThread.connect(self._on_progress, queued)
        self._finishedFromThread.connect(self._on_finished, queued)
        self._libraryFromThread.connect(self._on_library, queued)
        self._networkFromThread.connect(self._on_network, queued)
        # Whether the hub answers: False in offline mode, None until checked.
        self.reachable: bool | None = False if offline else None
        self.queue = DownloadQueue(
            self.downloader,
            concurrency=2,
            on_progress=self._progressFromThread.emit,
            on_finished=self._queue_finished,
        )
        # Hub calls, download bookkeeping and library disk work each have their own
        # thread, so a slow search never holds up a pause or an import.
        self._hub_thread = WorkerThread("hearth-hub", self)
        self._download_thread = WorkerThread("hearth-downloads", self)
        self._library_thread = WorkerThread("hearth-library", self)
        self._running = 0
        self._search_seq = 0
        self._repo_seq = 0
        self._started = False
        self._closed = False

    # ---------------------------------------------------------------- start
    def start(self) -> None:
        """Show what is already there: interrupted downloads (paused) and the library scan."""
        if self._started:
            return
        self._started = True

        def pending(_token: CancelToken, _report: Callable[[Any], None]) -> list[Download]:
            rows = []
            for row in self.downloader.pending():
                if row.status == "queued":  # waiting when Hearth closed: offered, not started
                    row = self.store.update_download(row.id, status="paused")
                rows.append(row)
            return rows

        self._submit(self._download_thread, pending, self._pending_listed)
        self.refresh_library()

    def _pending_listed(self, rows: list[Download]) -> None:
        for row in rows:
            self.downloadUpdated.emit(row)

    # ---------------------------------------------------------------- hub
    def check_network(self) -> None:
        """Find out (off the GUI thread) whether the hub can be reached: ``networkChecked``."""
        if self.offline:
            self._on_network(False)
            return

        def call(_token: CancelToken, _report: Callable[[Any], None]) -> bool:
            return self.hub.reachable()

        self._submit(self._hub_thread, call, self._on_network)

    def _hub_call(self, call: Callable[[], T]) -> T:
        """On the hub thread: a hub call whose failure to connect says the hub is unreachable."""
        try:
            result = call()
        except OfflineError:
            self._networkFromThread.emit(False)
            raise
        if not getattr(result, "from_cache", True):
            self._networkFromThread.emit(True)
        return result

    def _on_network(self, reachable: bool) -> None:
        if self._closed:
            return
        changed = reachable != self.reachable
        self.reachable = reachable
        if changed or reachable is False:
            self.networkChecked.emit(reachable)

    def search(self, query: str, sort: str = "downloads", page: int = 0) -> None:
        """One page of GGUF repositories; a newer search makes older answers stale."""
        self._search_seq += 1
        seq = self._search_seq

        def call(_token: CancelToken, _report: Callable[[Any], None]) -> SearchPage:
            return self._hub_call(
                lambda: self.hub.search(query, sort=sort, page=page, page_size=self.page_size)
            )

        def done(result: SearchPage) -> None:
            if seq == self._search_seq:
                self.searchResults.emit(result)

        self._submit(self._hub_thread, call, done)

    def open_repo(self, repo_id: str) -> None:
        """A repository's files, each with its verdict here and one recommended."""
        self._repo_seq += 1
        seq = self._repo_seq

        def call(_token: CancelToken, _report: Callable[[Any], None]) -> _JudgedRepo:
            return self._judge(self._hub_call(lambda: self.hub.files(repo_id)))

        def done(view: _JudgedRepo) -> None:
            if seq == self._repo_seq:
                self.repoLoaded.emit(view.listing, view.rows, view.about)

        self._submit(self._hub_thread, call, done)

    def _judge(self, listing: RepoListing) -> _JudgedRepo:
        machine = Machine.detect()
        n_ctx = int(self.store.get_setting("context_length"))
        models = [e for e in listing.entries if not e.is_projector and e.files]
        header: GGUFHeader | None = None
        about = ""
        if models and not listing.from_cache:
            # The quantizations of a repo share their shape: one header (read with Range
            # requests, not the whole file) gives exact KV-cache and context figures.
            probe = min(models, key=lambda e: e.total_size).files[0].path
            try:
                header = self.hub.remote_header(listing.repo_id, probe, listing.revision)
                about = _describe_header(header, probe)
            except HearthError as exc:
                about = f"Memory figures are estimates: could not read a model header ({exc})"
        elif models:
            about = "Memory figures are estimates from file sizes (saved list, no header read)."
        best = recommend(listing.entries, machine, n_ctx, header=header)
        rows = [
            FileRow(
                entry,
                None
                if entry.is_projector
                else fit(entry.total_size, machine, header=header, n_ctx=n_ctx),
                best is not None and entry.name == best.name,
            )
            for entry in listing.entries
        ]
        return _JudgedRepo(listing, rows, about)

    # ---------------------------------------------------------------- downloads
    def download(self, repo_id: str, filename: str) -> None:
        """Plan and queue a file (every part of a split model); errors arrive in words."""

        def call(_token: CancelToken, report: Callable[[Any], None]) -> None:
            for name in shard_names(filename):
                row = self.downloader.plan(repo_id, name)
                report(row)
                if row.status == "done" and Path(row.dest_path).is_file():
                    if self.library.register_download(row, Path(row.dest_path)) is not None:
                        self._libraryFromThread.emit(self.store.list_models())
                elif row.status not in ("running", "verifying"):  # else: already under way
                    self._wait_until_let_go(row.id)
                    self.queue.submit(row.id)

        def failed(message: str) -> None:
            self.failed.emit(f"Couldn't download {filename}: {message}")

        self._submit(
            self._download_thread,
            call,
            None,
            on_progress=self.downloadUpdated.emit,
            on_failed=failed,
        )

    def pause(self, download_id: int) -> None:
        self._control(download_id, self.queue.pause)

    def cancel(self, download_id: int) -> None:
        self._control(download_id, self.queue.cancel)

    def resume(self, download_id: int) -> None:
        def submit(i: int) -> None:
            self._wait_until_let_go(i)
            self.store.update_download(i, status="queued", error=None)
            self.queue.submit(i)

        self._control(download_id, submit)

    def _wait_until_let_go(self, download_id: int) -> None:
        """On the downloads thread: wait until the previous run of a download has fully ended.

        A Pause stops a run at its next chunk, not at once, and the queue ignores a
        second submit of a download it still holds: a Resume right after a Pause
        would be lost.
        """
        deadline = time.monotonic() + _RUN_END_WAIT_S
        while download_id in self.queue.active() and time.monotonic() < deadline:
            time.sleep(0.01)

    def _control(self, download_id: int, action: Callable[[int], None]) -> None:
        def call(_token: CancelToken, _report: Callable[[Any], None]) -> Download:
            action(download_id)
            return self.store.get_download(download_id)

        self._submit(self._download_thread, call, self.downloadUpdated.emit)

    def _queue_finished(self, download_id: int, error: str | None) -> None:
        """On a download thread: the row as the run left it, handed to the GUI thread."""
        try:
            row: Download | None = self.store.get_download(download_id)
        except HearthError:
            row = None
        self._finishedFromThread.emit(download_id, error or "", row)

    def _on_progress(self, progress: Progress) -> None:
        if not self._closed:
            self.downloadProgress.emit(progress)

    def _on_finished(self, download_id: int, error: str, row: Download | None) -> None:
        if self._closed:
            return
        if row is not None:
            self.downloadUpdated.emit(row)
        self.downloadFinished.emit(download_id, error)

    def _on_library(self, models: list[ModelEntry]) -> None:
        if not self._closed:
            self.libraryChanged.emit(models)

    # ---------------------------------------------------------------- library
    def refresh_library(self) -> None:
        """Scan the models folders; files that can't be read are reported in words."""

        def call(_token: CancelToken, _report: Callable[[Any], None]) -> list[ModelEntry]:
            report = self.library.scan()
            first_launch_starter(self.store, self.models_dir)  # a first launch can chat at once
            if report.problems:
                self._libraryFromThread.emit(self.store.list_models())
                skipped = "; ".join(f"{Path(p).name}: {why}" for p, why in report.problems)
                count = len(report.problems)
                raise HearthError(
                    f"Hearth skipped {count} file{'s' if count > 1 else ''} it can't use "
                    f"in the models folders ({skipped})"
                )
            return self.store.list_models()

        self._submit(self._library_thread, call, self.libraryChanged.emit)

    def import_files(
        self, paths: list[Path], *, on_failed: Callable[[str], None] | None = None
    ) -> None:
        """Copy .gguf files into the models folder; each file that can't be is named, to
        ``on_failed`` when given (where the user acted), else through ``failed``."""

        def call(_token: CancelToken, _report: Callable[[Any], None]) -> list[ModelEntry]:
            problems = []
            for path in paths:
                try:
                    self.library.import_file(Path(path), "copy")
                except HearthError as exc:
                    problems.append(f"Couldn't import {Path(path).name}: {exc}")
            if problems:
                self._libraryFromThread.emit(self.store.list_models())
                raise HearthError(" ".join(problems))
            return self.store.list_models()

        self._submit(self._library_thread, call, self.libraryChanged.emit, on_failed=on_failed)

    def delete_model(self, name: str) -> None:
        """Delete a model's files (every shard) and its library entry; ``name`` or its path."""

        def call(_token: CancelToken, _report: Callable[[Any], None]) -> list[ModelEntry]:
            self.library.delete(name)
            return self.store.list_models()

        self._submit(self._library_thread, call, self.libraryChanged.emit)

    def set_model_defaults(
        self, name: str, changes: dict[str, object], chat_format: str | None
    ) -> None:
        """A model's own threads / GPU layers / context length (None: use the app setting)."""

        def call(_token: CancelToken, _report: Callable[[Any], None]) -> list[ModelEntry]:
            self.library.configure(name, changes, chat_format=chat_format)
            return self.store.list_models()

        self._submit(self._library_thread, call, self.libraryChanged.emit)

    def chat_suggestions(self) -> tuple[Starter, ...]:
        """Chat models worth suggesting on this computer (see app/catalog.py)."""
        return chat_suggestions(Machine.detect(), int(self.store.get_setting("context_length")))

    @staticmethod
    def is_embedding(entry: ModelEntry) -> bool:
        """An embedding model: it searches documents by meaning and cannot chat."""
        return is_embedding_entry(entry)

    def documents_model_path(self) -> str | None:
        """The path of the embedding model documents use, or None when none is set or found."""
        try:
            path = embedding_model_path(self.store)
        except HearthError:
            return None
        return str(path) if path is not None else None

    def use_for_documents(self, name: str) -> None:
        """Search documents by meaning with this library model (the embedding_model setting)."""

        def call(
            _token: CancelToken, _report: Callable[[Any], None]
        ) -> tuple[str, list[ModelEntry]]:
            entry = self.library.find(name)
            if not self.is_embedding(entry) or is_reranker_entry(entry):
                raise HearthError(f"{entry.name} is not an embedding model")
            self.store.set_setting("embedding_model", entry.name)
            return entry.name, self.store.list_models()

        def done(result: tuple[str, list[ModelEntry]]) -> None:
            chosen, models = result
            self.libraryChanged.emit(models)
            self.embeddingModelChanged.emit(chosen)

        self._submit(self._library_thread, call, done)

    def reveal(self, path: str | Path) -> bool:
        """Open the folder holding ``path`` in the file manager."""
        target = Path(path)
        folder = target if target.is_dir() else target.parent
        return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))

    # ---------------------------------------------------------------- plumbing
    def _submit(
        self,
        thread: WorkerThread,
        call: Callable[[CancelToken, Callable[[Any], None]], Any],
        on_success: Callable[[Any], None] | None,
        *,
        on_progress: Callable[[Any], None] | None = None,
        on_failed: Callable[[str], None] | None = None,
    ) -> Job:
        job = Job.from_function(call)
        relay = _Relay(self, on_success, on_progress, on_failed or self.failed.emit)
        queued = Qt.ConnectionType.QueuedConnection
        job.progress.connect(relay.progress, queued)
        job.succeeded.connect(relay.succeeded, queued)
        job.failed.connect(relay.failed, queued)
        job.finished.connect(relay.finished, queued)
        relay.setParent(self)
        self._set_running(+1)
        thread.submit(job)
        return job

    def _set_running(self, step: int) -> None:
        before = self._running
        self._running = max(0, self._running + step)
        if (before == 0) != (self._running == 0) and not self._closed:
            self.busy.emit(self._running > 0)

    @property
    def is_busy(self) -> bool:
        return self._running > 0

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Pause running downloads (resumable next time) and stop every thread."""
        if self._closed:
            return True
        self._closed = True
        self.queue.shutdown(timeout)
        stopped = [t.shutdown(int(timeout * 1000)) for t in self._threads()]
        return all(stopped)

    def _threads(self) -> list[WorkerThread]:
        return [self._hub_thread, self._download_thread, self._library_thread]


class _Relay(QObject):
    """Receives one job's signals on the GUI thread and calls the controller's handlers."""

    def __init__(
        self,
        owner: ModelsController,
        on_success: Callable[[Any], None] | None,
        on_progress: Callable[[Any], None] | None,
        on_failed: Callable[[str], None],
    ) -> None:
        super().__init__()
        self._owner = owner
        self._on_success = on_success
        self._on_progress = on_progress
        self._on_failed = on_failed

    def progress(self, value: object) -> None:
        if self._on_progress is not None and not self._owner._closed:
            self._on_progress(value)

    def succeeded(self, value: object) -> None:
        if self._on_success is not None and not self._owner._closed:
            self._on_success(value)

    def failed(self, message: str) -> None:
        if not self._owner._closed:
            self._on_failed(message)

    def finished(self) -> None:
        self._owner._set_running(-1)
        self.setParent(None)
        self.deleteLater()
