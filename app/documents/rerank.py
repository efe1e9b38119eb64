"""Reranking: a cross-encoder (a GGUF reranker run with llama.cpp's rank pooling) reads the
question with each passage search found and puts the best first."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.cancel import CancelToken
from app.engine.engine import Engine
from app.engine.events import LoadOptions
from app.engine.precision import full_precision_copy
from app.errors import HearthError, NotFoundError
from app.store import Store


def reranker_model_path(store: Store) -> Path | None:
    """The reranker the user chose (a library name or a file path), or None."""
    chosen = str(store.get_setting("reranker_model")).strip()
    if not chosen:
        return None
    try:
        return Path(store.find_model(chosen).path)
    except NotFoundError:
        path = Path(chosen).expanduser()
        if path.is_file():
            return path
        raise HearthError(
            f"The reranker {chosen!r} is not in your library; download one from the model "
            "browser or clear the reranker_model setting"
        ) from None


class Reranker:
    """A reranker model loaded in its own engine (beside the chat and embedding models)."""

    def __init__(
        self, path: Path, *, engine: Engine | None = None, copies: Path | None = None
    ) -> None:
        self.path = path
        self.name = path.name
        self.engine = engine or Engine(state_cache_bytes=0)
        self._copies = copies
        self._weights: Path | None = None

    def _ensure_loaded(self) -> None:
        if self._weights is None:
            copy = full_precision_copy(self.path, self._copies) if self._copies else None
            self._weights = copy or self.path
        loaded = self.engine.loaded
        if loaded is None or Path(loaded.path) != self._weights:
            self.engine.load(self._weights, LoadOptions(embedding=True, n_ctx=512, n_batch=512))

    def scores(
        self, question: str, passages: Sequence[str], cancel: CancelToken | None = None
    ) -> list[float]:
        """How well each passage answers the question (higher is better)."""
        self._ensure_loaded()
        return self.engine.rank(question, passages, cancel=cancel)

    def close(self) -> None:
        self.engine.close()


def reranker_for(store: Store, path: Path, *, engine: Engine | None = None) -> Reranker:
    """The reranker at ``path`` as the app runs it (with its fast working copy)."""
    from app.documents.embeddings import working_copies

    return Reranker(path, engine=engine, copies=working_copies(store))


def open_reranker(store: Store) -> Reranker | None:
    """The user's reranker, ready to load, or None."""
    path = reranker_model_path(store)
    return reranker_for(store, path) if path is not None else None
