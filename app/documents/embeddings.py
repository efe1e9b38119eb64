"""Embedding passages and questions with a GGUF embedding model run by llama.cpp, and
keeping every document's vectors in step with the model the user chose."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.cancel import CancelToken
from app.documents.ingest import passage_context
from app.documents.side_model import SideModel, chosen_model_path, working_copies
from app.engine.engine import Engine
from app.engine.events import LoadOptions
from app.models.library import is_embedding_entry, is_reranker_entry
from app.store import Chunk, Document, ModelEntry, Store
from app.units import format_duration

log = logging.getLogger(__name__)

_BATCH = 32
# A passage is embedded in windows of about this many characters, each after the
# passage's file name and heading path, and found by its best window: small embedding
# models read a few sentences best (trained on 128 tokens), and a question in plain
# words matches the few sentences that answer it better than a whole passage
# (bench/results/retrieval_html.md).
WINDOW_CHARS = 500
# How a passage is given to the embedding model; part of the key stored with each
# document's vectors, so vectors made another way are made again.
PASSAGE_FORM = f"windows-{WINDOW_CHARS}"

# Models trained with instruction prefixes find far less without them.
_PREFIXES: tuple[tuple[str, str, str], ...] = (
    # (name contains, question prefix, passage prefix)
    ("nomic-embed", "search_query: ", "search_document: "),
    ("e5-", "query: ", "passage: "),
    ("bge-", "Represent this sentence for searching relevant passages: ", ""),
    ("mxbai-embed", "Represent this sentence for searching relevant passages: ", ""),
    ("snowflake-arctic-embed", "Represent this sentence for searching relevant passages: ", ""),
)


def prefixes_for(model_name: str) -> tuple[str, str]:
    """(question prefix, passage prefix) that the model's authors ask for."""
    lowered = model_name.lower()
    for needle, query, passage in _PREFIXES:
        if needle in lowered:
            return query, passage
    return "", ""


def to_bytes(vector: Sequence[float]) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def embedding_key(path: Path) -> str:
    """What a document's vectors are stamped with: the model file and the passage form."""
    return f"{path.name}+{PASSAGE_FORM}"


def passage_for_embedding(document_name: str, chunk: Chunk) -> str:
    """A passage as the embedding model reads it: where it is (the file's name in words and
    its heading path), then its text. "Returns None." means little alone; under
    "shelve > Shelf.close" it says what it is about."""
    return f"{passage_context(document_name, chunk.heading)}\n\n{chunk.text}"


def passage_windows(document_name: str, chunk: Chunk, size: int = WINDOW_CHARS) -> list[str]:
    """The texts a passage is embedded as: its text cut at spaces into as few windows of
    at most about ``size`` characters as it takes, of about equal length, each after the
    passage's file name and heading path (see `passage_for_embedding`)."""
    context = passage_context(document_name, chunk.heading)
    return [f"{context}\n\n{part}" for part in split_evenly(chunk.text, size)]


def split_evenly(text: str, size: int) -> list[str]:
    """``text`` in ceil(len / size) parts of about equal length, cut at whitespace."""
    text = text.strip()
    count = max(1, -(-len(text) // size))
    if count == 1:
        return [text] if text else [""]
    parts: list[str] = []
    start = 0
    for index in range(1, count):
        target = round(len(text) * index / count)
        cut = text.rfind(" ", start + 1, target + 1)
        if cut <= start:
            cut = text.find(" ", target)
        if cut <= start:
            break
        parts.append(text[start:cut].strip())
        start = cut
    parts.append(text[start:].strip())
    return [p for p in parts if p] or [text]


def needs_vectors(store: Store, document: Document, key: str) -> bool:
    """Whether a ready document lacks vectors, or has vectors made another way."""
    if document.embedding_model not in (None, key):
        return True
    return bool(store.chunks_without_embedding(document.id, 1))


def embedding_model_path(store: Store) -> Path | None:
    """The embedding model the user chose (a library name or a file path), or None."""
    return chosen_model_path(
        store,
        "embedding_model",
        "The embedding model {chosen} is not in your library; download one from the "
        "model browser or clear the setting to search by keywords only",
    )


@dataclass(frozen=True)
class VectorState:
    """How many of a document's passages can be found by meaning with the current model."""

    passages: int
    with_vectors: int
    outdated: bool  # its vectors came from another model or passage form

    @property
    def complete(self) -> bool:
        return not self.outdated and self.with_vectors == self.passages

    def label(self) -> str:
        if self.outdated:
            return "outdated"
        if self.complete:
            return "all"
        return f"{self.with_vectors:,}/{self.passages:,}"


def vector_state(store: Store, document: Document, key: str) -> VectorState:
    """Where ``document``'s vectors stand against the model stamped ``key``."""
    outdated = document.embedding_model not in (None, key)
    with_vectors = 0 if outdated else store.embedded_count(document.id)
    return VectorState(store.chunk_count([document.id]), with_vectors, outdated)


def embedder_for(store: Store, path: Path, *, engine: Engine | None = None) -> Embedder:
    """The embedding model at ``path`` as the app runs it (with its fast working copy)."""
    return Embedder(path, engine=engine, copies=working_copies(store))


def documents_needing_vectors(store: Store, key: str) -> list[Document]:
    """Ready documents whose passages lack vectors from the model stamped ``key``."""
    return [
        d for d in store.list_documents() if d.status == "ready" and needs_vectors(store, d, key)
    ]


def new_embedding_model_note(store: Store, entry: ModelEntry) -> str | None:
    """What a user who just added ``entry`` to the library should know about documents:
    whether it is now the model they are searched with, and whether the documents already
    indexed need `hearth docs index` to be found by meaning. None for a chat model."""
    if is_reranker_entry(entry):
        ranking = str(store.get_setting("reranker_model")).strip()
        if ranking == entry.name:
            return (
                f"Passages found in documents will now be ranked by {entry.name} (reranker_model)."
            )
        return (
            f"{entry.name} is a reranker. Passages are ranked by {ranking}; to use this one "
            f"instead: hearth settings set reranker_model {entry.name!r}"
        )
    if not is_embedding_entry(entry):
        return None
    chosen = str(store.get_setting("embedding_model")).strip()
    if chosen != entry.name:
        return (
            f"{entry.name} is an embedding model. Documents are searched with {chosen}; "
            f"to use this one instead: hearth settings set embedding_model {entry.name!r}"
        )
    waiting = documents_needing_vectors(store, embedding_key(Path(entry.path)))
    note = f"Documents will now be searched by meaning with {entry.name} (embedding_model)."
    if waiting:
        count = f"{len(waiting)} document{'s' if len(waiting) != 1 else ''}"
        note += f" {count} added before need vectors from it: run `hearth docs index`."
    return note


class Embedder(SideModel):
    """An embedding model loaded in its own engine (beside the chat model)."""

    def __init__(
        self, path: Path, *, engine: Engine | None = None, copies: Path | None = None
    ) -> None:
        """``copies``: a folder for the model's fast working copy; None runs the file."""
        super().__init__(path, engine=engine, copies=copies)
        self.key = embedding_key(path)
        self.query_prefix, self.passage_prefix = prefixes_for(self.name)

    def _ensure_loaded(self, options: LoadOptions | None = None) -> None:
        super()._ensure_loaded(
            options or LoadOptions(embedding=True, n_ctx=2048, n_batch=2048, flash_attn=True)
        )

    def embed_passages(
        self, texts: Sequence[str], cancel: CancelToken | None = None
    ) -> list[list[float]]:
        self._ensure_loaded()
        return self.engine.embed([self.passage_prefix + t for t in texts], cancel=cancel)

    def embed_query(self, text: str) -> np.ndarray:
        self._ensure_loaded()
        return np.asarray(self.engine.embed([self.query_prefix + text])[0], dtype=np.float32)

    def embed_texts(self, texts: Sequence[str]) -> tuple[list[list[float]], int]:
        """Texts as they are (no query or passage prefix: the local API's callers choose),
        with the number of tokens they took."""
        self._ensure_loaded()
        vectors = self.engine.embed(list(texts))
        return vectors, sum(len(self.engine.tokenize_prompt(text)) for text in texts)


@dataclass(frozen=True)
class EmbedProgress:
    document_id: int
    name: str
    done: int
    total: int


class EmbedMeter:
    """How an embedding run is going: passages done of all, the rate since the meter
    started, and the time left at that rate (the CLI's progress line, the documents panel)."""

    def __init__(self, total: int, *, done: int = 0, clock: Callable[[], float] = time.monotonic):
        self.total = total
        self.done = done
        self._clock = clock
        self._started = clock()
        self._done_at_start = done

    def advance(self, done: int) -> None:
        """Passages now done in all (not how many more)."""
        self.done = min(done, self.total)

    @property
    def rate(self) -> float | None:
        """Passages per second since the meter started; None before any was timed."""
        elapsed = self._clock() - self._started
        made = self.done - self._done_at_start
        return made / elapsed if made > 0 and elapsed > 0 else None

    @property
    def seconds_left(self) -> float | None:
        rate = self.rate
        return (self.total - self.done) / rate if rate else None

    def text(self, *, unit: bool = True) -> str:
        """ "340/1,542 passages · 12/s · 1:40 left" (the rate and time once known)."""
        parts = [f"{self.done:,}/{self.total:,}" + (" passages" if unit else "")]
        rate = self.rate
        if rate is not None:
            parts.append(f"{rate:,.0f}/s" if rate >= 10 else f"{rate:,.1f}/s")
        if self.done >= self.total:
            parts.append("done")
        elif self.seconds_left is not None:
            parts.append(f"{format_duration(self.seconds_left)} left")
        return " · ".join(parts)


def embed_documents(
    store: Store,
    embedder: Embedder,
    documents: Sequence[Document],
    *,
    cancel: CancelToken | None = None,
) -> Iterator[EmbedProgress]:
    """Give every passage of these documents a vector from ``embedder``, saved per batch
    (vectors from another model are thrown away first)."""
    for listed in documents:
        document = store.get_document(listed.id)  # the caller's copy may be stale
        if document.status not in ("ready", "indexing"):
            continue
        if document.embedding_model not in (None, embedder.key):
            store.clear_embeddings(document.id)
        store.update_document(document.id, embedding_model=embedder.key)
        total = store.chunk_count([document.id])
        done = total - len(store.chunks_without_embedding(document.id, total or 1))
        while True:
            if cancel is not None and cancel.cancelled:
                return
            chunks = store.chunks_without_embedding(document.id, _BATCH)
            if not chunks:
                break
            windows = [passage_windows(document.name, c) for c in chunks]
            vectors = embedder.embed_passages([w for ws in windows for w in ws], cancel=cancel)
            rows: list[tuple[int, bytes]] = []
            for chunk, count in zip(chunks, map(len, windows), strict=True):
                rows.append((chunk.id, b"".join(to_bytes(v) for v in vectors[:count])))
                vectors = vectors[count:]
            store.set_embeddings(rows)
            done += len(chunks)
            yield EmbedProgress(document.id, document.name, done, total)
