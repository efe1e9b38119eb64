"""Models that run beside the chat model for documents (the embedding model, the
reranker): chosen by a setting, each in its own engine, loaded from a fast working copy."""

from __future__ import annotations

from pathlib import Path

from app.engine.engine import Engine
from app.engine.events import LoadOptions
from app.engine.precision import full_precision_copy
from app.errors import HearthError, NotFoundError
from app.store import Store


def working_copies(store: Store) -> Path:
    """Where these models' fast working copies live: the data home's cache."""
    return Path(store.path).parent / "cache" / "embedders"


def chosen_model_path(store: Store, setting: str, missing: str) -> Path | None:
    """The model a setting names (a library name or a file path), or None when it is
    empty; a name that is neither is refused with ``missing`` ({chosen} filled in)."""
    chosen = str(store.get_setting(setting)).strip()
    if not chosen:
        return None
    try:
        return Path(store.find_model(chosen).path)
    except NotFoundError:
        path = Path(chosen).expanduser()
        if path.is_file():
            return path
        raise HearthError(missing.format(chosen=repr(chosen))) from None


class SideModel:
    """A model loaded in its own engine, from its F32 working copy when ``copies`` is a
    folder for one (1.5 to 1.8 times as fast on CPUs: app.engine.precision)."""

    def __init__(
        self, path: Path, *, engine: Engine | None = None, copies: Path | None = None
    ) -> None:
        self.path = path
        self.name = path.name
        self.engine = engine or Engine(state_cache_bytes=0)
        self._copies = copies
        self._weights: Path | None = None  # the file loaded: the copy or the model itself

    def _ensure_loaded(self, options: LoadOptions) -> None:
        if self._weights is None:
            copy = full_precision_copy(self.path, self._copies) if self._copies else None
            self._weights = copy or self.path
        loaded = self.engine.loaded
        if loaded is None or Path(loaded.path) != self._weights:
            self.engine.load(self._weights, options)

    def close(self) -> None:
        self.engine.close()
