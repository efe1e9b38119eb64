"""The cancel flag that long work (loads, answers, downloads, indexing) checks at each
step. Its own light module, so taking a flag never imports llama.cpp."""

from __future__ import annotations

import threading


class CancelToken:
    """Set from any thread to stop a load, a generation or a download at the next step."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled or ``timeout`` seconds pass; whether it was cancelled."""
        return self._event.wait(timeout)
