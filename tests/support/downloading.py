"""Helpers for download tests: a downloader with fast retries, draining a run, waiting."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

import app.models.download_queue as download_queue
from app.cancel import CancelToken
from app.models.downloads import Downloader, Progress
from app.store import Store
from tests.support.fake_hub import FakeHub

REPO = "acme/Big-GGUF"
FILE = "big.Q4_K_M.gguf"
KEY = f"{REPO}/{FILE}"
MiB = 1 << 20


def random_bytes(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def make_downloader(store: Store, tmp_path: Path, **options: Any) -> Downloader:
    settings: dict[str, Any] = {
        "backoff_seconds": 0.001,
        "timeout": 5.0,
        "chunk_bytes": 256 * 1024,
    }
    settings.update(options)
    return Downloader(store, tmp_path / "models", **settings)


def drain(progress: Iterable[Progress], limit: int = 100_000) -> list[Progress]:
    """Every step of a run (bounded: a run that never ends fails the test)."""
    seen = []
    for step in progress:
        seen.append(step)
        assert len(seen) < limit, "the download never ended"
    return seen


def record_tokens(monkeypatch: pytest.MonkeyPatch) -> list[CancelToken]:
    """Every CancelToken the download queue makes from now on, in order (so a test can
    hold a download until it is paused, instead of hoping a sleep is long enough)."""
    made: list[CancelToken] = []

    class Recorded(CancelToken):
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    monkeypatch.setattr(download_queue, "CancelToken", Recorded)
    return made


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def resolve_ranges(hub: FakeHub, key: str = KEY) -> list[str | None]:
    return [h.get("range") for h in hub.resolve_requests(key)]
