"""Chats' KV state on disk, so a chat reopens warm after the app restarts.

After an answer, the engine hands the chat's state (llama.cpp's state bytes and the
tokens they hold) to ``KVDisk``, which writes it on a background thread into
``<home>/cache/kv/``. When a chat is next answered and its state is not in memory, the
engine loads it from here instead of evaluating the whole history again.

- **Keyed by what the state depends on:** the model file (path, size, modification
  time), the load settings that shape the cache (context length, batch, flash
  attention, GPU layers) and the llama.cpp build; a different model or setting never
  finds another's state. The history itself needs no key: llama.cpp reuses only the
  longest prefix of the saved tokens that the new prompt starts with, so an edited
  history reuses what still matches and evaluates the rest.
- **Never trusted when damaged:** each file carries a SHA-256 of its contents; a file
  that does not match (or cannot be read) is deleted and the prompt is evaluated.
- **Bounded:** the files together stay under a byte budget (the ``kv_cache_disk_mb``
  setting); the least recently used go first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import struct
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

_MAGIC = b"HEARTHKV"
_VERSION = 1
_HEADER = struct.Struct("<8sIQQ32s")  # magic, version, token count, state bytes, sha256


@dataclass(frozen=True)
class SavedState:
    tokens: npt.NDArray[np.intc]  # the tokens the state holds, in order
    state: bytes  # llama_state_get_data's bytes


def model_identity(path: Path, **shape: object) -> str:
    """What a saved state depends on besides the tokens: the file as it is now and the
    settings that shape the cache (``shape``), with the llama.cpp build."""
    import llama_cpp

    info = path.stat()
    facts = {"path": str(path.resolve()), "size": info.st_size, "mtime": info.st_mtime_ns,
             "llama_cpp": llama_cpp.__version__}  # fmt: skip
    facts.update({name: repr(value) for name, value in shape.items()})
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


class KVDisk:
    """Saved chat states in ``folder``, at most ``budget_bytes`` of them. Thread-safe."""

    def __init__(self, folder: Path, budget_bytes: int) -> None:
        self.folder = folder
        self.budget_bytes = budget_bytes
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._pending: dict[Path, SavedState] = {}

    def path_for(self, model_id: str, session: Hashable) -> Path:
        name = hashlib.sha256(f"{model_id}\0{session!r}".encode()).hexdigest()[:40]
        return self.folder / f"{name}.kv"

    # ------------------------------------------------------------------ saving
    def save(self, model_id: str, session: Hashable, saved: SavedState) -> None:
        """Write the state in the background (the newest one per chat wins)."""
        if self.budget_bytes <= 0 or len(saved.state) > self.budget_bytes:
            return
        with self._lock:
            self._pending[self.path_for(model_id, session)] = saved
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._write_pending,
                                                name="hearth-kv-disk", daemon=True)  # fmt: skip
                self._writer.start()

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every state handed to ``save`` is on disk (tests, shutdown)."""
        writer = self._writer
        if writer is not None:
            writer.join(timeout)

    def _write_pending(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    return
                path, saved = self._pending.popitem()
            try:
                self._write(path, saved)
                self._evict()
            except OSError as exc:  # a full disk costs a warm start, nothing else
                log.warning("could not save a chat's state to %s: %s", path, exc)

    def _write(self, path: Path, saved: SavedState) -> None:
        tokens = np.ascontiguousarray(saved.tokens, dtype="<i4").tobytes()
        digest = hashlib.sha256(tokens + saved.state).digest()
        header = _HEADER.pack(_MAGIC, _VERSION, len(saved.tokens), len(saved.state), digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        with partial.open("wb") as f:
            f.write(header)
            f.write(tokens)
            f.write(saved.state)
        partial.replace(path)

    def _evict(self) -> None:
        stale = time.time() - 600
        for partial in self.folder.glob("*.part"):  # left by a process that died mid-write
            with contextlib.suppress(OSError):
                if partial.stat().st_mtime < stale:
                    partial.unlink()
        files = sorted(self.folder.glob("*.kv"), key=lambda p: p.stat().st_mtime_ns)
        total = sum(p.stat().st_size for p in files)
        while files and total > self.budget_bytes:
            oldest = files.pop(0)
            total -= oldest.stat().st_size
            oldest.unlink(missing_ok=True)

    # ----------------------------------------------------------------- loading
    def load(self, model_id: str, session: Hashable) -> SavedState | None:
        """The chat's saved state, or None (none saved, or damaged: then it is deleted)."""
        path = self.path_for(model_id, session)
        with self._lock:
            pending = self._pending.get(path)
        if pending is not None:
            return pending
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("could not read the saved state %s: %s", path, exc)
            return None
        saved = _decode(data)
        if saved is None:
            log.warning("the saved state %s is damaged; evaluating the chat instead", path)
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        return saved

    def forget(self, model_id: str, session: Hashable) -> None:
        path = self.path_for(model_id, session)
        with self._lock:
            self._pending.pop(path, None)
        path.unlink(missing_ok=True)


def kv_disk_in(home: Path, budget_mb: int) -> KVDisk | None:
    """The data home's saved chat states (``<home>/cache/kv``), or None when turned off."""
    return KVDisk(home / "cache" / "kv", budget_mb * 1_000_000) if budget_mb > 0 else None


def _decode(data: bytes) -> SavedState | None:
    if len(data) < _HEADER.size:
        return None
    magic, version, n_tokens, n_state, digest = _HEADER.unpack_from(data)
    body = data[_HEADER.size :]
    if magic != _MAGIC or version != _VERSION or len(body) != 4 * n_tokens + n_state:
        return None
    if hashlib.sha256(body).digest() != digest:
        return None
    tokens = np.frombuffer(body[: 4 * n_tokens], dtype="<i4").astype(np.intc)
    return SavedState(tokens, body[4 * n_tokens :])
