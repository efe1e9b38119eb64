"""Embedding passages and questions with a GGUF embedding model run by llama.cpp, and
keeping every document's vectors in step with the model the user chose."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.cancel import CancelToken
from app.documents.ingest import passage_context
from app.engine.engine import Engine
from app.engine.events import LoadOptions
from app.errors import HearthError, NotFoundError
from app.store import Chunk, Document, Store

log = logging.getLogger(__name__)

_BATCH = 32
# How a passage is given to the embedding model; part of the key stored with each
# document's vectors, so vectors made another way are made again.
PASSAGE_FORM = "with-headings"

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


def needs_vectors(store: Store, document: Document, key: str) -> bool:
    """Whether a ready document lacks vectors, or has vectors made another way."""
    if document.embedding_model not in (None, key):
        return True
    return bool(store.chunks_without_embedding(document.id, 1))


def embedding_model_path(store: Store) -> Path | None:
    """The embedding model the user chose (a library name or a file path), or None."""
    chosen = str(store.get_setting("embedding_model")).strip()
    if not chosen:
        return None
    try:
        return Path(store.find_model(chosen).path)
    except NotFoundError:
        path = Path(chosen).expanduser()
        if path.is_file():
            return path
        raise HearthError(
            f"The embedding model {chosen!r} is not in your library; download one from the "
            "model browser or clear the setting to search by keywords only"
        ) from None


class Embedder:
    """An embedding model loaded in its own engine (beside the chat model)."""

    def __init__(self, path: Path, *, engine: Engine | None = None) -> None:
        self.path = path
        self.name = path.name
        self.key = embedding_key(path)
        self.engine = engine or Engine(state_cache_bytes=0)
        self.query_prefix, self.passage_prefix = prefixes_for(self.name)

    def _ensure_loaded(self) -> None:
        loaded = self.engine.loaded
        if loaded is None or Path(loaded.path) != self.path:
            self.engine.load(self.path, LoadOptions(embedding=True, n_ctx=2048, n_batch=2048))

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

    def close(self) -> None:
        self.engine.close()


@dataclass(frozen=True)
class EmbedProgress:
    document_id: int
    name: str
    done: int
    total: int


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
            texts = [passage_for_embedding(document.name, c) for c in chunks]
            vectors = embedder.embed_passages(texts, cancel=cancel)
            store.set_embeddings(
                [(c.id, to_bytes(v)) for c, v in zip(chunks, vectors, strict=True)]
            )
            done += len(chunks)
            yield EmbedProgress(document.id, document.name, done, total)
