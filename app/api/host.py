"""The one model the local API serves, shared fairly between requests.

A ``ModelHost`` owns an ``Engine``. Requests take turns in arrival order (one answer
at a time, as the engine allows); at most ``max_waiting`` wait, and one more is told
the queue is full (``QueueFull``, answered 503 with Retry-After). A request may name
any chat model in the library: the host loads it when it is not the one in memory.

The desktop wraps its own engine in a host with ``desktop=True``: the API then serves
only the model the user has loaded in the app (it never loads or unloads one), and the
desktop's own answers, loads and embedding jobs take the same turns, so GUI and API
work queue together in arrival order and llama.cpp never runs two of them at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from app.chat.runner import load_options_for
from app.engine.engine import Engine
from app.engine.kv_disk import kv_disk_in
from app.errors import HearthError, NotFoundError
from app.models.library import is_embedding_entry, is_reranker_entry
from app.store import ModelEntry, Store

if TYPE_CHECKING:
    from app.documents.embeddings import Embedder


class QueueFull(HearthError):
    """Too many requests are already waiting for the model."""


class UnknownModel(NotFoundError):
    """The request names a model the library does not have (or one that cannot chat)."""


class ModelNotLoaded(HearthError):
    """The desktop serves the model it has loaded, and none is."""


DESKTOP_SESSION = ("hearth-api",)  # the KV-cache key of API answers in the desktop


class ModelHost:
    def __init__(
        self,
        store: Store,
        *,
        engine: Engine | None = None,
        max_waiting: int = 16,
        desktop: bool = False,
    ) -> None:
        self.store = store
        self.engine = engine or Engine(
            kv_disk=kv_disk_in(store.path.parent, int(store.get_setting("kv_cache_disk_mb")))
        )
        self.max_waiting = max_waiting
        self.desktop = desktop
        # The desktop keeps its chats' KV caches apart from the API's (one snapshot each).
        self.session: object | None = DESKTOP_SESSION if desktop else None
        self._turn = threading.Condition()
        self._queue: list[object] = []  # tickets in arrival order; the first one runs
        self._embedder: Embedder | None = None

    def chat_models(self) -> list[ModelEntry]:
        return [m for m in self.store.list_models() if not is_embedding_entry(m)]

    def served_models(self) -> list[ModelEntry]:
        """The models a request may name: the library's chat models, or in the desktop
        the one loaded there (none while none is)."""
        if not self.desktop:
            return self.chat_models()
        loaded = self._desktop_entry()
        return [loaded] if loaded is not None else []

    def _desktop_entry(self) -> ModelEntry | None:
        loaded = self.engine.loaded
        if loaded is None:
            return None
        for entry in self.store.list_models():
            if Path(entry.path) == Path(loaded.path):
                return entry
        return ModelEntry(id=0, path=str(loaded.path), name=loaded.name, size_bytes=0)

    def _desktop_model(self, name: str | None) -> ModelEntry:
        entry = self._desktop_entry()
        if entry is None:
            raise ModelNotLoaded(
                "No model is loaded in Hearth. Load a model in the Hearth app (the desktop "
                "serves the model it has loaded), then send the request again."
            )
        if name is not None and name not in (
            entry.name, entry.path, Path(entry.path).name, Path(entry.path).stem,
        ):  # fmt: skip
            raise UnknownModel(
                f"Hearth's desktop serves the model it has loaded, {entry.name!r}, not "
                f"{name!r}. Load {name!r} in Hearth to use it, or ask for {entry.name!r}."
            )
        return entry

    def find(self, name: str) -> ModelEntry:
        if self.desktop:
            return self._desktop_model(name)
        for entry in self.chat_models():
            if name in (entry.name, entry.path, Path(entry.path).name, Path(entry.path).stem):
                return entry
        known = ", ".join(m.name for m in self.chat_models()) or "none"
        raise UnknownModel(f"There is no chat model called {name!r} here (models: {known}).")

    def default_model(self) -> ModelEntry:
        if self.desktop:
            return self._desktop_model(None)
        loaded = self.engine.loaded
        models = self.chat_models()
        for entry in models:
            if loaded is not None and Path(entry.path) == Path(loaded.path):
                return entry
        if not models:
            raise UnknownModel("The library has no chat model to serve.")
        return models[0]

    def context_length(self, entry: ModelEntry) -> int:
        """The context a request to ``entry`` gets: the loaded one's, else the settings'."""
        loaded = self.engine.loaded
        if loaded is not None and Path(loaded.path) == Path(entry.path):
            return loaded.n_ctx
        wanted = load_options_for(self.store, model=entry).n_ctx
        return min(wanted, entry.context_length) if entry.context_length else wanted

    def queued(self) -> int:
        """Requests with the model or waiting for it."""
        with self._turn:
            return len(self._queue)

    def wait_queued(self, count: int, timeout: float) -> bool:
        """Block until at least ``count`` turns are taken or waiting (a bench or a test
        lines work up this way); False when ``timeout`` seconds pass first."""
        with self._turn:
            return self._turn.wait_for(lambda: len(self._queue) >= count, timeout)

    @contextmanager
    def turn(self, *, always: bool = False) -> Iterator[None]:
        """Wait for this request's turn with the model (QueueFull when the line is full,
        unless ``always``: the desktop's own work is never turned away)."""
        ticket = object()
        with self._turn:
            if not always and len(self._queue) > self.max_waiting:
                raise QueueFull(
                    f"{len(self._queue)} requests are already waiting for the model; "
                    "try again shortly."
                )
            self._queue.append(ticket)
            self._turn.notify_all()  # for wait_queued
            self._turn.wait_for(lambda: self._queue[0] is ticket)
        try:
            yield
        finally:
            with self._turn:
                self._queue.remove(ticket)
                self._turn.notify_all()

    def ready(self, entry: ModelEntry) -> None:
        """Make ``entry`` the model in memory (call during the request's turn). The desktop
        loads nothing: the model the request was given must still be the one loaded."""
        if self.desktop:
            self._desktop_model(entry.name)
            return
        loaded = self.engine.loaded
        if loaded is not None and Path(loaded.path) == Path(entry.path):
            return
        self.engine.load(Path(entry.path), load_options_for(self.store, model=entry))

    def embedding_model(self, name: str | None) -> ModelEntry:
        """The embedding model a request names, else the one documents use."""
        models = [
            m
            for m in self.store.list_models()
            if is_embedding_entry(m) and not is_reranker_entry(m)
        ]
        wanted = name or str(self.store.get_setting("embedding_model") or "")
        for entry in models:
            if not wanted or wanted in (entry.name, Path(entry.path).name, Path(entry.path).stem):
                return entry
        known = ", ".join(m.name for m in models) or "none"
        raise UnknownModel(
            f"There is no embedding model called {wanted!r} here (embedding models: {known})."
            if wanted
            else "The library has no embedding model (import one, e.g. bge-small or nomic-embed)."
        )

    def embed(self, entry: ModelEntry, texts: list[str]) -> tuple[list[list[float]], int]:
        """Vectors for ``texts`` and the tokens they took (call during the request's turn)."""
        from app.documents.embeddings import embedder_for

        if self._embedder is None or self._embedder.path != Path(entry.path):
            if self._embedder is not None:
                self._embedder.close()
            self._embedder = embedder_for(self.store, Path(entry.path))
        return self._embedder.embed_texts(texts)

    def close(self) -> None:
        """Free the models (the desktop's engine is the desktop's to close)."""
        if not self.desktop:
            self.engine.close()
        if self._embedder is not None:
            self._embedder.close()
