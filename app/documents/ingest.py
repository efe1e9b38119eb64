"""Adding documents to a chat or a collection and indexing them into passages, saved as it
goes so that an interrupted run continues where it stopped."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import re
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.cancel import CancelToken
from app.documents.chunking import (
    ChunkDraft,
    chunk_sections,
    document_passages,
    is_title_alone,
)
from app.documents.extract import kind_for, open_document
from app.errors import DocumentError, HearthError
from app.paths import file_sha256
from app.store import Document, Store
from app.units import format_bytes

log = logging.getLogger(__name__)

CHUNK_CHARS = 1000
CHUNK_OVERLAP = 150
_BATCH = 64  # passages stored per transaction (the resume granularity)
# A passage needs this many letters or digits to be worth finding.
MIN_WORD_CHARS = 12
_WORD_CHARS = re.compile(r"\w")


@dataclass(frozen=True)
class Refused:
    """A file that was not added, and why (the message names it)."""

    path: str
    message: str


@dataclass
class AddResult:
    """What ``add_paths`` did with each file it was given."""

    added: list[Document] = field(default_factory=list)  # new or changed: queued for indexing
    unchanged: list[Document] = field(default_factory=list)  # same content already there
    refused: list[Refused] = field(default_factory=list)


@dataclass(frozen=True)
class IndexProgress:
    """How far one document's indexing got. ``total`` is pages for a PDF, else characters;
    ``done == total`` with status "ready" or "failed" ends the document."""

    document_id: int
    name: str
    status: str
    done: int
    total: int | None
    passages: int
    error: str | None = None


def _hidden(path: Path) -> bool:
    return path.name.startswith(".") or path.name == "__pycache__"


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """The files named, and every file inside the folders named (hidden ones skipped)."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not _hidden(Path(d)))
                for name in sorted(files):
                    if not _hidden(Path(name)):
                        yield Path(root) / name
        else:
            yield path


def add_paths(
    store: Store,
    paths: Iterable[Path],
    *,
    chat_id: int | None = None,
    collection_id: int | None = None,
) -> AddResult:
    """Queue files (and the files in folders) for indexing into a chat or a collection.

    Unsupported, missing and too-large files are refused with a message naming them; a file
    already there with the same content is left alone; a changed one is indexed again.
    """
    max_bytes = int(store.get_setting("document_max_mb")) * 1_000_000
    result = AddResult()
    paths = [Path(p) for p in paths]
    explicit = {p.absolute() for p in paths if not p.is_dir()}
    for path in expand_paths(paths):
        try:
            resolved = path.resolve()
        except (RuntimeError, OSError):  # a link to itself, or a loop of links
            result.refused.append(
                Refused(str(path), f"{path.name} is a link that leads back to itself")
            )
            continue
        if path.absolute() in explicit:
            explicit.add(resolved)
        kind = kind_for(resolved)
        if kind is None:
            # Inside a dropped folder, quietly skip what Hearth cannot read (images, ...);
            # a file named on its own gets an answer.
            if resolved in explicit:
                suffix = resolved.suffix or "files without an extension"
                result.refused.append(
                    Refused(str(path), f"{path.name}: Hearth can't read {suffix} files")
                )
            continue
        try:
            size = resolved.stat().st_size
            if size > max_bytes:
                result.refused.append(
                    Refused(
                        str(path),
                        f"{path.name} is {format_bytes(size)}, over the "
                        f"{format_bytes(max_bytes)} limit for documents (a setting)",
                    )
                )
                continue
            sha = file_sha256(resolved)
        except OSError as exc:
            result.refused.append(Refused(str(path), f"{path.name} cannot be read: {exc.strerror}"))
            continue
        existing = store.find_document(str(resolved), chat_id=chat_id, collection_id=collection_id)
        if existing is None:
            document = store.add_document(
                str(resolved), resolved.name, kind, chat_id=chat_id,
                collection_id=collection_id, size_bytes=size, sha256=sha,
            )  # fmt: skip
            result.added.append(document)
        elif existing.sha256 == sha and existing.status != "failed":
            result.unchanged.append(existing)
        else:
            result.added.append(
                store.restart_document(existing.id, sha256=sha, size_bytes=size, kind=kind)
            )
    return result


def pending_documents(store: Store) -> list[Document]:
    """Documents whose indexing has not finished (queued, or cut off mid-way)."""
    return store.list_documents(statuses=("queued", "indexing"))


# ---------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------
def passage_context(document_name: str, heading: str | None) -> str:
    """What keyword search also matches a passage by: its file's name in words and its
    heading path ("dishwasher aquaclean d45 manual > Cleaning the filter")."""
    words = re.sub(r"[-_.]+", " ", Path(document_name).stem).strip()
    return f"{words} > {heading}" if heading else words


def worth_finding(drafts: Iterable[ChunkDraft]) -> Iterator[ChunkDraft]:
    """The passages worth a place in search, in order (the same every run, so that an
    interrupted run resumes by ordinal): not a title alone, not near-empty ("|", "1.",
    "hide"), not a copy of one already kept (a page's header repeated in its footer)."""
    seen: set[str] = set()
    for draft in drafts:
        if (
            is_title_alone(draft.text, draft.heading)
            or len(_WORD_CHARS.findall(draft.text)) < MIN_WORD_CHARS
        ):
            continue
        key = " ".join(draft.text.lower().split())
        if key in seen:
            continue
        seen.add(key)
        yield draft


def _chunk_record(ordinal: int, draft: ChunkDraft, document: Document) -> dict[str, object]:
    return {
        "ordinal": ordinal, "text": draft.text, "page": draft.page, "heading": draft.heading,
        "start_char": draft.start_char, "end_char": draft.end_char,
        "context": passage_context(document.name, draft.heading),
    }  # fmt: skip


@contextlib.contextmanager
def _workers_skip_main_script() -> Iterator[None]:
    """Spawned workers normally run the program's main script again first: for `hearth`
    that imports the whole CLI and llama.cpp (~0.4 s per worker, more than indexing a few
    hundred pages takes). The worker function lives in a light module, so the script is
    not needed; while workers start, __main__ does not say where it came from."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved: dict[str, Any] = {
        name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__
    }
    try:
        main.__dict__.pop("__file__", None)
        main.__dict__["__spec__"] = None
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


class Indexer:
    """Indexes queued documents into passages in the store, one batch per transaction."""

    def __init__(
        self, store: Store, *, chunk_chars: int = CHUNK_CHARS, overlap: int = CHUNK_OVERLAP
    ) -> None:
        self.store = store
        self.chunk_chars = chunk_chars
        self.overlap = overlap

    def run(
        self,
        document_ids: Iterable[int] | None = None,
        *,
        cancel: CancelToken | None = None,
        workers: int = 1,
    ) -> Iterator[IndexProgress]:
        """Index the given documents (default: every unfinished one), ``workers`` files at a
        time in separate processes when more than one."""
        if document_ids is None:
            ids = [d.id for d in pending_documents(self.store)]
        else:
            ids = list(document_ids)
        if workers > 1 and len(ids) > 1:
            yield from self._run_parallel(ids, cancel, workers)
            return
        for document_id in ids:
            if cancel is not None and cancel.cancelled:
                return
            yield from self.index(document_id, cancel=cancel)

    def index(
        self, document_id: int, *, cancel: CancelToken | None = None
    ) -> Iterator[IndexProgress]:
        """Index one document, continuing after the passages an earlier run stored."""
        document = self._prepare(document_id)
        if not isinstance(document, Document):
            if document is not None:
                yield document
            return
        try:
            source = open_document(Path(document.path), max_bytes=self._max_bytes())
            total = source.pages
            drafts = chunk_sections(source.sections(), size=self.chunk_chars, overlap=self.overlap)
            if total is None:  # progress in characters, against the file's size
                total = max(document.size_bytes or 0, 1)
            yield from self._store_passages(document, drafts, total, cancel)
        except DocumentError as exc:
            yield self._fail(document, str(exc))
        except (OSError, HearthError) as exc:
            yield self._fail(document, f"{document.name} cannot be read: {exc}")

    # ------------------------------------------------------------------
    def _max_bytes(self) -> int:
        return int(self.store.get_setting("document_max_mb")) * 1_000_000

    def _prepare(self, document_id: int) -> Document | IndexProgress | None:
        """The document marked as indexing, its failure, or None when there is nothing to do."""
        document = self.store.get_document(document_id)
        if document.status not in ("queued", "indexing"):
            return None
        path = Path(document.path)
        try:
            sha = file_sha256(path)
        except OSError:
            return self._fail(document, f"{document.name} is no longer at {path}")
        if document.sha256 is not None and sha != document.sha256:
            log.info("%s changed since it was added: indexing it from the start", path)
            document = self.store.restart_document(document.id, sha256=sha)
        # Passages stored after the last recorded progress (none, normally) are redone.
        self.store.drop_chunks_from(document.id, document.progress)
        return self.store.update_document(document.id, status="indexing", error=None)

    def _store_passages(
        self,
        document: Document,
        drafts: Iterable[ChunkDraft],
        total: int,
        cancel: CancelToken | None,
    ) -> Iterator[IndexProgress]:
        resume = document.progress
        batch: list[dict[str, object]] = []
        ordinal = -1
        passages = worth_finding(drafts)
        for ordinal, draft in enumerate(passages):
            if ordinal < resume:
                continue
            batch.append(_chunk_record(ordinal, draft, document))
            if len(batch) >= _BATCH:
                self.store.add_chunks(document.id, batch, progress=ordinal + 1)
                batch = []
                done = draft.page if draft.page is not None else draft.end_char
                yield self._progress(document, "indexing", min(done, total), total, ordinal + 1)
                if cancel is not None and cancel.cancelled:
                    return
        count = ordinal + 1
        if batch:
            self.store.add_chunks(document.id, batch, progress=count)
        if count == 0:
            yield self._fail(document, f"{document.name} has no text to index")
            return
        pages = total if document.kind == "pdf" else None
        self.store.update_document(document.id, status="ready", pages=pages, progress=count)
        yield self._progress(document, "ready", total, total, count)

    def _run_parallel(
        self, ids: list[int], cancel: CancelToken | None, workers: int
    ) -> Iterator[IndexProgress]:
        # "spawn": forking a process that runs Qt and llama.cpp threads is unsafe.
        context = multiprocessing.get_context("spawn")
        prepared: list[Document] = []
        for document_id in ids:
            document = self._prepare(document_id)
            if isinstance(document, IndexProgress):
                yield document
            elif document is not None:
                prepared.append(document)
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            jobs: list[tuple[Document, Future[tuple[int | None, list[ChunkDraft]]]]] = []
            with _workers_skip_main_script():  # workers start at the first submits
                for document in prepared:
                    future = pool.submit(
                        document_passages,
                        document.path,
                        self.chunk_chars,
                        self.overlap,
                        self._max_bytes(),
                    )
                    jobs.append((document, future))
            for document, future in jobs:
                if cancel is not None and cancel.cancelled:
                    for _, rest in jobs:
                        rest.cancel()
                    return
                try:
                    pages, drafts = future.result()
                except DocumentError as exc:
                    yield self._fail(document, str(exc))
                    continue
                except Exception as exc:  # a worker died on a hostile file
                    log.exception("indexing %s failed", document.path)
                    yield self._fail(document, f"{document.name} could not be indexed: {exc}")
                    continue
                total = pages if pages is not None else max(document.size_bytes or 0, 1)
                yield from self._store_passages(document, drafts, total, cancel)

    def _progress(
        self, document: Document, status: str, done: int, total: int, passages: int
    ) -> IndexProgress:
        return IndexProgress(document.id, document.name, status, done, total, passages)

    def _fail(self, document: Document, message: str) -> IndexProgress:
        log.warning("document %s failed: %s", document.path, message)
        self.store.update_document(document.id, status="failed", error=message)
        return IndexProgress(
            document.id, document.name, "failed", 0, None, document.progress, error=message
        )
