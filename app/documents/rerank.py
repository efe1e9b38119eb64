"""Reranking: a cross-encoder (a GGUF reranker run with llama.cpp's rank pooling) reads the
question with each passage search found and puts the best first."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.cancel import CancelToken
from app.documents.side_model import SideModel, chosen_model_path, working_copies
from app.engine.engine import Engine
from app.engine.events import LoadOptions
from app.store import Store


def reranker_model_path(store: Store) -> Path | None:
    """The reranker the user chose (a library name or a file path), or None."""
    return chosen_model_path(
        store,
        "reranker_model",
        "The reranker {chosen} is not in your library; download one from the model "
        "browser or clear the reranker_model setting",
    )


class Reranker(SideModel):
    """A reranker model loaded in its own engine (beside the chat and embedding models)."""

    def scores(
        self, question: str, passages: Sequence[str], cancel: CancelToken | None = None
    ) -> list[float]:
        """How well each passage answers the question (higher is better)."""
        self._ensure_loaded(LoadOptions(embedding=True, n_ctx=512, n_batch=512))
        return self.engine.rank(question, passages, cancel=cancel)


def reranker_for(store: Store, path: Path, *, engine: Engine | None = None) -> Reranker:
    """The reranker at ``path`` as the app runs it (with its fast working copy)."""
    return Reranker(path, engine=engine, copies=working_copies(store))


def open_reranker(store: Store) -> Reranker | None:
    """The user's reranker, ready to load, or None."""
    path = reranker_model_path(store)
    return reranker_for(store, path) if path is not None else None
