"""The API's recent requests: one record per request answered (when, from whom, which
endpoint and model, tokens, time taken, status), the newest ``limit`` kept in memory.

Thread-safe: the server's event loop adds, any thread reads; listeners are called on
the thread that added the record (the desktop turns that into a Qt signal).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestRecord:
    at: float  # time.time() when the request arrived
    client: str  # "host:port" of the caller
    method: str
    endpoint: str  # the path, e.g. /v1/chat/completions
    model: str  # the model that answered ("" when none did)
    prompt_tokens: int
    completion_tokens: int
    duration_ms: float  # arrival to the last byte sent
    status: int

    def line(self) -> str:
        """One line for a terminal log."""
        stamp = time.strftime("%H:%M:%S", time.localtime(self.at))
        tokens = (
            f" {self.prompt_tokens}+{self.completion_tokens} tokens"
            if self.prompt_tokens or self.completion_tokens
            else ""
        )
        model = f" {self.model}" if self.model else ""
        return (
            f"{stamp} {self.client} {self.method} {self.endpoint} {self.status}"
            f"{model}{tokens} {self.duration_ms:.0f} ms"
        )


class RecentRequests:
    """The last ``limit`` requests, oldest first."""

    def __init__(self, limit: int = 100) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[RequestRecord], None]] = []
        self.total = 0  # every request recorded, including those no longer kept

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)
            self.total += 1
            listeners = list(self._listeners)
        for listener in listeners:
            listener(record)

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def listen(self, listener: Callable[[RequestRecord], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unlisten(self, listener: Callable[[RequestRecord], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
