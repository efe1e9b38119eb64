"""The downloads table: one row per file and revision."""

from __future__ import annotations

import pytest

from app.errors import StoreError
from app.store import Store


def test_a_download_is_one_row_per_file_and_revision(store: Store) -> None:
    first = store.upsert_download(
        "org/repo", "m.gguf", "main", "/models/m.gguf", "/models/m.gguf.part",
        total_bytes=100, sha256="ab" * 32, status="queued",
    )  # fmt: skip
    store.update_download(first.id, downloaded_bytes=40, status="paused")
    again = store.upsert_download(
        "org/repo", "m.gguf", "main", "/models/m.gguf", "/models/m.gguf.part", status="queued"
    )
    assert again.id == first.id and again.downloaded_bytes == 40
    assert store.find_download("org/repo", "m.gguf") == again
    assert [d.id for d in store.list_downloads("queued", "paused")] == [first.id]
    with pytest.raises(StoreError):
        store.update_download(first.id, colour="red")
    store.delete_download(first.id)
    assert store.list_downloads() == []
